/**
 * Billing periods: page counters drive billing, so at the end of each period a device that sent no
 * counter reading in it is asked for one. Periods are calendar months, in the site's zone (UTC when
 * it has none). Pure.
 */

import { monthOf, type Period, parsePeriod as parseAnyPeriod } from './periods.ts'

export type { Period }

/** The billing month an instant falls in. */
export const periodOf = monthOf

/** The last period that has ended at `now`, in `zone`. */
export function lastEndedPeriod(now: number, zone?: string): Period {
  return periodOf(periodOf(now, zone).start - 1, zone)
}

/**
 * The period a device still owes a meter reading for at `now`: the last one that ended, if no
 * counter reading arrived with a time in it or after it; else none. A device first heard of after
 * that period began owes nothing for it.
 */
export function missingMeterPeriod(
  lastCounterTs: number | undefined,
  firstTs: number,
  now: number,
  zone?: string,
): Period | undefined {
  const period = lastEndedPeriod(now, zone)
  if (firstTs >= period.end) return undefined
  if (lastCounterTs !== undefined && lastCounterTs >= period.start) return undefined
  return period
}

/** `2026-10` → that month in `zone`, or null if it is not one. */
export function parsePeriod(id: string, zone?: string): Period | null {
  return /^\d{4}-\d{2}$/.test(id) ? parseAnyPeriod(id, zone) : null
}

export interface CounterPoint {
  ts: number
  counters: { total: number; mono?: number; color?: number }
}

export interface PagesCount {
  total: number
  mono?: number
  color?: number
}

/**
 * Pages printed in a period, from page counters: the increases from the last counter reading
 * before the period (or the first in it) to the last one in it, reading after reading. A counter
 * that goes back (a reset, a replaced board) counts nothing for that step, and is counted in
 * `resets`: the pages printed between those two readings are not known. Null without two readings.
 */
export function pagesFromCounters(
  points: readonly CounterPoint[],
  period: Period,
): { pages: PagesCount; from: CounterPoint; to: CounterPoint; resets: number } | null {
  const sorted = [...points].filter((p) => p.ts < period.end).sort((a, b) => a.ts - b.ts)
  const firstIn = sorted.findIndex((p) => p.ts >= period.start)
  if (firstIn === -1) return null
  const steps = sorted.slice(Math.max(0, firstIn - 1))
  const from = steps[0]
  const to = steps[steps.length - 1]
  if (!from || !to || steps.length < 2) return null
  const pages: PagesCount = { total: 0 }
  let resets = 0
  const known = { mono: true, color: true }
  for (let i = 1; i < steps.length; i++) {
    const a = (steps[i - 1] as CounterPoint).counters
    const b = (steps[i] as CounterPoint).counters
    if (b.total < a.total) resets++
    else pages.total += b.total - a.total
    for (const k of ['mono', 'color'] as const) {
      const x = a[k]
      const y = b[k]
      if (x === undefined || y === undefined) known[k] = false
      else if (y >= x) pages[k] = (pages[k] ?? 0) + (y - x)
    }
  }
  for (const k of ['mono', 'color'] as const) if (!known[k]) delete pages[k]
  return { pages, from, to, resets }
}

/**
 * Pages estimated from the toner delivered in a period, for a device whose counters are missing:
 * each black cartridge prints its yield of pages (black goes into every page), and the colour pages
 * are those of the colour that was sent most of, in pages. Coarse by nature, and marked as such.
 * Colours without a known yield cannot count: they are named.
 */
export function pagesFromToner(
  cartridges: Readonly<Record<string, number>>,
  yields: Readonly<Record<string, number>>,
): { pages: PagesCount | null; withoutYield: string[] } {
  const withoutYield = Object.keys(cartridges)
    .filter((c) => !Object.hasOwn(yields, c))
    .sort()
  const pagesOf = (color: string) => (cartridges[color] ?? 0) * (yields[color] ?? 0)
  const colorPages = Object.keys(cartridges)
    .filter((c) => c !== 'black' && Object.hasOwn(yields, c))
    .reduce((most, c) => Math.max(most, pagesOf(c)), 0)
  const black = Object.hasOwn(yields, 'black') ? pagesOf('black') : 0
  // Nothing delivered that a yield tells the pages of: no estimate, rather than 0 pages.
  if (black === 0 && colorPages === 0) return { pages: null, withoutYield }
  const pages: PagesCount = { total: Math.max(black, colorPages) }
  if (colorPages > 0) pages.color = colorPages
  return { pages, withoutYield }
}
