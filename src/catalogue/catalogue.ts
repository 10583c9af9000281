/**
 * The catalogue of printer models: every vendor and model profile, shared by the service (the
 * vendor facts its rules see) and the simulator (the printers it plays). A device's profile is
 * found from the vendor and model it announces in its birth message; the inventory overrides it.
 */
import type { PrinterProfile, VendorProfile } from './profile.ts'
import { konicaMinolta, konicaMinoltaModels } from './vendors/konica-minolta.ts'
import { kyocera, kyoceraModels } from './vendors/kyocera.ts'

export const VENDORS: readonly VendorProfile[] = [kyocera, konicaMinolta]
export const MODELS: readonly PrinterProfile[] = [...kyoceraModels, ...konicaMinoltaModels]

/** A name as devices spell it: case, spaces and punctuation aside. */
const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '')

/** The vendor a birth's vendor names (`KYOCERA Document Solutions Inc.` is Kyocera), or undefined. */
export function vendorOf(name: string | undefined): VendorProfile | undefined {
  if (name === undefined) return undefined
  const n = norm(name)
  if (n === '') return undefined
  return VENDORS.find((v) => [v.vendor, ...v.aliases].some((a) => n.startsWith(norm(a))))
}

/** What the catalogue says of a device: its model's profile, or only its vendor's, or nothing. */
export interface Profiled {
  /** `model`: the model is in the catalogue. `vendor`: only the vendor is. */
  match: 'model' | 'vendor'
  vendor: VendorProfile
  model?: PrinterProfile
  wasteBoxShipsWithToner: boolean
  tonerBottleIsWasteBox: boolean
  yields: Readonly<Record<string, number>>
}

/** The profile of a device that says it is this vendor's and model (the model may repeat the vendor). */
export function profileOf(
  vendorName: string | undefined,
  modelName: string | undefined,
): Profiled | undefined {
  // The catalogue is fixed: one lookup per vendor and model, not one per reading.
  const key = JSON.stringify([vendorName ?? null, modelName ?? null])
  if (profiles.has(key)) return profiles.get(key)
  const found = lookUp(vendorName, modelName)
  if (profiles.size < 10_000) profiles.set(key, found)
  return found
}

const profiles = new Map<string, Profiled | undefined>()

function lookUp(vendorName: string | undefined, modelName: string | undefined): Profiled | undefined {
  const vendor = vendorOf(vendorName) ?? vendorOf(modelName)
  if (!vendor) return undefined
  const m = modelName === undefined ? '' : norm(modelName)
  const model =
    m === ''
      ? undefined
      : MODELS.find(
          (p) => p.vendor === vendor.vendor && (m === norm(p.model) || m === norm(`${p.vendor}${p.model}`)),
        )
  const box = model?.wasteBox ?? vendor.wasteBox
  return {
    match: model ? 'model' : 'vendor',
    vendor,
    ...(model ? { model } : {}),
    wasteBoxShipsWithToner: box.shipsWithToner,
    tonerBottleIsWasteBox: box.tonerBottleIsBox,
    yields: model?.yields ?? {},
  }
}
