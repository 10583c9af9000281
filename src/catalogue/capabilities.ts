/**
 * The small capabilities a printer model is composed of: its toner, its waste box, its counters,
 * its office class, its simulated behaviour. A model's definition lists them; `defineModel` folds
 * them over its vendor's defaults into one profile, checked against the schema.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { configError } from '../errors.ts'
import { type ErrorSpec, PrinterProfile, type VendorProfile } from './profile.ts'

/** A draft profile that each capability fills in a part of. */
export type Draft = Partial<PrinterProfile> & { vendor: string; model: string }
export type Capability = (draft: Draft) => void

/** Black only, at this yield. */
export const monoToner =
  (blackYield: number): Capability =>
  (d) => {
    d.color = false
    d.yields = { black: blackYield }
    d.counters = { mono: true, color: false }
  }

/** Black, cyan, magenta and yellow; colour devices count mono and colour pages apart. */
export const cmykToner =
  (yields: { black: number; cyan: number; magenta: number; yellow: number }): Capability =>
  (d) => {
    d.color = true
    d.yields = { ...yields }
    d.counters = { mono: true, color: true }
  }

/** A waste box of this capacity, reported as a state or a percentage; the vendor's way of supplying it. */
export const wasteBox =
  (capacity: number, report: 'state' | 'percent' = 'state'): Capability =>
  (d) => {
    d.wasteBox = { shipsWithToner: false, tonerBottleIsBox: false, ...d.wasteBox, capacity, report }
  }

/** No waste box to report (the waste stays in the imaging unit). */
export const noWasteBox = (): Capability => (d) => {
  d.wasteBox = {
    shipsWithToner: false,
    tonerBottleIsBox: false,
    ...d.wasteBox,
    capacity: null,
    report: 'state',
  }
}

/** This model's waste box is ordered on its own, whatever the vendor usually does. */
export const wasteBoxSoldSeparately = (): Capability => (d) => {
  d.wasteBox = {
    capacity: null,
    report: 'state',
    ...d.wasteBox,
    shipsWithToner: false,
    tonerBottleIsBox: false,
  }
}

/** The page counters the device reports beside `total`. */
export const counters =
  (kinds: { mono: boolean; color: boolean }): Capability =>
  (d) => {
    d.counters = { ...kinds }
  }

/** Vendor SNMP OIDs, by what they read. */
export const snmpOids =
  (oids: Record<string, string>): Capability =>
  (d) => {
    d.snmp = { ...d.snmp, ...oids }
  }

/** Paper size and speed. */
export const office =
  (format: 'A4' | 'A3', pagesPerMinute: number): Capability =>
  (d) => {
    d.format = format
    d.pagesPerMinute = pagesPerMinute
  }

/** How a simulated printer of the model prints and fails. */
export const simulated =
  (s: { monthlyPages: number; colorShare?: number; sensorStep: number; errors: ErrorSpec[] }): Capability =>
  (d) => {
    d.simulation = {
      typicalMonthlyPages: s.monthlyPages,
      colorShare: s.colorShare ?? 0,
      sensorStep: s.sensorStep,
      errors: s.errors,
    }
  }

export const source =
  (text: string): Capability =>
  (d) => {
    d.source = text
  }

/** A service code: critical, repaired by a technician. */
export const serviceCode = (
  code: string,
  text: string,
  per100kPages: number,
  repairHours: number,
  boardSwap?: number,
): ErrorSpec => ({
  code,
  severity: 'critical',
  text,
  kind: 'service',
  per100kPages,
  repairHours,
  ...(boardSwap === undefined ? {} : { boardSwap }),
})

/** A paper jam the users clear. */
export const jam = (code: string, text: string, per100kPages: number, clearMinutes: number): ErrorSpec => ({
  code,
  severity: 'warning',
  text,
  kind: 'jam',
  per100kPages,
  clearMinutes,
})

/** A cover left open. */
export const cover = (code: string, text: string, per100kPages: number, clearMinutes: number): ErrorSpec => ({
  code,
  severity: 'warning',
  text,
  kind: 'cover',
  per100kPages,
  clearMinutes,
})

const check = TypeCompiler.Compile(PrinterProfile)

/** Folds the capabilities over the vendor's defaults; refuses a profile that misses a part, saying which. */
export function defineModel(vendor: VendorProfile, model: string, ...extend: Capability[]): PrinterProfile {
  const draft: Draft = {
    vendor: vendor.vendor,
    model,
    snmp: {},
    wasteBox: { capacity: null, report: 'state', ...vendor.wasteBox },
  }
  for (const capability of extend) capability(draft)
  if (!check.Check(draft)) {
    const e = check.Errors(draft).First()
    throw configError(`catalogue ${vendor.vendor} ${model}: at ${e?.path || '/'}: ${e?.message}`)
  }
  const profile = draft as PrinterProfile
  if (profile.color !== Object.keys(profile.yields).length > 1)
    throw configError(
      `catalogue ${vendor.vendor} ${model}: a colour model has several toners, a mono one black only`,
    )
  if (!('black' in profile.yields))
    throw configError(`catalogue ${vendor.vendor} ${model}: every model has black toner`)
  for (const [i, e] of profile.simulation.errors.entries()) {
    if (e.kind === 'service' && e.repairHours === undefined)
      throw configError(`catalogue ${vendor.vendor} ${model}: errors/${i}: a service code needs repairHours`)
    if (e.kind !== 'service' && e.clearMinutes === undefined)
      throw configError(`catalogue ${vendor.vendor} ${model}: errors/${i}: a ${e.kind} needs clearMinutes`)
  }
  return profile
}
