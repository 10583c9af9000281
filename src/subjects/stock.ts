/** A site's spare toner, while it owes a count for the half-year: a site subject, at its deadlines. */

import type { Site } from '../contract/schemas.ts'
import { nextWorkingStart } from '../domain/calendar.ts'
import { subjectKey } from '../domain/device-state.ts'
import { halfYearOf } from '../domain/periods.ts'
import { owedCount, type StockCount, type StockLine, stockEpisode } from '../domain/stock.ts'
import { type SubjectInstance, siteFact } from '../rules/facts.ts'

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
      site: siteFact(site.siteId, site),
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

/**
 * When a site's count request may change (owedCount): its half-year's first working time, the
 * half-year's end, and the next one's first working time.
 */
export function stockDeadline(
  at: number,
  site: { zone?: string; firstWorkingTime?: (from: number) => number },
): number {
  const firstAsk = (start: number) => (site.firstWorkingTime ? site.firstWorkingTime(start) : start)
  const half = halfYearOf(at, site.zone)
  const next = halfYearOf(half.end, site.zone)
  return Math.min(...[firstAsk(half.start), half.end, firstAsk(next.start)].filter((t) => t > at))
}
