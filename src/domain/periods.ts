/**
 * Calendar periods: the billing month (`2026-10`) and the half-year of stock counts (`2026-H2`),
 * in a time zone (a site's; UTC when none is given). Pure.
 */
import { DateTime } from 'luxon'

export interface Period {
  /** `2026-10`, or `2026-H2` */
  id: string
  start: number
  end: number
}

const pad = (n: number) => String(n).padStart(2, '0')
const isUtc = (zone: string | undefined) => zone === undefined || zone === 'UTC' || zone === 'Etc/UTC'

/** The start of month `month0` (0-based, may overflow into later years) of `year`, local to `zone`. */
function monthStart(year: number, month0: number, zone: string | undefined): number {
  if (isUtc(zone)) return Date.UTC(year, month0, 1)
  const y = year + Math.floor(month0 / 12)
  const m = (((month0 % 12) + 12) % 12) + 1
  return DateTime.fromObject({ year: y, month: m, day: 1 }, { zone }).toMillis()
}

/** The period of `months` months (1 or 6) that an instant falls in, in `zone`. */
function periodOf(ms: number, months: 1 | 6, zone?: string): Period {
  let y: number
  let month0: number
  if (isUtc(zone)) {
    const d = new Date(ms)
    y = d.getUTCFullYear()
    month0 = d.getUTCMonth()
  } else {
    const d = DateTime.fromMillis(ms, { zone })
    y = d.year
    month0 = d.month - 1
  }
  const first = Math.floor(month0 / months) * months
  return {
    id: months === 1 ? `${y}-${pad(first + 1)}` : `${y}-H${first / 6 + 1}`,
    start: monthStart(y, first, zone),
    end: monthStart(y, first + months, zone),
  }
}

export const monthOf = (ms: number, zone?: string): Period => periodOf(ms, 1, zone)
export const halfYearOf = (ms: number, zone?: string): Period => periodOf(ms, 6, zone)

/**
 * `2026-10` → that month, `2026-H2` → that half-year, in `zone`; anything else → null. Years before
 * 1970 are refused (Date.UTC would take 0050 for 1950, and nothing is billed or counted before 1970).
 */
export function parsePeriod(id: string, zone?: string): Period | null {
  const month = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(id)
  if (month && Number(month[1]) >= 1970) {
    const y = Number(month[1])
    const m = Number(month[2]) - 1
    return { id, start: monthStart(y, m, zone), end: monthStart(y, m + 1, zone) }
  }
  const half = /^(\d{4})-H([12])$/.exec(id)
  if (half && Number(half[1]) >= 1970) {
    const y = Number(half[1])
    const m = half[2] === '1' ? 0 : 6
    return { id, start: monthStart(y, m, zone), end: monthStart(y, m + 6, zone) }
  }
  return null
}
