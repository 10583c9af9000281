/**
 * Site time: office hours, working days, holidays, busy periods and delivery dates, in the site's
 * zone. Pure: an instant and a calendar in, an answer out.
 */

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

export interface LocalTime {
  /** `YYYY-MM-DD` in the site's zone. */
  date: string
  year: number
  month: number
  day: number
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number
  /** Minutes since local midnight. */
  minutes: number
}

export interface Calendar {
  zone: string
  officeStart: number
  officeEnd: number
  workingDays: ReadonlySet<number>
  holidays: ReadonlySet<string>
  busy: readonly { from: string; to: string; factor: number }[]
}

export interface LeadTime {
  beforeCutoffDays: number
  afterCutoffDays: number
  cutoffHour: number
  deliveryHour: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    })
    formatters.set(zone, f)
  }
  return f
}

/** Throws a RangeError for a zone the runtime does not know. */
export function checkZone(zone: string): void {
  formatter(zone)
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

function fromUtcFields(year: number, month: number, day: number, minutes: number): LocalTime {
  const weekday = ((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7) + 1
  return { date: `${year}-${pad(month)}-${pad(day)}`, year, month, day, weekday, minutes }
}

export function localTime(ms: number, zone: string): LocalTime {
  if (zone === 'UTC') {
    const d = new Date(ms)
    return fromUtcFields(
      d.getUTCFullYear(),
      d.getUTCMonth() + 1,
      d.getUTCDate(),
      d.getUTCHours() * 60 + d.getUTCMinutes(),
    )
  }
  const parts: Record<string, number> = {}
  for (const p of formatter(zone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return fromUtcFields(
    parts.year as number,
    parts.month as number,
    parts.day as number,
    (parts.hour as number) * 60 + (parts.minute as number),
  )
}

/** The instant of a local wall time in a zone (the first one, if a clock change makes it twice). */
export function instantOf(year: number, month: number, day: number, minutes: number, zone: string): number {
  const asUtc = Date.UTC(year, month - 1, day) + minutes * MINUTE
  let guess = asUtc
  for (let i = 0; i < 3; i++) {
    const l = localTime(guess, zone)
    const seen = Date.UTC(l.year, l.month - 1, l.day) + l.minutes * MINUTE
    const diff = asUtc - seen
    if (diff === 0) return guess
    guess += diff
  }
  return guess
}

export function isWorkingDay(t: LocalTime, cal: Calendar): boolean {
  return cal.workingDays.has(t.weekday) && !cal.holidays.has(t.date)
}

export function isOfficeHours(t: LocalTime, cal: Calendar): boolean {
  return isWorkingDay(t, cal) && t.minutes >= cal.officeStart && t.minutes < cal.officeEnd
}

/** The busy-period factor of a local date (1 outside busy periods; overlapping ones multiply). */
export function busyFactor(t: LocalTime, cal: Calendar): number {
  let factor = 1
  for (const b of cal.busy) if (t.date >= b.from && t.date <= b.to) factor *= b.factor
  return factor
}

/**
 * How much printing happens now, relative to an ordinary office hour: the busy factor during office
 * hours, `afterHours` of it in the evening and at night, and half that on days off.
 */
export function activity(t: LocalTime, cal: Calendar, afterHours: number): number {
  if (isOfficeHours(t, cal)) return busyFactor(t, cal)
  return isWorkingDay(t, cal) ? afterHours : afterHours / 2
}

/** Office hours in an ordinary month (21.7 working days), to turn a monthly volume into an hourly rate. */
export function officeHoursPerMonth(cal: Calendar): number {
  return (21.7 * (cal.officeEnd - cal.officeStart)) / 60
}

/**
 * When an order placed at `orderAt` is delivered: `beforeCutoffDays` working days later if placed
 * before the cut-off hour (local time) on a working day, `afterCutoffDays` otherwise (an order placed
 * on a day off is handled the next working day, after the cut-off). It arrives at the delivery hour.
 */
export function deliveryTime(orderAt: number, cal: Calendar, lead: LeadTime): number {
  const t = localTime(orderAt, cal.zone)
  const early = isWorkingDay(t, cal) && t.minutes < lead.cutoffHour * 60
  let remaining = early ? lead.beforeCutoffDays : lead.afterCutoffDays
  let day = Date.UTC(t.year, t.month - 1, t.day)
  while (remaining > 0) {
    day += DAY
    const d = new Date(day)
    const local = fromUtcFields(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0)
    if (isWorkingDay(local, cal)) remaining--
  }
  const d = new Date(day)
  const at = instantOf(
    d.getUTCFullYear(),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    lead.deliveryHour * 60,
    cal.zone,
  )
  return Math.max(at, orderAt)
}

export function parseHhmm(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return (h as number) * 60 + (m as number)
}
