/**
 * The facts a rule can name, as schemas: each field's type and meaning. The list of fields that rule
 * files are checked against at load, and the fact table of rules/README.md, are both read from
 * here (`npm run docs:rules` writes the table; a test fails while it differs), so they cannot drift.
 */
import { type TSchema, Type } from '@sinclair/typebox'

const nullable = <T extends TSchema>(t: T, description: string) =>
  Type.Union([t, Type.Null()], { description })

const oneOf = (values: readonly string[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description === undefined ? {} : { description },
  )

const Counters = Type.Object({
  total: Type.Integer(),
  mono: Type.Optional(Type.Integer()),
  color: Type.Optional(Type.Integer()),
})

const StockItem = Type.Object({ model: Type.String(), color: Type.String(), expected: Type.Integer() })

export const deviceFact = Type.Object({
  deviceId: Type.String({ description: "the device's IDs" }),
  siteId: Type.String({ description: "the device's IDs" }),
  vendor: nullable(Type.String(), 'from the inventory, else from its birth message; `null` if unknown'),
  model: nullable(Type.String(), 'from the inventory, else from its birth message; `null` if unknown'),
  label: Type.String({
    description:
      'the service ID on its label (the device ID unless the inventory says otherwise), its office',
  }),
  location: nullable(
    Type.String(),
    'the service ID on its label (the device ID unless the inventory says otherwise), its office',
  ),
  contractActive: Type.Boolean({
    description: '`true` while its contract is `active` (or the inventory says nothing)',
  }),
  contract: oneOf(
    ['active', 'suspended', 'ended'],
    "its contract: `active`, `suspended` (unpaid) or `ended` (the inventory's older `inactive` reads `ended`)",
  ),
  wasteBoxShipsWithToner: Type.Boolean({
    description:
      "`true` when its waste box comes with the toner (Kyocera's kits): from the catalogue's profile of its vendor and model, unless the inventory says otherwise",
  }),
  tonerBottleIsWasteBox: Type.Boolean({
    description: "`true` when its model's toner bottle takes the waste (no box to order), from the catalogue",
  }),
  profile: nullable(
    oneOf(['model', 'vendor']),
    'how the catalogue (`src/catalogue/`) knew the device: `model`, `vendor` (a model it does not list), or `null`',
  ),
  stockMode: oneOf(
    ['threshold', 'spare-kit'],
    "its site's: `threshold` (order at a level) or `spare-kit` (the site keeps spares)",
  ),
  addressee: nullable(Type.String(), "its site's fleet contact, or `null`"),
  status: nullable(
    oneOf(['ready', 'printing', 'sleep', 'warning', 'stopped', 'error']),
    'the latest `status`: `ready`, `printing`, `sleep`, `warning`, `stopped`, `error`, or `null`',
  ),
  lastReadingAt: Type.String({ description: 'ISO 8601 time of its newest reading' }),
  hoursSinceLastReading: Type.Number({
    description: 'hours from its newest reading to the moment of evaluation',
  }),
  counters: nullable(Counters, 'the latest page counters `{ total, mono?, color? }`, or `null`'),
  pagesPerDay: nullable(Type.Number(), 'pages printed per day over the last month of counters, or `null`'),
})

export const tonerFact = Type.Object({
  color: Type.String({ description: 'the colour, e.g. `black`, `cyan`, `lightCyan`' }),
  level: Type.Number({ description: 'percent remaining, 0 to 100' }),
  cartridge: Type.String({ description: "the cartridge's episode id" }),
  installedAt: nullable(
    Type.String(),
    'when this cartridge was seen installed, or `null` for the one found at first contact',
  ),
  installedNow: Type.Boolean({ description: '`true` at the reading that showed this cartridge installed' }),
  daysToEmpty: nullable(
    Type.Number(),
    "days until it is empty, from its own slope (first sight to now; a coarse sensor counts once it has stepped), or from `pagesPerDay` and the inventory's `yields` while the level has not moved; `null` if neither is known",
  ),
  deliveryInDays: Type.Number({
    description:
      "days until an order placed now arrives: 2 working days before 12:00 local time, 3 after, on the site's calendar",
  }),
  daysLeftAfterDelivery: nullable(Type.Number(), '`daysToEmpty` − `deliveryInDays`, or `null`'),
  replacedAtLevel: nullable(
    Type.Number(),
    'the level the previous cartridge had when it was taken out, or `null`',
  ),
  bumps: Type.Integer({ description: 'rises of 3 to 29 points on this cartridge (someone shook it)' }),
  orderedForHours: nullable(
    Type.Number(),
    "hours since this cartridge's `reorder`, while that order is not resolved; else `null`. Replaced by `workingDaysOverdue`: a rule that names it still loads, with a warning in the log and in `GET /rules`",
  ),
  expectedDelivery: nullable(
    Type.String(),
    "when this cartridge's open `reorder` is expected (its `details.expectedDelivery`, ISO 8601), or `null` without one",
  ),
  deliveryStep: nullable(
    oneOf(['ordered', 'shipped', 'delivered']),
    "the step of that order's delivery: `ordered`, `shipped` or `delivered`, or `null` without an open order",
  ),
  workingDaysOverdue: nullable(
    Type.Integer(),
    "whole working days (the site's calendar, else the support calendar) past `expectedDelivery`: `0` from the expected delivery on, `1` once the end of the next working day has passed, …; `null` before it, without an open order, or once the order is `delivered`",
  ),
})

export const wasteBoxFact = Type.Object({
  state: nullable(
    oneOf(['ok', 'nearFull', 'full']),
    '`ok`, `nearFull`, `full`, or `null` when the device reports a percentage',
  ),
  fill: nullable(Type.Number(), 'the fill percentage, or `null` when the device reports a state'),
  needsReplacing: Type.Boolean({
    description: '`true` from the first near-full report until a new box is seen',
  }),
})

export const errorFact = Type.Object({
  code: Type.String({
    description: 'the error as the device reports it; severity `critical`, `warning` or `info`',
  }),
  severity: oneOf(
    ['critical', 'warning', 'info'],
    'the error as the device reports it; severity `critical`, `warning` or `info`',
  ),
  text: nullable(
    Type.String(),
    'the error as the device reports it; severity `critical`, `warning` or `info`',
  ),
  activeForHours: Type.Number({ description: 'hours since the error became active' }),
})

export const recurrenceFact = Type.Object({
  code: Type.String({ description: 'the error code, and its severity the last time it became active' }),
  severity: oneOf(
    ['critical', 'warning', 'info'],
    'the error code, and its severity the last time it became active',
  ),
  timesInLast7Days: Type.Integer({
    description:
      'how many times it became active in the 7 days up to the moment of evaluation (a reading with the code after one without it is a new time)',
  }),
  activeNow: Type.Boolean({ description: '`true` while the code is active' }),
  firstAt: Type.String({ description: 'the first and the latest of those times, ISO 8601' }),
  lastAt: Type.String({ description: 'the first and the latest of those times, ISO 8601' }),
})

export const billingFact = Type.Object({
  period: Type.String({ description: 'the billing period owed, e.g. `2026-10`' }),
  periodStart: Type.String({ description: 'its bounds, ISO 8601' }),
  periodEnd: Type.String({ description: 'its bounds, ISO 8601' }),
  owesMeterReading: Type.Literal(true, {
    description: 'always `true`: a device that owes nothing has no `billing` subject',
  }),
})

export const siteFact = Type.Object({
  siteId: Type.String({ description: 'the site as the inventory has it (`null` where not set)' }),
  name: nullable(Type.String(), 'the site as the inventory has it (`null` where not set)'),
  customer: nullable(Type.String(), 'the site as the inventory has it (`null` where not set)'),
  stockMode: oneOf(['threshold', 'spare-kit'], '`threshold` or `spare-kit`'),
  addressee: nullable(Type.String(), "the site's fleet contact"),
})

export const stockFact = Type.Object({
  period: Type.String({ description: 'the half-year whose count is owed, e.g. `2026-H2`' }),
  periodStart: Type.String({ description: 'when it began, ISO 8601' }),
  owesCount: Type.Literal(true, {
    description: 'always `true`: a site that owes nothing has no `stock` subject',
  }),
  lastCountedAt: nullable(Type.String(), "the time of the site's last count, or `null`"),
  expectedTotal: Type.Integer({
    description: 'the spare cartridges expected on the shelf, all kinds together',
  }),
  holdsSpareStock: Type.Boolean({
    description:
      '`true` when some item is expected on the shelf (counted, or shipped and not installed since)',
  }),
  items: Type.Array(StockItem, {
    description:
      'by cartridge: `[{ model, color, expected }]`, where expected = counted last time + shipped (each `reorder`) − installed (each new cartridge seen) since',
  }),
})

export const gatewayFact = Type.Object({
  gatewayId: Type.String({ description: "the gateway's ID, from its status topic" }),
  state: Type.Literal('offline', { description: '`offline` (an online gateway has no `gateway` subject)' }),
  offlineSince: Type.String({ description: 'when the outage began, ISO 8601' }),
  offlineForHours: Type.Number({ description: 'hours from then to the moment of evaluation' }),
  devices: Type.Array(Type.String(), {
    description:
      'the devices its last online state named, or else those it published readings for since it came online',
  }),
  software: nullable(Type.String(), 'what its status said it runs, or `null`'),
})

/** Every fact, by the name rules give it. */
export const FACT_SCHEMAS = {
  device: deviceFact,
  toner: tonerFact,
  wasteBox: wasteBoxFact,
  error: errorFact,
  recurrence: recurrenceFact,
  billing: billingFact,
  site: siteFact,
  stock: stockFact,
  gateway: gatewayFact,
} as const

export type FactName = keyof typeof FACT_SCHEMAS
