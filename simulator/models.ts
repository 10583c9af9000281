/**
 * Printer models as data: the simulator plays the models of the shared catalogue
 * (`src/catalogue/`), the same profiles the service's vendor facts come from. Behaviour code reads
 * these fields and never names a vendor, so a new model is a new entry in the catalogue.
 */
import { MODELS } from '../src/catalogue/catalogue.ts'
import type { ErrorSpec as CatalogueErrorSpec, PrinterProfile } from '../src/catalogue/profile.ts'

export type ErrorSpec = CatalogueErrorSpec

/** A model as the simulator plays it, flattened from its catalogue profile. */
export interface PrinterModel {
  id: string
  vendor: string
  model: string
  color: boolean
  format: 'A4' | 'A3'
  pagesPerMinute: number
  /** Pages per cartridge at 5% coverage, per colour the device reports. */
  cartridgeYield: Record<string, number>
  /** Pages at 5% coverage until the waste toner box is full; null when the device has none to report. */
  wasteBoxCapacity: number | null
  /** A new waste box comes with each black toner cartridge, and is fitted with it. */
  wasteBoxShipsWithToner: boolean
  wasteBoxReport: 'state' | 'percent'
  typicalMonthlyPages: number
  colorShare: number
  sensorStep: number
  errors: ErrorSpec[]
  source: string
}

/** `Kyocera` `TASKalfa 2554ci` → `kyocera-taskalfa-2554ci`. */
export const modelId = (p: Pick<PrinterProfile, 'vendor' | 'model'>) =>
  `${p.vendor} ${p.model}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')

export function fromProfile(p: PrinterProfile): PrinterModel {
  return {
    id: modelId(p),
    vendor: p.vendor,
    model: p.model,
    color: p.color,
    format: p.format,
    pagesPerMinute: p.pagesPerMinute,
    cartridgeYield: { ...p.yields },
    wasteBoxCapacity: p.wasteBox.capacity,
    wasteBoxShipsWithToner: p.wasteBox.shipsWithToner,
    wasteBoxReport: p.wasteBox.report,
    typicalMonthlyPages: p.simulation.typicalMonthlyPages,
    colorShare: p.simulation.colorShare,
    sensorStep: p.simulation.sensorStep,
    errors: p.simulation.errors,
    source: p.source,
  }
}

/** Every model of the catalogue, keyed by its id, in id order. */
export function loadModels(profiles: readonly PrinterProfile[] = MODELS): Map<string, PrinterModel> {
  const models = [...profiles].map(fromProfile).sort((a, b) => a.id.localeCompare(b.id))
  return new Map(models.map((m) => [m.id, m]))
}
