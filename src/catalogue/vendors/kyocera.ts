import {
  cmykToner,
  cover,
  defineModel,
  jam,
  monoToner,
  office,
  serviceCode,
  simulated,
  source,
  wasteBox,
  wasteBoxSoldSeparately,
} from '../capabilities.ts'
import type { PrinterProfile, VendorProfile } from '../profile.ts'

/** Kyocera toner kits come with a new waste toner box: nothing to order, the box is in the kit. */
export const kyocera: VendorProfile = {
  vendor: 'Kyocera',
  aliases: ['KYOCERA Document Solutions', 'Kyocera Mita'],
  wasteBox: { shipsWithToner: true, tonerBottleIsBox: false },
}

export const kyoceraModels: PrinterProfile[] = [
  defineModel(
    kyocera,
    'ECOSYS M3145dn',
    office('A4', 45),
    monoToner(12_500),
    wasteBox(15_000),
    simulated({
      monthlyPages: 2500,
      sensorStep: 25,
      errors: [
        serviceCode('C6000', 'Fuser heater failure', 0.5, 16),
        serviceCode('C2000', 'Main drive motor failure', 0.3, 24),
        serviceCode('C0030', 'Main controller failure', 0.08, 40, 0.8),
        jam('J0501', 'Paper jam at the cassette 1 feed', 10, 10),
        cover('COVER-TOP', 'Top cover open', 5, 8),
      ],
    }),
    source(
      "Yield at 5% coverage approximates the vendor's public specification sheet (the toner kit comes with a new waste toner box); error rates and repair times are illustrative figures for simulation.",
    ),
  ),
  defineModel(
    kyocera,
    'TASKalfa 2554ci',
    office('A3', 25),
    cmykToner({ black: 25_000, cyan: 12_000, magenta: 12_000, yellow: 12_000 }),
    // The colour TASKalfa's waste box is a part of its own, unlike the ECOSYS kits.
    wasteBoxSoldSeparately(),
    wasteBox(40_000),
    simulated({
      monthlyPages: 4000,
      colorShare: 0.25,
      sensorStep: 10,
      errors: [
        serviceCode('C6000', 'Fuser heater failure', 0.6, 20),
        serviceCode('C2000', 'Main drive motor failure', 0.3, 24),
        serviceCode('C4000', 'Laser scanner motor failure', 0.25, 30),
        serviceCode('C0030', 'Main controller failure', 0.1, 48, 0.9),
        jam('J0501', 'Paper jam at the cassette 1 feed', 12, 15),
        jam('J4002', 'Paper jam in the fuser', 4, 25),
        cover('COVER-FRONT', 'Front cover open', 6, 10),
      ],
    }),
    source(
      "Yields at 5% coverage and the waste box life approximate the vendor's public specification sheet; error rates and repair times are illustrative figures for simulation.",
    ),
  ),
]
