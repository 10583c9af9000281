/**
 * A printer model's profile, as data: what the service's rules need to know of a model (yields,
 * waste box, counters, vendor OIDs) and what the simulator needs to play one (speed, volume, sensor,
 * error codes). One schema; profiles are composed from capabilities (capabilities.ts).
 */
import { type Static, Type } from '@sinclair/typebox'

const Color = Type.String({ pattern: '^[a-z][a-zA-Z0-9]{0,31}$' })

export const ErrorSpec = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 64 }),
  severity: Type.Union([Type.Literal('critical'), Type.Literal('warning'), Type.Literal('info')]),
  text: Type.Optional(Type.String({ maxLength: 1024 })),
  /** service: needs a technician (critical codes); jam and cover: cleared by the users. */
  kind: Type.Union([Type.Literal('service'), Type.Literal('jam'), Type.Literal('cover')]),
  /** How often it happens, per 100,000 pages printed. */
  per100kPages: Type.Number({ minimum: 0 }),
  /** service codes: the typical time from the ticket to the repair, in hours. */
  repairHours: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** jams and covers: the typical time until a user clears it, in minutes. */
  clearMinutes: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  /** service codes: the chance that the repair swaps the main board, which resets the page counters. */
  boardSwap: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
})
export type ErrorSpec = Static<typeof ErrorSpec>

export const WasteBoxProfile = Type.Object({
  /** Pages at 5% coverage until the box is full; null when the device has none to report. */
  capacity: Type.Union([Type.Integer({ minimum: 100 }), Type.Null()]),
  /** A new waste box comes in the box with each black toner cartridge, and is fitted with it. */
  shipsWithToner: Type.Boolean(),
  /** The toner bottle is the waste box (a used bottle takes the waste): nothing to order either. */
  tonerBottleIsBox: Type.Boolean(),
  /** How the device reports its box: `ok`/`nearFull`/`full`, or a fill percentage. */
  report: Type.Union([Type.Literal('state'), Type.Literal('percent')]),
})

/** What a simulated printer of the model does: its volume, its toner sensor, its faults. */
export const SimulationProfile = Type.Object({
  typicalMonthlyPages: Type.Integer({ minimum: 1 }),
  /** Typical share of colour pages (0 for mono devices). */
  colorShare: Type.Number({ minimum: 0, maximum: 1 }),
  /** The toner sensor reports in steps of this many percent (1 = fine, 10–25 = coarse). */
  sensorStep: Type.Integer({ minimum: 1, maximum: 25 }),
  errors: Type.Array(ErrorSpec),
})

export const PrinterProfile = Type.Object(
  {
    vendor: Type.String({ minLength: 1 }),
    model: Type.String({ minLength: 1 }),
    color: Type.Boolean({ description: 'true for a colour device, false for mono' }),
    format: Type.Union([Type.Literal('A4'), Type.Literal('A3')]),
    pagesPerMinute: Type.Integer({ minimum: 1 }),
    /** Pages per cartridge at 5% coverage (ISO/IEC 19752 / 19798), per colour the device reports. */
    yields: Type.Record(Color, Type.Integer({ minimum: 100 }), { minProperties: 1 }),
    wasteBox: WasteBoxProfile,
    /** The page counters the device reports beside `total`. */
    counters: Type.Object({ mono: Type.Boolean(), color: Type.Boolean() }),
    /** Vendor SNMP OIDs beyond the Printer MIB, by what they read (none shipped yet). */
    snmp: Type.Record(Type.String(), Type.String({ pattern: '^\\d+(\\.\\d+)+$' })),
    simulation: SimulationProfile,
    /** Where the figures come from. */
    source: Type.String(),
  },
  { additionalProperties: false },
)
export type PrinterProfile = Static<typeof PrinterProfile>

/** What a vendor's devices have in common, for a model the catalogue does not list. */
export interface VendorProfile {
  vendor: string
  /** Other names the vendor's devices announce themselves by (`KYOCERA Document Solutions`). */
  aliases: readonly string[]
  wasteBox: Pick<Static<typeof WasteBoxProfile>, 'shipsWithToner' | 'tonerBottleIsBox'>
}
