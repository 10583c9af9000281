/**
 * Billing periods: page counters drive billing, so at the end of each period a device that sent no
 * counter reading in it is asked for one. Periods are calendar months, in UTC. Pure.
 */

export interface Period {
  /** `2026-10` */
  id: string
  start: number
  end: number
}

export function periodOf(ms: number): Period {
  const d = new Date(ms)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  return {
    id: `${y}-${String(m + 1).padStart(2, '0')}`,
    start: Date.UTC(y, m, 1),
    end: Date.UTC(y, m + 1, 1),
  }
}

/** The last period that has ended at `now`. */
export function lastEndedPeriod(now: number): Period {
  return periodOf(periodOf(now).start - 1)
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
): Period | undefined {
  const period = lastEndedPeriod(now)
  if (firstTs >= period.end) return undefined
  if (lastCounterTs !== undefined && lastCounterTs >= period.start) return undefined
  return period
}

/** `2026-10` → that month, or null if it is not one. */
export function parsePeriod(id: string): Period | null {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(id)
  if (!m) return null
  return periodOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1))
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
 * Pages printed in a period, from page counters: from the last counter reading before the period
 * (or the first in it) to the last one in it. Null without two readings to tell a difference, or
 * when the counter went back (a reset: the pages are not known).
 */
export function pagesFromCounters(
  points: readonly CounterPoint[],
  period: Period,
): {
  pages: PagesCount
  from: CounterPoint
  to: CounterPoint
} | null {
  const sorted = [...points].filter((p) => p.ts < period.end).sort((a, b) => a.ts - b.ts)
  const before = sorted.filter((p) => p.ts < period.start)
  const within = sorted.filter((p) => p.ts >= period.start)
  const from = before[before.length - 1] ?? within[0]
  const to = within[within.length - 1]
  if (!from || !to || from === to || to.counters.total < from.counters.total) return null
  const pages: PagesCount = { total: to.counters.total - from.counters.total }
  for (const k of ['mono', 'color'] as const) {
    const a = from.counters[k]
    const b = to.counters[k]
    if (a !== undefined && b !== undefined && b >= a) pages[k] = b - a
  }
  return { pages, from, to }
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
  if (!Object.hasOwn(yields, 'black') && colorPages === 0) return { pages: null, withoutYield }
  const black = Object.hasOwn(yields, 'black') ? pagesOf('black') : 0
  const pages: PagesCount = { total: Math.max(black, colorPages) }
  if (colorPages > 0) pages.color = colorPages
  return { pages, withoutYield }
}
