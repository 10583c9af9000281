/**
 * Calendar periods in UTC: the billing month (`2026-10`) and the half-year of stock counts
 * (`2026-H2`). Pure.
 */

export interface Period {
  /** `2026-10`, or `2026-H2` */
  id: string
  start: number
  end: number
}

const pad = (n: number) => String(n).padStart(2, '0')

/** The period of `months` months (1 or 6) that an instant falls in. */
function periodOf(ms: number, months: 1 | 6): Period {
  const d = new Date(ms)
  const y = d.getUTCFullYear()
  const first = Math.floor(d.getUTCMonth() / months) * months
  return {
    id: months === 1 ? `${y}-${pad(first + 1)}` : `${y}-H${first / 6 + 1}`,
    start: Date.UTC(y, first, 1),
    end: Date.UTC(y, first + months, 1),
  }
}

export const monthOf = (ms: number): Period => periodOf(ms, 1)
export const halfYearOf = (ms: number): Period => periodOf(ms, 6)

/**
 * `2026-10` → that month, `2026-H2` → that half-year; anything else → null. Years before 1970 are
 * refused (Date.UTC would take 0050 for 1950, and nothing is billed or counted before 1970).
 */
export function parsePeriod(id: string): Period | null {
  const month = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(id)
  if (month && Number(month[1]) >= 1970) return monthOf(Date.UTC(Number(month[1]), Number(month[2]) - 1, 1))
  const half = /^(\d{4})-H([12])$/.exec(id)
  if (half && Number(half[1]) >= 1970)
    return halfYearOf(Date.UTC(Number(half[1]), half[2] === '1' ? 0 : 6, 1))
  return null
}
