/**
 * Printer models as data: one JSON file per model in `simulator/models/`, checked against one schema
 * at load. Behaviour code reads these fields and never names a vendor, so a new model is a new file.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { DeviceError } from '../src/contract/schemas.ts'
import { SimulatorError } from './errors.ts'

export const MODELS_DIR = resolve(import.meta.dirname, 'models')

const Color = Type.String({ pattern: '^[a-z][a-zA-Z0-9]{0,31}$' })

export const ErrorSpec = Type.Composite([
  DeviceError,
  Type.Object({
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
  }),
])
export type ErrorSpec = Static<typeof ErrorSpec>

export const PrinterModel = Type.Object(
  {
    vendor: Type.String({ minLength: 1 }),
    model: Type.String({ minLength: 1 }),
    color: Type.Boolean({ description: 'true for a colour device, false for mono' }),
    format: Type.Union([Type.Literal('A4'), Type.Literal('A3')]),
    pagesPerMinute: Type.Integer({ minimum: 1 }),
    /** Pages per cartridge at 5% coverage (ISO/IEC 19752 / 19798), per colour the device reports. */
    cartridgeYield: Type.Record(Color, Type.Integer({ minimum: 100 }), { minProperties: 1 }),
    /** Pages at 5% coverage until the waste toner box is full; null when the device has none to report. */
    wasteBoxCapacity: Type.Union([Type.Integer({ minimum: 100 }), Type.Null()]),
    /** A new waste box comes in the box with each black toner cartridge, and is fitted with it. */
    wasteBoxShipsWithToner: Type.Boolean(),
    /** How the device reports its waste box: `ok`/`nearFull`/`full`, or a fill percentage. */
    wasteBoxReport: Type.Union([Type.Literal('state'), Type.Literal('percent')]),
    typicalMonthlyPages: Type.Integer({ minimum: 1 }),
    /** Typical share of colour pages (0 for mono devices). */
    colorShare: Type.Number({ minimum: 0, maximum: 1 }),
    /** The toner sensor reports in steps of this many percent (1 = fine, 10–25 = coarse). */
    sensorStep: Type.Integer({ minimum: 1, maximum: 25 }),
    errors: Type.Array(ErrorSpec),
    /** Where the figures come from: public vendor specifications, approximated. */
    source: Type.String(),
  },
  { additionalProperties: false },
)
export type PrinterModel = Static<typeof PrinterModel> & { id: string }

function fail(file: string, message: string): never {
  throw new SimulatorError('PW_ERR_SIM_MODEL', `${file}: ${message}`)
}

export function parseModel(id: string, file: string, json: unknown): PrinterModel {
  const first = Value.Errors(PrinterModel, json).First()
  if (first) fail(file, `${first.path || '/'}: ${first.message}`)
  const model = json as Static<typeof PrinterModel>
  if (model.color !== Object.keys(model.cartridgeYield).length > 1)
    fail(file, '/cartridgeYield: a colour model has several colours, a mono model has black only')
  if (!('black' in model.cartridgeYield)) fail(file, '/cartridgeYield: every model has black toner')
  for (const [i, e] of model.errors.entries()) {
    if (e.kind === 'service' && e.repairHours === undefined)
      fail(file, `/errors/${i}: a service code needs repairHours`)
    if (e.kind !== 'service' && e.clearMinutes === undefined)
      fail(file, `/errors/${i}: a ${e.kind} needs clearMinutes`)
  }
  return { ...model, id }
}

/** Every `*.json` of a folder, keyed by file name without `.json`, in name order. */
export function loadModels(dir = MODELS_DIR): Map<string, PrinterModel> {
  const models = new Map<string, PrinterModel>()
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const file = join(dir, name)
    let json: unknown
    try {
      json = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      fail(file, (err as Error).message)
    }
    models.set(name.slice(0, -'.json'.length), parseModel(name.slice(0, -5), file, json))
  }
  return models
}
