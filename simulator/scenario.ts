/**
 * Scenario files (`simulator/scenarios/*.json`): a fleet (how many devices and sites, which models
 * in which mix), a calendar, how people behave, how often things go wrong, and scripted events.
 * One schema, checked at load; flags on the command line override the fleet size, seed and times.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { SimulatorError } from './errors.ts'

export const SCENARIOS_DIR = resolve(import.meta.dirname, 'scenarios')

const Hhmm = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' })
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })
/** An ISO 8601 instant with a zone, or a duration after the start such as `36h` or `2d`. */
const At = Type.String({ minLength: 1 })
const Range = (min: number, max: number) =>
  Type.Object({
    min: Type.Number({ minimum: min, maximum: max }),
    max: Type.Number({ minimum: min, maximum: max }),
  })

const Event = Type.Union([
  Type.Object(
    {
      type: Type.Literal('outage'),
      site: Type.Integer({ minimum: 0 }),
      at: At,
      hours: Type.Number({ exclusiveMinimum: 0 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('silence'),
      device: Type.Integer({ minimum: 0 }),
      at: At,
      hours: Type.Number({ exclusiveMinimum: 0 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('fault'),
      device: Type.Integer({ minimum: 0 }),
      at: At,
      code: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('boardSwap'), device: Type.Integer({ minimum: 0 }), at: At },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('toner'),
      device: Type.Integer({ minimum: 0 }),
      at: At,
      color: Type.String(),
      level: Type.Number({ minimum: 0, maximum: 100 }),
    },
    { additionalProperties: false },
  ),
])
export type ScenarioEvent = Static<typeof Event>

export const Scenario = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    devices: Type.Integer({ minimum: 1 }),
    sites: Type.Integer({ minimum: 1 }),
    seed: Type.Optional(Type.Integer()),
    start: Type.Optional(Type.String()),
    duration: Type.Optional(Type.String()),
    interval: Type.Optional(Type.String()),
    /** IANA zones the sites take in turn; UTC when absent. */
    timeZones: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** Model file names (without .json) and their share of the fleet. */
    models: Type.Array(Type.Object({ id: Type.String(), weight: Type.Number({ exclusiveMinimum: 0 }) }), {
      minItems: 1,
    }),
    calendar: Type.Optional(
      Type.Object(
        {
          officeHours: Type.Optional(Type.Object({ start: Hhmm, end: Hhmm })),
          /** ISO weekdays, 1 = Monday … 7 = Sunday. */
          workingDays: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }))),
          holidays: Type.Optional(Type.Array(Day)),
          busyPeriods: Type.Optional(
            Type.Array(
              Type.Object({
                from: Day,
                to: Day,
                factor: Type.Number({ exclusiveMinimum: 0 }),
                label: Type.Optional(Type.String()),
              }),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    usage: Type.Optional(
      Type.Object(
        {
          /** Spread (sigma of the logarithm) of each device's volume around its model's typical one. */
          volumeSpread: Type.Optional(Type.Number({ minimum: 0 })),
          /** Median page coverage in percent (5 = the ISO yield's), and its spread between devices. */
          coverage: Type.Optional(
            Type.Object({
              median: Type.Number({ exclusiveMinimum: 0 }),
              spread: Type.Number({ minimum: 0 }),
            }),
          ),
          /** Printing outside office hours and on days off, as a share of the office-hours rate. */
          afterHours: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          initialToner: Type.Optional(Range(0, 100)),
          initialWasteBox: Type.Optional(Range(0, 100)),
        },
        { additionalProperties: false },
      ),
    ),
    behaviour: Type.Optional(
      Type.Object(
        {
          /** Share of sites whose users take a low cartridge out and shake it. */
          shakerSites: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          /** Share of devices whose users fit a delivered cartridge at once rather than at the stop. */
          earlyReplacers: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          /** Multiplies every error rate of the models. */
          faultRateFactor: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    leadTime: Type.Optional(
      Type.Object(
        {
          /** Working days from an order placed before the cut-off hour (local site time) to delivery. */
          beforeCutoffDays: Type.Optional(Type.Integer({ minimum: 0 })),
          afterCutoffDays: Type.Optional(Type.Integer({ minimum: 0 })),
          cutoffHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 24 })),
          /** Local hour deliveries arrive on their day. */
          deliveryHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23 })),
        },
        { additionalProperties: false },
      ),
    ),
    service: Type.Optional(
      Type.Object(
        {
          /** Shortest time from a ticket to the repair, in hours. */
          minHours: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          maxHours: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          /** Spread (sigma of the logarithm) of repair times around the model's typical one. */
          spread: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    incidents: Type.Optional(
      Type.Object(
        {
          gatewayOutages: Type.Optional(
            Type.Object({
              perGatewayMonth: Type.Number({ minimum: 0 }),
              minHours: Type.Number({ exclusiveMinimum: 0 }),
              maxHours: Type.Number({ exclusiveMinimum: 0 }),
            }),
          ),
          silences: Type.Optional(
            Type.Object({
              perDeviceMonth: Type.Number({ minimum: 0 }),
              minHours: Type.Number({ exclusiveMinimum: 0 }),
              maxHours: Type.Number({ exclusiveMinimum: 0 }),
            }),
          ),
          boardSwaps: Type.Optional(Type.Object({ perDeviceMonth: Type.Number({ minimum: 0 }) })),
        },
        { additionalProperties: false },
      ),
    ),
    events: Type.Optional(Type.Array(Event)),
  },
  { additionalProperties: false },
)
export type Scenario = Static<typeof Scenario>

export function parseScenario(file: string, json: unknown): Scenario {
  const first = Value.Errors(Scenario, json).First()
  if (first)
    throw new SimulatorError('PW_ERR_SIM_SCENARIO', `${file}: ${first.path || '/'}: ${first.message}`)
  return json as Scenario
}

/** A path, or the name of a shipped scenario (`demo`, `load-10k`, `bad-week`). */
export function loadScenario(fileOrName: string): { file: string; scenario: Scenario } {
  const file = /[/\\]|\.json$/.test(fileOrName)
    ? resolve(fileOrName)
    : resolve(SCENARIOS_DIR, `${fileOrName}.json`)
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new SimulatorError(
      'PW_ERR_SIM_SCENARIO',
      `cannot read the scenario ${file}: ${(err as Error).message}`,
    )
  }
  return { file, scenario: parseScenario(file, json) }
}
