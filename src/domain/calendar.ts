/**
 * A site's working-day calendar: which instants are working time, and due dates counted in working
 * hours or working days. Pure: instants go in and come out as epoch milliseconds; the site's zone
 * is used only inside, through luxon, so that weekends, holidays and daylight-saving changes fall
 * on the site's own local dates.
 *
 * Working time on a working day is the half-open local interval [start, end), measured in elapsed
 * time: an interval that spans a daylight-saving change is an hour shorter or longer, as the people
 * working it would find. A due date counted in hours lands in (start, end]: work that takes up the
 * rest of the day is due at 17:00 that day, not at 08:00 the next morning.
 */
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { DateTime, IANAZone } from 'luxon'

const HOUR = 3_600_000
/** Ten years without a working day is a broken calendar: scanning on would never end. */
const MAX_IDLE_DAYS = 3660

// Frozen: they are also the schema's defaults, which must not change under another caller.
export const DEFAULT_WORKING_DAYS: readonly number[] = Object.freeze([1, 2, 3, 4, 5])
export const DEFAULT_WORKING_HOURS = Object.freeze({ start: '08:00', end: '17:00' })
/** The provider's support hours unless configured otherwise: 09:00–18:00. */
export const DEFAULT_SUPPORT_HOURS = Object.freeze({ start: '09:00', end: '18:00' })

const LocalTime = (fallback: string) =>
  Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', default: fallback, description: 'local time, HH:mm' })

export const SiteCalendarSchema = Type.Object(
  {
    zone: Type.String({ minLength: 1, description: 'IANA time zone, e.g. Europe/Rome' }),
    workingDays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
      minItems: 1,
      uniqueItems: true,
      default: DEFAULT_WORKING_DAYS,
      description: 'ISO weekdays: 1 = Monday … 7 = Sunday',
    }),
    workingHours: Type.Object(
      { start: LocalTime(DEFAULT_WORKING_HOURS.start), end: LocalTime(DEFAULT_WORKING_HOURS.end) },
      { additionalProperties: false, default: DEFAULT_WORKING_HOURS },
    ),
    holidays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), {
      default: [],
      description: 'local dates, YYYY-MM-DD, on which nobody works',
    }),
  },
  { additionalProperties: false },
)
export type SiteCalendar = Static<typeof SiteCalendarSchema>

/** A calendar in `zone` with the defaults (Monday–Friday, 08:00–17:00, no holidays) unless overridden. */
export function siteCalendar(
  zone: string,
  overrides: Partial<Omit<SiteCalendar, 'zone'>> = {},
): SiteCalendar {
  return {
    zone,
    workingDays: [...(overrides.workingDays ?? DEFAULT_WORKING_DAYS)],
    workingHours: { ...(overrides.workingHours ?? DEFAULT_WORKING_HOURS) },
    holidays: [...(overrides.holidays ?? [])],
  }
}

/**
 * What the schema cannot say: the zone must exist, the day must end after it starts, a holiday must
 * be a real date. Empty when the calendar is usable; the loader reports these with the file's path.
 */
export function calendarProblems(cal: SiteCalendar): string[] {
  const problems: string[] = []
  // IANAZone.create caches each zone, so checking on every call costs nothing after the first.
  if (!IANAZone.create(cal.zone).isValid)
    problems.push(`zone "${cal.zone}" is not an IANA time zone (e.g. Europe/Rome)`)
  const { start, end } = cal.workingHours
  if (minutesOf(start) >= minutesOf(end))
    problems.push(`working hours start (${start}) must be before their end (${end})`)
  if (cal.workingDays.length === 0) problems.push('at least one working day is needed')
  for (const h of cal.holidays) {
    if (!isRealDate(h)) problems.push(`holiday "${h}" is not a date`)
  }
  return problems
}

export function isWorkingDay(cal: SiteCalendar, ms: number): boolean {
  const c = compile(cal)
  return isWorkingDate(c, localNoon(c, ms))
}

export function isWorkingTime(cal: SiteCalendar, ms: number): boolean {
  return inWorkingTime(compile(cal), ms)
}

/** `ms` itself when it is working time, otherwise the start of the next working interval. */
export function nextWorkingStart(cal: SiteCalendar, ms: number): number {
  return nextStart(compile(cal), ms)
}

/**
 * The instant at which `hours` of working time have passed since `fromMs`. For hours > 0 it lies in
 * (start, end] of a working interval; for 0 it is `fromMs` unchanged, so that adding in two steps is
 * the same as adding at once.
 */
export function addWorkingHours(cal: SiteCalendar, fromMs: number, hours: number): number {
  if (!Number.isFinite(hours) || hours < 0)
    throw new RangeError(`working hours to add must be ≥ 0, got ${hours}`)
  const c = compile(cal)
  let remaining = Math.round(hours * HOUR)
  if (remaining === 0) return fromMs
  for (const iv of workingIntervals(c, fromMs)) {
    const begin = Math.max(iv.start, fromMs)
    if (remaining <= iv.end - begin) return begin + remaining
    remaining -= iv.end - begin
  }
  throw new Error('unreachable: working intervals never run out')
}

/**
 * The same local time of day `days` working days later. A start outside working time counts from
 * the next working start, so the result is always working time: Friday 17:00 + 1 day is Tuesday
 * 08:00, which is no working time later than Monday 17:00.
 */
export function addWorkingDays(cal: SiteCalendar, fromMs: number, days: number): number {
  if (!Number.isInteger(days) || days < 0)
    throw new RangeError(`working days to add must be an integer ≥ 0, got ${days}`)
  const c = compile(cal)
  const start = nextStart(c, fromMs)
  const local = DateTime.fromMillis(start, { zone: c.zone })
  const target = nthWorkingDate(c, start, days)
  const sameTime = target
    .set({ hour: local.hour, minute: local.minute, second: local.second, millisecond: local.millisecond })
    .toMillis()
  const iv = intervalOn(c, target)
  if (sameTime >= iv.start && sameTime < iv.end) return sameTime
  // A daylight-saving night can move a working day's end (a 02:15 that the clock skips is 03:15):
  // a time of day that exists in that day's interval and not in the target's keeps its place in
  // the working day instead, within the target's interval.
  const from = intervalOn(c, localNoon(c, start))
  return Math.min(iv.start + (start - from.start), iv.end - 1)
}

/** Working hours in [a, b); negative when b is before a. */
export function workingHoursBetween(cal: SiteCalendar, a: number, b: number): number {
  if (b < a) return -workingHoursBetween(cal, b, a)
  let ms = 0
  for (const iv of workingIntervals(compile(cal), a)) {
    if (iv.start >= b) break
    ms += Math.min(iv.end, b) - Math.max(iv.start, a)
  }
  return ms / HOUR
}

export const LeadTimeSchema = Type.Object(
  {
    morningDays: Type.Integer({
      minimum: 0,
      default: 2,
      description: 'working days for an order before the cutoff',
    }),
    afternoonDays: Type.Integer({
      minimum: 0,
      default: 3,
      description: 'working days for an order after it',
    }),
    cutoffHour: Type.Integer({
      minimum: 0,
      maximum: 24,
      default: 12,
      description: 'local hour of the cutoff',
    }),
  },
  { additionalProperties: false },
)
export type LeadTime = Static<typeof LeadTimeSchema>
/** The schema's defaults: 2 working days before the cutoff at 12:00, 3 after. */
export const DEFAULT_LEAD_TIME: LeadTime = Value.Create(LeadTimeSchema)

/**
 * The start of working time on the day an order arrives. An order placed on a day nobody works is
 * taken on the next working morning, as a supplier's office would; one placed on a working day
 * after hours still counts by its clock time against the cutoff.
 */
export function deliveryDate(cal: SiteCalendar, orderedAtMs: number, lead: Partial<LeadTime> = {}): number {
  return arrivalDay(cal, orderedAtMs, lead).start
}

/**
 * When an order placed at `orderedAtMs` is expected: the end of working hours of the n-th working
 * day after the order day (the order day not counted), n being the lead time's days before or after
 * its cutoff in the calendar's zone. An order placed on a day nobody works counts as placed on the
 * next working morning, so that day is its order day. Always the end of a working day.
 */
export function expectedDeliveryAt(
  cal: SiteCalendar,
  orderedAtMs: number,
  lead: Partial<LeadTime> = {},
): number {
  return arrivalDay(cal, orderedAtMs, lead).end
}

const QUARTER_HOUR = 15 * 60_000
const arrivals = new WeakMap<SiteCalendar, Map<string, { start: number; end: number }>>()

/**
 * The working hours of the day an order placed at `orderedAtMs` arrives. The answer hangs on the
 * order's local date and hour alone, and those change only at UTC quarter-hours (every zone's
 * offset is a multiple of 15 minutes), while computing it walks the calendar through luxon: it is
 * kept per calendar, lead time and quarter-hour, since every toner of every reading asks.
 */
function arrivalDay(cal: SiteCalendar, orderedAtMs: number, lead: Partial<LeadTime>) {
  const { morningDays, afternoonDays, cutoffHour } = { ...DEFAULT_LEAD_TIME, ...lead }
  let known = arrivals.get(cal)
  if (!known) {
    known = new Map()
    arrivals.set(cal, known)
  }
  const key = `${Math.floor(orderedAtMs / QUARTER_HOUR)}|${morningDays}|${afternoonDays}|${cutoffHour}`
  let day = known.get(key)
  if (day === undefined) {
    if (known.size >= 10_000) known.clear()
    const c = compile(cal)
    const local = DateTime.fromMillis(orderedAtMs, { zone: c.zone })
    const morning = !isWorkingDate(c, local) || local.hour < cutoffHour
    day = intervalOn(c, nthWorkingDate(c, orderedAtMs, morning ? morningDays : afternoonDays))
    known.set(key, day)
  }
  return day
}

/**
 * Whole working days that have ended since `fromMs`, counted at `atMs`: 0 from `fromMs` on, 1 once
 * the end of the next working day after it has passed, and so on; null before `fromMs`. From an
 * expected delivery (the end of a working day) that is the working days it is overdue. A follow-up
 * with a grace of g working days is due when this reaches g, never earlier.
 */
export function workingDaysSince(cal: SiteCalendar, fromMs: number, atMs: number): number | null {
  if (atMs < fromMs) return null
  let n = 0
  for (const end of workingEndsAfter(compile(cal), fromMs)) {
    if (end > atMs) return n
    n++
  }
  throw new Error('unreachable: working dates never run out')
}

/** The first instant at which `workingDaysSince(cal, fromMs, ·)` reaches `days`. */
export function workingDaysAfter(cal: SiteCalendar, fromMs: number, days: number): number {
  if (!Number.isInteger(days) || days < 0)
    throw new RangeError(`working days must be an integer ≥ 0, got ${days}`)
  if (days === 0) return fromMs
  let i = 0
  for (const end of workingEndsAfter(compile(cal), fromMs)) if (++i === days) return end
  throw new Error('unreachable: working dates never run out')
}

/** The ends of working days after `ms`, in time order. */
function* workingEndsAfter(c: Compiled, ms: number): Generator<number> {
  for (const d of workingDates(c, ms)) {
    const end = intervalOn(c, d).end
    if (end > ms) yield end
  }
}

interface Compiled {
  zone: string
  days: ReadonlySet<number>
  holidays: ReadonlySet<string>
  start: { hour: number; minute: number }
  end: { hour: number; minute: number }
}

interface Interval {
  start: number
  end: number
}

function minutesOf(hhmm: string): number {
  const [h = '0', m = '0'] = hhmm.split(':')
  return Number(h) * 60 + Number(m)
}

function clockOf(hhmm: string): { hour: number; minute: number } {
  const minutes = minutesOf(hhmm)
  return { hour: Math.floor(minutes / 60), minute: minutes % 60 }
}

function compile(cal: SiteCalendar): Compiled {
  const problems = calendarProblems(cal)
  if (problems.length > 0) throw new RangeError(`invalid site calendar: ${problems.join('; ')}`)
  return {
    zone: cal.zone,
    days: new Set(cal.workingDays),
    holidays: new Set(cal.holidays),
    start: clockOf(cal.workingHours.start),
    end: clockOf(cal.workingHours.end),
  }
}

/** Days are walked at local noon, clear of the night hours that daylight-saving changes skip or repeat. */
function localNoon(c: Compiled, ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: c.zone }).set({ hour: 12, minute: 0, second: 0, millisecond: 0 })
}

function isWorkingDate(c: Compiled, d: DateTime): boolean {
  return c.days.has(d.weekday) && !c.holidays.has(`${d.year}-${pad(d.month)}-${pad(d.day)}`)
}

const pad = (n: number) => String(n).padStart(2, '0')

/** 2026-02-30 matches the pattern but is no date; a UTC round trip tells, without a parser per call. */
function isRealDate(ymd: string): boolean {
  const d = new Date(`${ymd}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === ymd
}

/** A local time that a spring-forward night skips is moved forward by luxon, past the gap. */
function intervalOn(c: Compiled, d: DateTime): Interval {
  const at = (t: { hour: number; minute: number }) => d.set({ ...t, second: 0, millisecond: 0 }).toMillis()
  return { start: at(c.start), end: at(c.end) }
}

/** Working dates at local noon, from the local date of `ms` on. */
function* workingDates(c: Compiled, ms: number): Generator<DateTime> {
  let idle = 0
  for (let d = localNoon(c, ms); ; d = d.plus({ days: 1 })) {
    if (isWorkingDate(c, d)) {
      idle = 0
      yield d
    } else if (++idle > MAX_IDLE_DAYS) {
      throw new RangeError(`site calendar in ${c.zone} has no working day in ${MAX_IDLE_DAYS} days`)
    }
  }
}

/** Working intervals that end after `ms`, in time order. */
function* workingIntervals(c: Compiled, ms: number): Generator<Interval> {
  for (const d of workingDates(c, ms)) {
    const iv = intervalOn(c, d)
    if (iv.end > ms) yield iv
  }
}

/** The n-th working date counted from the local date of `ms` (0: that date, or the next working one). */
function nthWorkingDate(c: Compiled, ms: number, n: number): DateTime {
  let i = 0
  for (const d of workingDates(c, ms)) if (i++ === n) return d
  throw new Error('unreachable: working dates never run out')
}

function inWorkingTime(c: Compiled, ms: number): boolean {
  const d = localNoon(c, ms)
  if (!isWorkingDate(c, d)) return false
  const iv = intervalOn(c, d)
  return iv.start <= ms && ms < iv.end
}

function nextStart(c: Compiled, ms: number): number {
  for (const iv of workingIntervals(c, ms)) return Math.max(iv.start, ms)
  throw new Error('unreachable: working intervals never run out')
}

/**
 * The support calendar when none is configured (the service passes the configured one as each
 * device's calendar): Monday to Friday, 09:00 to 18:00, UTC, no holidays.
 */
export const DEFAULT_SITE_CALENDAR: SiteCalendar = siteCalendar('UTC', {
  workingHours: DEFAULT_SUPPORT_HOURS,
})
