/**
 * The payload and API schemas of CONTRACT.md: one source for MQTT validation, the API's route
 * schemas and the simulator. Types are derived from the schemas, never written beside them.
 */
import { type Static, Type } from '@sinclair/typebox'
import { SiteCalendarSchema } from '../domain/calendar.ts'
import { ID_PATTERN } from './topics.ts'

export const MAX_BATCH = 1000

/**
 * robust: the contract's colour pattern, minus the names built into every JavaScript object
 * (`constructor`, `toString`, …): a colour is a key of maps all the way to the rules.
 */
export const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).filter((n) =>
  /^[a-z][a-zA-Z0-9]{0,31}$/.test(n),
)
export const COLOR_PATTERN = `^(?!(?:${PROTOTYPE_NAMES.join('|')})$)[a-z][a-zA-Z0-9]{0,31}$`

/** robust: counters and seq are integers a JSON number holds exactly (0 to 2^53 − 1). */
export const SafeCount = (options: { description?: string } = {}) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...options })

/** robust: the largest `limit` of a list query; without `limit` a list holds all its items. */
export const MAX_LIMIT = 10_000
export const Limit = Type.Integer({
  minimum: 1,
  maximum: MAX_LIMIT,
  description: `at most this many (up to ${MAX_LIMIT}); all when absent`,
})

/** robust: the earliest reading taken, 2000-01-01T00:00:00Z: before it, an epoch in seconds, most likely. */
export const MIN_READING_TS = Date.UTC(2000, 0, 1)

/** ISO 8601 date-time that names its zone (`Z` or `±hh:mm`). */
export const ISO_WITH_ZONE =
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|z|[+-]\\d{2}:\\d{2})$'

export const Timestamp = Type.Union([
  Type.String({ pattern: ISO_WITH_ZONE, description: 'ISO 8601 with a zone' }),
  Type.Integer({ minimum: 0, maximum: 8.64e15, description: 'epoch milliseconds' }),
])

export const Percent = Type.Number({ minimum: 0, maximum: 100 })

export const WasteBoxState = Type.Union([Type.Literal('ok'), Type.Literal('nearFull'), Type.Literal('full')])

export const DeviceStatus = Type.Union([
  Type.Literal('ready'),
  Type.Literal('printing'),
  Type.Literal('sleep'),
  Type.Literal('warning'),
  Type.Literal('stopped'),
  Type.Literal('error'),
])

export const Severity = Type.Union([Type.Literal('critical'), Type.Literal('warning'), Type.Literal('info')])

export const DeviceError = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 64 }),
  severity: Severity,
  text: Type.Optional(Type.String({ maxLength: 1024 })),
})

export const Counters = Type.Object({
  total: SafeCount(),
  mono: Type.Optional(SafeCount()),
  color: Type.Optional(SafeCount()),
})

/** One reading as it travels on the wire. Unknown fields are ignored. */
export const Reading = Type.Object({
  ts: Timestamp,
  seq: Type.Optional(SafeCount()),
  toner: Type.Optional(
    Type.Record(Type.String({ pattern: COLOR_PATTERN }), Percent, {
      additionalProperties: false,
      maxProperties: 16,
    }),
  ),
  wasteBox: Type.Optional(Type.Union([WasteBoxState, Percent])),
  counters: Type.Optional(Counters),
  status: Type.Optional(DeviceStatus),
  errors: Type.Optional(Type.Array(DeviceError, { maxItems: 256 })),
})
export type WireReading = Static<typeof Reading>

/** Telemetry: one reading, or an array of up to 1,000 readings of the same device. */
export const Telemetry = Type.Union([Reading, Type.Array(Reading, { minItems: 1, maxItems: MAX_BATCH })])

export const Birth = Type.Object({
  vendor: Type.Optional(Type.String({ maxLength: 128 })),
  model: Type.Optional(Type.String({ maxLength: 128 })),
  serial: Type.Optional(Type.String({ maxLength: 128 })),
  location: Type.Optional(Type.String({ maxLength: 256 })),
  contact: Type.Optional(Type.String({ maxLength: 256 })),
})
export type Birth = Static<typeof Birth>

export const ACTION_STATUSES = ['open', 'acknowledged', 'resolved'] as const
export type ActionStatus = (typeof ACTION_STATUSES)[number]
/** A plain JSON Schema enum, so that a bad value gets one readable message from the API. */
export const ActionStatus = Type.Unsafe<ActionStatus>({ type: 'string', enum: [...ACTION_STATUSES] })

export const Id = Type.String({ pattern: ID_PATTERN })

export const Action = Type.Object({
  id: Type.String(),
  type: Type.String(),
  /** Absent for an action about a whole site (a spare-stock count, a gateway offline). */
  deviceId: Type.Optional(Type.String()),
  siteId: Type.String(),
  status: ActionStatus,
  rule: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
})
export type Action = Static<typeof Action>

/** A device and its latest state, as the API shows it. */
export const DeviceView = Type.Object({
  deviceId: Type.String(),
  siteId: Type.String(),
  vendor: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  serial: Type.Optional(Type.String()),
  location: Type.Optional(Type.String()),
  contact: Type.Optional(Type.String()),
  label: Type.Optional(Type.String()),
  contract: Type.Optional(
    Type.Union([
      Type.Literal('active'),
      Type.Literal('inactive'),
      Type.Literal('suspended'),
      Type.Literal('ended'),
    ]),
  ),
  wasteBoxShipsWithToner: Type.Optional(Type.Boolean()),
  lastReadingAt: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([DeviceStatus, Type.Null()]),
  toner: Type.Record(Type.String(), Type.Number()),
  wasteBox: Type.Union([WasteBoxState, Type.Number(), Type.Null()]),
  counters: Type.Union([Counters, Type.Null()]),
  errors: Type.Array(
    Type.Object({
      code: Type.String(),
      severity: Severity,
      text: Type.Optional(Type.String()),
      since: Type.String(),
    }),
  ),
})
export type DeviceView = Static<typeof DeviceView>

/** A stored reading as the API returns it: the contract's shape, `ts` in ISO 8601 UTC. */
export const StoredReading = Type.Composite([Type.Omit(Reading, ['ts']), Type.Object({ ts: Type.String() })])

/** A customer site, as the inventory keeps it. */
export const Site = Type.Object(
  {
    siteId: Id,
    name: Type.Optional(Type.String({ maxLength: 256 })),
    customer: Type.Optional(Type.String({ maxLength: 256 })),
    /** The site's one fleet contact: the addressee of its actions. */
    contact: Type.String({ minLength: 1, maxLength: 256 }),
    /**
     * `threshold`: toner is ordered when a colour runs low. `spare-kit`: the site keeps a spare kit
     * and gets its replenishment when a cartridge change uses up the spare.
     */
    stockMode: Type.Optional(Type.Union([Type.Literal('threshold'), Type.Literal('spare-kit')])),
    /** Working days and hours, holidays, time zone: service due dates and deliveries count on it. */
    calendar: Type.Optional(SiteCalendarSchema),
    /** The language of the messages to its fleet contact (BCP 47: `it`, `uk`, `en`); English without one. */
    language: Type.Optional(
      Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$', description: 'BCP 47, e.g. it, uk, en' }),
    ),
  },
  { additionalProperties: false },
)
export type Site = Static<typeof Site>

/** What the inventory knows of a device, beside what it says of itself in its birth message. */
export const DeviceInventory = Type.Object(
  {
    deviceId: Id,
    siteId: Id,
    /** The service ID on its label, when it differs from the device ID. */
    label: Type.Optional(Type.String({ maxLength: 64 })),
    /** The office within the site. */
    location: Type.Optional(Type.String({ maxLength: 256 })),
    vendor: Type.Optional(Type.String({ maxLength: 128 })),
    model: Type.Optional(Type.String({ maxLength: 128 })),
    /**
     * `active`; `suspended`: unpaid, service withheld until paid; `ended`. `inactive` is the older
     * word for `ended`. A ticket of a device without an active contract is blocked.
     */
    contract: Type.Optional(
      Type.Union([
        Type.Literal('active'),
        Type.Literal('inactive'),
        Type.Literal('suspended'),
        Type.Literal('ended'),
      ]),
    ),
    /** Some vendors (Kyocera) ship the waste toner box with each toner cartridge. */
    wasteBoxShipsWithToner: Type.Optional(Type.Boolean()),
    /**
     * false: nothing reports this device's supplies (no gateway reads it), so no reorder is
     * automatic and its people order toner and waste boxes themselves (`POST /devices/{id}/orders`).
     */
    monitored: Type.Optional(Type.Boolean()),
    /** Pages a cartridge of each colour prints (the vendor's yield), for forecasts when levels barely move. */
    yields: Type.Optional(Type.Record(Type.String({ pattern: COLOR_PATTERN }), Type.Integer({ minimum: 1 }))),
  },
  { additionalProperties: false },
)
export type DeviceInventory = Static<typeof DeviceInventory>

const ColorName = Type.String({ pattern: COLOR_PATTERN })

/** A site's count of its spare toner, by cartridge: a colour, for a model. */
export const StockCountBody = Type.Object(
  {
    /** When the site counted; now if absent. */
    ts: Type.Optional(Timestamp),
    items: Type.Array(
      Type.Object(
        {
          color: ColorName,
          model: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()])),
          count: Type.Integer({ minimum: 0, maximum: 100_000 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
)
export type StockCountBody = Static<typeof StockCountBody>

/** What should be on a site's shelf, by cartridge, reckoned from its last count. */
export const StockView = Type.Object({
  siteId: Id,
  stockMode: Type.Union([Type.Literal('threshold'), Type.Literal('spare-kit')]),
  /** When the site last counted, or null if it never did. */
  countedAt: Type.Union([Type.String(), Type.Null()]),
  items: Type.Array(
    Type.Object({
      model: Type.Union([Type.String(), Type.Null()]),
      color: Type.String(),
      counted: Type.Integer(),
      shipped: Type.Integer(),
      /** Of those shipped, the extras a person ordered for the shelf. */
      extra: Type.Integer(),
      installed: Type.Integer(),
      expected: Type.Integer(),
    }),
  ),
})
export type StockView = Static<typeof StockView>

const PagesCount = Type.Object({
  total: Type.Integer(),
  mono: Type.Optional(Type.Integer()),
  color: Type.Optional(Type.Integer()),
})

/**
 * The pages a device printed in one billing period: measured from its page counters, or, where no
 * counters tell, estimated from the toner delivered to it, and then marked as an estimate.
 */
export const BillingView = Type.Object({
  deviceId: Id,
  period: Type.String(),
  periodStart: Type.String(),
  periodEnd: Type.String(),
  /** `counters`: measured. `toner-delivered`: estimated. `none`: neither can tell. */
  source: Type.Union([Type.Literal('counters'), Type.Literal('toner-delivered'), Type.Literal('none')]),
  estimated: Type.Boolean(),
  pages: Type.Union([PagesCount, Type.Null()]),
  /** With counters: the two readings the pages are the difference of. */
  from: Type.Optional(Type.Object({ ts: Type.String(), counters: Counters })),
  to: Type.Optional(Type.Object({ ts: Type.String(), counters: Counters })),
  /** With an estimate: the cartridges ordered for the device in the period, by colour. */
  cartridges: Type.Optional(Type.Record(Type.String(), Type.Integer())),
  /** Why the answer is an estimate, or none. */
  note: Type.Optional(Type.String()),
})
export type BillingView = Static<typeof BillingView>

/** A customer of the provider: it owns the sites whose `customer` is its ID. */
export const Customer = Type.Object(
  {
    customerId: Id,
    name: Type.String({ minLength: 1, maxLength: 256 }),
    /** Who the provider deals with at the customer (invoices, reports). */
    contact: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
)
export type Customer = Static<typeof Customer>

/** A named set of devices (a department, a floor, a cost centre): a device may be in any number. */
export const DeviceGroup = Type.Object(
  {
    groupId: Id,
    name: Type.String({ minLength: 1, maxLength: 256 }),
    /** The customer the group belongs to, if any: then its devices must be at that customer's sites. */
    customerId: Type.Optional(Id),
    devices: Type.Array(Id, { uniqueItems: true, maxItems: 100_000 }),
  },
  { additionalProperties: false },
)
export type DeviceGroup = Static<typeof DeviceGroup>

export const Inventory = Type.Object(
  {
    sites: Type.Array(Site),
    devices: Type.Array(DeviceInventory),
    customers: Type.Array(Customer, { default: [] }),
    groups: Type.Array(DeviceGroup, { default: [] }),
  },
  { additionalProperties: false },
)
export type Inventory = Static<typeof Inventory>

/**
 * A gateway's state, on `{root}/{siteId}/gateways/{gatewayId}/status` (retained; also its last
 * will, which carries no time: the service takes the time it received it).
 */
export const GatewayStatus = Type.Object({
  state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  ts: Type.Optional(Timestamp),
  devices: Type.Optional(Type.Array(Id, { maxItems: 100_000 })),
  software: Type.Optional(Type.String({ maxLength: 256 })),
})
export type GatewayStatus = Static<typeof GatewayStatus>

/** A gateway as the API shows it: its last state and the devices it speaks for. */
export const GatewayView = Type.Object({
  siteId: Type.String(),
  gatewayId: Type.String(),
  state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  since: Type.String(),
  devices: Type.Union([Type.Array(Type.String()), Type.Null()]),
  publishedFor: Type.Array(Type.String()),
  software: Type.Union([Type.String(), Type.Null()]),
})
export type GatewayView = Static<typeof GatewayView>

/** One email about an action, as `GET /actions/{id}/messages` shows it. */
export const MailMessageView = Type.Object({
  messageId: Type.String(),
  /** `created`, `acknowledged`, `resolved`, `sla-breach`, `shipped`, `delivered`, or `digest`. */
  change: Type.String(),
  template: Type.String(),
  to: Type.Array(Type.String()),
  cc: Type.Array(Type.String()),
  subject: Type.String(),
  /** `pending` (not accepted yet; retried), `sent` (the server accepted it) or `failed` (never sent, or refused for good). */
  status: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  createdAt: Type.String(),
  /** When the server accepted or refused it for good. */
  sentAt: Type.Union([Type.String(), Type.Null()]),
  /** The mail server's last answer. */
  response: Type.Union([Type.String(), Type.Null()]),
  error: Type.Optional(Type.String()),
})
export type MailMessageView = Static<typeof MailMessageView>
