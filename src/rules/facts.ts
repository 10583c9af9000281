/**
 * The facts a rule can test, derived from a device's state at one instant. This table is the one
 * source of what exists: rule files are checked against it at load, and rules/README.md lists it.
 */
import { profileOf } from '../catalogue/catalogue.ts'
import type { Birth, DeviceInventory, Site } from '../contract/schemas.ts'
import { missingMeterPeriod } from '../domain/billing.ts'
import {
  DEFAULT_SUPPORT_HOURS,
  deliveryDate,
  nextWorkingStart,
  type SiteCalendar,
  siteCalendar,
  workingDaysAfter,
  workingDaysSince,
} from '../domain/calendar.ts'
import type { DeviceState } from '../domain/device-state.ts'
import {
  pagesPerDay,
  RECURRENCE_WINDOW_MS,
  recurrenceEpisode,
  silenceEpisode,
  subjectKey,
  type TonerState,
} from '../domain/device-state.ts'
import { daysToEmpty } from '../domain/forecast.ts'
import { ordersPart } from '../domain/ledger.ts'
import { owedCount, type StockCount, type StockLine, stockEpisode } from '../domain/stock.ts'
import { FACT_SCHEMAS, type FactName } from '../subjects/fact-schemas.ts'
import { SUBJECTS, type SubjectKind } from '../subjects/registry.ts'

/**
 * The support calendar when none is configured (the service passes the configured one as each
 * device's calendar): Monday to Friday, 09:00 to 18:00, UTC, no holidays.
 */
export const DEFAULT_SITE_CALENDAR = siteCalendar('UTC', { workingHours: DEFAULT_SUPPORT_HOURS })

const HOUR = 3_600_000

/** What is known of a device besides its readings: its birth message, the inventory, its site. */
export interface DeviceInfo {
  vendor?: string
  model?: string
  label?: string
  location?: string
  /** `inactive` is the older word for `ended`. */
  contract?: ContractState
  /** false when the inventory has no record of the device (or of its site): actions say so. */
  inInventory?: boolean
  siteInInventory?: boolean
  wasteBoxShipsWithToner?: boolean
  /** The toner bottle is the waste box: no box to order (from the catalogue). */
  tonerBottleIsWasteBox?: boolean
  /** The device's gateway, while it is offline: missed readings say so. */
  gatewayOffline?: { gatewayId: string; since: number }
  /** How the catalogue knew the device: by its `model`, only its `vendor`, or not at all. */
  profile?: 'model' | 'vendor'
  /** The site's fleet contact. */
  contact?: string
  stockMode?: 'threshold' | 'spare-kit'
  calendar?: SiteCalendar
  yields?: Record<string, number>
}

/**
 * The inventory speaks for the provider and wins over what a device says of itself; the catalogue's
 * profile of the vendor and model (as the inventory or else the birth names them) fills in the
 * vendor facts neither gives.
 */
export function deviceInfo(birth: Birth, device?: DeviceInventory, site?: Site): DeviceInfo {
  const info: DeviceInfo = { ...pick(birth, ['vendor', 'model', 'location']) }
  if (device) Object.assign(info, pick(device, ['vendor', 'model', 'location', 'label', 'contract']))
  const profile = profileOf(info.vendor, info.model)
  if (profile) {
    info.profile = profile.match
    info.wasteBoxShipsWithToner = profile.wasteBoxShipsWithToner
    info.tonerBottleIsWasteBox = profile.tonerBottleIsWasteBox
    if (Object.keys(profile.yields).length > 0) info.yields = { ...profile.yields }
  }
  if (device?.wasteBoxShipsWithToner !== undefined)
    info.wasteBoxShipsWithToner = device.wasteBoxShipsWithToner
  if (device?.yields) info.yields = { ...info.yields, ...device.yields }
  if (site) Object.assign(info, pick(site, ['contact', 'stockMode', 'calendar']))
  return info
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k]
  return out
}

/**
 * Who an action is for and what it is about, on every action: the addressee, the label, the office.
 * Where the inventory lacks the device or its site, `missingFromInventory` says which, so that
 * nobody takes an action with no addressee for one that has none by design.
 */
export function actionIdentity(info: DeviceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (info.contact !== undefined) out.addressee = info.contact
  if (info.label !== undefined) out.label = info.label
  if (info.location !== undefined) out.location = info.location
  const missing = [
    ...(info.inInventory === false ? ['device'] : []),
    ...(info.siteInInventory === false ? ['site'] : []),
  ]
  if (missing.length > 0) out.missingFromInventory = missing
  return out
}

export type ContractState = 'active' | 'suspended' | 'ended' | 'inactive'

/** The contract as rules and tickets see it: `active` unless the inventory says otherwise. */
export function contractOf(info: DeviceInfo): 'active' | 'suspended' | 'ended' {
  const c = info.contract ?? 'active'
  return c === 'inactive' ? 'ended' : c
}

/** Each fact and its fields, from its schema. `device` is there for every device subject. */
export const FACT_FIELDS: Record<FactName, readonly string[]> = mapValues(FACT_SCHEMAS, (schema) =>
  Object.keys(schema.properties),
)

export type { FactName }

/** The facts a rule of each subject may name. */
export const SUBJECT_FACTS: Record<SubjectKind, readonly FactName[]> = mapValues(
  SUBJECTS,
  (s): readonly FactName[] => s.facts,
)

function mapValues<K extends string, V, W>(o: Record<K, V>, f: (v: V) => W): Record<K, W> {
  return Object.fromEntries(Object.entries<V>(o).map(([k, v]) => [k, f(v)])) as Record<K, W>
}

/** One thing to run the rules of a subject over: its facts, and what an action about it records. */
export interface SubjectInstance {
  kind: SubjectKind
  key: string
  episode: string
  facts: Record<string, unknown>
  details: Record<string, unknown>
}

/** An action not resolved yet, as facts see it: rules can follow up on their own actions. */
export interface OpenAction {
  type: string
  subject: string
  episode: string
  createdAt: number
  /** An order's expected delivery, and the step its delivery is at. */
  expectedDelivery?: number
  deliveryStep?: string
}

/** What an open order's details tell the facts: its expected delivery and its delivery's step. */
export function orderFields(
  details: Record<string, unknown>,
): Pick<OpenAction, 'expectedDelivery' | 'deliveryStep'> {
  const expected =
    typeof details.expectedDelivery === 'string' ? Date.parse(details.expectedDelivery) : Number.NaN
  const delivery = details.delivery as { step?: unknown } | undefined
  return {
    ...(Number.isFinite(expected) ? { expectedDelivery: expected } : {}),
    ...(typeof delivery?.step === 'string' ? { deliveryStep: delivery.step } : {}),
  }
}

/**
 * The open order of a cartridge as facts: when it is expected, its delivery's step, and the whole
 * working days (on the site's calendar) it is past its expected delivery while not delivered.
 */
function orderFacts(
  open: readonly OpenAction[],
  subject: string,
  episode: string,
  cal: SiteCalendar,
  at: number,
) {
  const order = open.find(
    (a) => a.type === 'reorder' && a.subject === subject && ordersPart(a.episode, episode),
  )
  const expected = order?.expectedDelivery
  const step = order ? (order.deliveryStep ?? 'ordered') : null
  return {
    expectedDelivery: expected === undefined ? null : new Date(expected).toISOString(),
    deliveryStep: step,
    workingDaysOverdue:
      expected === undefined || step === 'delivered' ? null : overdueDays(cal, expected, at),
  }
}

/**
 * `workingDaysSince(cal, expected, at)`, from the ends of the working days after `expected`, kept
 * per calendar and order: every reading of a device with an open order asks, with a later `at`.
 */
const overdueEnds = new WeakMap<SiteCalendar, Map<number, number[]>>()
function overdueDays(cal: SiteCalendar, expected: number, at: number): number | null {
  if (at < expected) return null
  let byOrder = overdueEnds.get(cal)
  if (!byOrder) {
    byOrder = new Map()
    overdueEnds.set(cal, byOrder)
  }
  let ends = byOrder.get(expected)
  if (!ends) {
    if (byOrder.size > 10_000) byOrder.clear()
    ends = []
    byOrder.set(expected, ends)
  }
  while (ends.length < 31 && (ends.length === 0 || at >= (ends[ends.length - 1] as number)))
    ends.push(workingDaysAfter(cal, expected, ends.length + 1))
  let n = 0
  while (n < ends.length && at >= (ends[n] as number)) n++
  return n < ends.length ? n : workingDaysSince(cal, expected, at)
}

/** Hours since the cartridge of this subject was ordered (a `reorder` not resolved), or null. */
function orderedFor(
  open: readonly OpenAction[],
  subject: string,
  episode: string,
  at: number,
): number | null {
  const order = open.find(
    (a) => a.type === 'reorder' && a.subject === subject && ordersPart(a.episode, episode),
  )
  return order ? Math.max(0, at - order.createdAt) / HOUR : null
}

const DAY = 24 * HOUR

/**
 * Days until the cartridge is empty, days until an order placed now would arrive (2 working days
 * before noon, 3 after, on the site's calendar), and what is left between the two.
 */
function forecast(t: TonerState, color: string, state: DeviceState, info: DeviceInfo, at: number) {
  const empty = daysToEmpty(t, at, {
    pagesPerDay: pagesPerDay(state),
    yieldPages: info.yields && Object.hasOwn(info.yields, color) ? info.yields[color] : undefined,
  })
  const delivery = (deliveryDate(info.calendar ?? DEFAULT_SITE_CALENDAR, at) - at) / DAY
  const round = (n: number) => Math.round(n * 100) / 100
  return {
    daysToEmpty: empty === null ? null : round(empty),
    deliveryInDays: round(delivery),
    daysLeftAfterDelivery: empty === null ? null : round(empty - delivery),
  }
}

/** The `device` fact: the same for every subject of the device at one instant. */
export function deviceFact(state: DeviceState, info: DeviceInfo, at: number) {
  return {
    deviceId: state.deviceId,
    siteId: state.siteId,
    vendor: info.vendor ?? null,
    model: info.model ?? null,
    label: info.label ?? state.deviceId,
    location: info.location ?? null,
    contractActive: contractOf(info) === 'active',
    contract: contractOf(info),
    wasteBoxShipsWithToner: info.wasteBoxShipsWithToner ?? false,
    tonerBottleIsWasteBox: info.tonerBottleIsWasteBox ?? false,
    profile: info.profile ?? null,
    stockMode: info.stockMode ?? 'threshold',
    addressee: info.contact ?? null,
    pagesPerDay: pagesPerDay(state),
    status: state.status ?? null,
    lastReadingAt: new Date(state.lastTs).toISOString(),
    hoursSinceLastReading: Math.max(0, at - state.lastTs) / HOUR,
    counters: state.counters ?? null,
  }
}

/**
 * The subjects of one kind of a device, with their facts at instant `at` (the reading's time when
 * a reading is processed, the clock's time in a sweep: the same readings always give the same facts).
 */
export function subjectsOf(
  kind: SubjectKind,
  state: DeviceState,
  info: DeviceInfo,
  at: number,
  open: readonly OpenAction[] = [],
  /** The `device` fact, when the caller built it already for another kind. */
  device: ReturnType<typeof deviceFact> = deviceFact(state, info, at),
): SubjectInstance[] {
  switch (kind) {
    case 'toner':
      return Object.entries(state.toner).map(([color, t]) => ({
        kind,
        key: subjectKey('toner', color),
        episode: t.cartridge,
        facts: {
          device,
          toner: {
            color,
            level: t.level,
            cartridge: t.cartridge,
            installedAt: t.installedAt === undefined ? null : new Date(t.installedAt).toISOString(),
            installedNow: t.installedAt === at,
            replacedAtLevel: t.replacedAtLevel ?? null,
            bumps: t.bumps ?? 0,
            orderedForHours: orderedFor(open, subjectKey('toner', color), t.cartridge, at),
            ...forecast(t, color, state, info, at),
            ...orderFacts(
              open,
              subjectKey('toner', color),
              t.cartridge,
              info.calendar ?? DEFAULT_SITE_CALENDAR,
              at,
            ),
          },
        },
        // The model says which cartridge: a site's spare stock is counted by model and colour.
        details:
          info.model === undefined ? { color, level: t.level } : { color, level: t.level, model: info.model },
      }))
    case 'wasteBox': {
      const w = state.wasteBox
      if (!w) return []
      const fill = typeof w.report === 'number' ? w.report : null
      const wasteState = typeof w.report === 'string' ? w.report : null
      return [
        {
          kind,
          key: subjectKey('wasteBox'),
          episode: w.box,
          facts: { device, wasteBox: { state: wasteState, fill, needsReplacing: w.needsReplacing } },
          details: fill === null ? { state: wasteState } : { fill },
        },
      ]
    }
    case 'error':
      return Object.values(state.errors).map((e) => ({
        kind,
        key: subjectKey('error', e.code),
        episode: `e${e.since}`,
        facts: {
          device,
          error: {
            code: e.code,
            severity: e.severity,
            text: e.text ?? null,
            activeForHours: Math.max(0, at - e.since) / HOUR,
          },
        },
        details:
          e.text === undefined
            ? { code: e.code, severity: e.severity }
            : { code: e.code, severity: e.severity, text: e.text },
      }))
    case 'recurrence': {
      const out: SubjectInstance[] = []
      for (const [code, r] of Object.entries(state.recurrences ?? {})) {
        const episode = recurrenceEpisode(r, at)
        if (episode === null) continue
        const recent = r.starts.filter((t) => at - t <= RECURRENCE_WINDOW_MS)
        const first = recent[0] ?? r.runStart
        const last = recent[recent.length - 1] ?? r.runStart
        out.push({
          kind,
          key: subjectKey('recurrence', code),
          episode,
          facts: {
            device,
            recurrence: {
              code,
              severity: r.severity,
              timesInLast7Days: recent.length,
              activeNow: Object.hasOwn(state.errors, code),
              firstAt: new Date(first).toISOString(),
              lastAt: new Date(last).toISOString(),
            },
          },
          details: { code, severity: r.severity, times: recent.length, since: new Date(first).toISOString() },
        })
      }
      return out
    }
    case 'billing': {
      // Billing months are in the site's zone.
      const owed = missingMeterPeriod(state.lastCounterTs, state.firstTs, at, info.calendar?.zone)
      if (!owed) return []
      return [
        {
          kind,
          key: subjectKey('billing'),
          episode: `m${owed.id}`,
          facts: {
            device,
            billing: {
              period: owed.id,
              periodStart: new Date(owed.start).toISOString(),
              periodEnd: new Date(owed.end).toISOString(),
              owesMeterReading: true,
            },
          },
          details: {
            period: owed.id,
            lastCounters: state.counters ?? null,
            lastCountersAt:
              state.lastCounterTs === undefined ? null : new Date(state.lastCounterTs).toISOString(),
          },
        },
      ]
    }
    case 'stock':
    case 'gateway':
      // A site's subjects, not a device's: see stockSubject() and gatewaySubject().
      return []
    case 'silence':
      return [
        {
          kind,
          key: subjectKey('silence'),
          episode: silenceEpisode(state),
          facts: { device },
          details: {
            lastReadingAt: device.lastReadingAt,
            hoursSinceLastReading: Math.round(device.hoursSinceLastReading * 10) / 10,
            // Not the device's silence alone: the gateway that speaks for it is offline.
            ...(info.gatewayOffline
              ? {
                  gatewayOffline: {
                    gatewayId: info.gatewayOffline.gatewayId,
                    since: new Date(info.gatewayOffline.since).toISOString(),
                  },
                }
              : {}),
          },
        },
      ]
  }
}

/**
 * A site's spare stock, while the site owes a count for the half-year (none since it began): the
 * subject of `stock` rules, run in each sweep once per site.
 */
export function stockSubject(
  site: Pick<Site, 'siteId' | 'name' | 'customer' | 'stockMode' | 'contact' | 'calendar'>,
  stock: { count: StockCount | null; lines: StockLine[] },
  /** When the service first heard of a device of the site. */
  knownSince: number,
  at: number,
): SubjectInstance | null {
  const owed = owedCount(stock.count?.ts ?? null, knownSince, at, siteCountCalendar(site))
  if (!owed) return null
  const lastCountedAt = stock.count ? new Date(stock.count.ts).toISOString() : null
  const items = stock.lines.map((l) => ({ model: l.model, color: l.color, expected: l.expected }))
  return {
    kind: 'stock',
    key: subjectKey('stock', site.siteId),
    episode: stockEpisode(owed),
    facts: {
      site: {
        siteId: site.siteId,
        name: site.name ?? null,
        customer: site.customer ?? null,
        stockMode: site.stockMode ?? 'threshold',
        addressee: site.contact,
      },
      stock: {
        period: owed.id,
        periodStart: new Date(owed.start).toISOString(),
        owesCount: true,
        lastCountedAt,
        expectedTotal: items.reduce((sum, i) => sum + i.expected, 0),
        // Spare toner on the shelf: counted or shipped and not installed since.
        holdsSpareStock: items.some((i) => i.expected > 0),
        items,
      },
    },
    details: { period: owed.id, lastCountedAt, expected: items },
  }
}

/**
 * A site's half-years are in its zone, and it is asked to count from its first working time of
 * one: its own calendar, or the default one in its zone.
 */
export function siteCountCalendar(site: Pick<Site, 'calendar'>) {
  const cal = site.calendar
  if (!cal) return {}
  return { zone: cal.zone, firstWorkingTime: (from: number) => nextWorkingStart(cal, from) }
}

/** The `site` fact of a site, or of a site the inventory does not know (its ID alone). */
export function siteFact(siteId: string, site?: Pick<Site, 'name' | 'customer' | 'stockMode' | 'contact'>) {
  return {
    siteId,
    name: site?.name ?? null,
    customer: site?.customer ?? null,
    stockMode: site?.stockMode ?? 'threshold',
    addressee: site?.contact ?? null,
  }
}

/** A gateway while it is offline: the subject of `gateway` rules, one episode per outage. */
export function gatewaySubject(
  gateway: {
    siteId: string
    gatewayId: string
    state: 'online' | 'offline'
    since: number
    devices: readonly string[]
    software: string | null
  },
  site: Pick<Site, 'name' | 'customer' | 'stockMode' | 'contact'> | undefined,
  at: number,
): SubjectInstance | null {
  if (gateway.state !== 'offline') return null
  const offlineSince = new Date(gateway.since).toISOString()
  return {
    kind: 'gateway',
    key: subjectKey('gateway', gateway.gatewayId),
    episode: gatewayEpisode(gateway.since),
    facts: {
      site: siteFact(gateway.siteId, site),
      gateway: {
        gatewayId: gateway.gatewayId,
        state: gateway.state,
        offlineSince,
        offlineForHours: Math.max(0, at - gateway.since) / HOUR,
        devices: [...gateway.devices],
        software: gateway.software,
      },
    },
    details: {
      gatewayId: gateway.gatewayId,
      offlineSince,
      devices: [...gateway.devices],
      ...(site?.contact === undefined ? {} : { addressee: site.contact }),
    },
  }
}

/** A gateway's outage is one episode, named by when it began. */
export const gatewayEpisode = (since: number): string => `o${since}`
