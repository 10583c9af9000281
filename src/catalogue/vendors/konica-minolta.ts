import {
  cmykToner,
  cover,
  defineModel,
  jam,
  monoToner,
  noWasteBox,
  office,
  serviceCode,
  simulated,
  source,
  wasteBox,
} from '../capabilities.ts'
import type { PrinterProfile, VendorProfile } from '../profile.ts'

/** Konica Minolta's waste toner box is a consumable of its own: it is ordered when full. */
export const konicaMinolta: VendorProfile = {
  vendor: 'Konica Minolta',
  aliases: ['KONICA MINOLTA', 'Konica Minolta Business Solutions'],
  wasteBox: { shipsWithToner: false, tonerBottleIsBox: false },
}

export const konicaMinoltaModels: PrinterProfile[] = [
  defineModel(
    konicaMinolta,
    'bizhub 4050i',
    office('A4', 40),
    monoToner(20_000),
    noWasteBox(),
    simulated({
      monthlyPages: 3000,
      sensorStep: 20,
      errors: [
        serviceCode('C3425', 'Fusing unit did not warm up', 0.4, 20),
        serviceCode('C4501', 'Print head (laser) failure', 0.2, 30),
        serviceCode('CC163', 'Main board firmware storage failure', 0.08, 40, 0.85),
        jam('J1001', 'Misfeed from tray 1', 10, 10),
        cover('FRONT-DOOR', 'Front door open', 4, 8),
      ],
    }),
    source(
      "Yield at 5% coverage approximates the vendor's public specification sheet (waste toner stays in the imaging unit, so no box is reported); error rates and repair times are illustrative figures for simulation.",
    ),
  ),
  defineModel(
    konicaMinolta,
    'bizhub C300i',
    office('A3', 30),
    cmykToner({ black: 28_000, cyan: 28_000, magenta: 28_000, yellow: 28_000 }),
    wasteBox(44_000, 'percent'),
    simulated({
      monthlyPages: 5000,
      colorShare: 0.3,
      sensorStep: 10,
      errors: [
        serviceCode('C2557', 'Toner density sensor out of range (cyan)', 0.3, 24),
        serviceCode('C3425', 'Fusing unit did not warm up', 0.5, 20),
        serviceCode('C4501', 'Print head (laser) failure', 0.2, 36),
        serviceCode('CC163', 'Main board firmware storage failure', 0.08, 48, 0.85),
        jam('J1001', 'Misfeed from tray 1', 12, 12),
        jam('J3201', 'Paper jam in the fusing section', 3, 25),
        cover('FRONT-DOOR', 'Front door open', 5, 10),
      ],
    }),
    source(
      "Yields at 5% coverage and the waste box life approximate the vendor's public specification sheet; error rates and repair times are illustrative figures for simulation.",
    ),
  ),
]
