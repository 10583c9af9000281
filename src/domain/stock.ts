/**
 * Spare toner at a site: what should be on its shelf, from what was shipped (each `reorder` is a
 * cartridge sent) and what was installed (each new cartridge a device showed), counted from the
 * site's last stock count. Twice a year the site is asked to count, so the two can be compared.
 * Pure: the store gathers the events, this adds them up.
 */
import { halfYearOf, type Period, parsePeriod } from './periods.ts'

/** One kind of cartridge: a colour, for a model where the model is known. */
export interface StockItem {
  model: string | null
  color: string
}

export interface StockCountItem extends StockItem {
  count: number
}

export interface StockCount {
  ts: number
  items: StockCountItem[]
}

/** How many cartridges of an item were shipped (reorders) or installed (new cartridges seen). */
export interface StockTally extends StockItem {
  n: number
  /** Of `n`, the extras a person ordered for the shelf. */
  extra?: number
}

export interface StockLine extends StockItem {
  /** What the last count found, or 0 if the site never counted this item. */
  counted: number
  /** Shipped since the last count. */
  shipped: number
  /** Of those shipped, the extras a person ordered for the shelf. */
  extra: number
  /** Installed since the last count. */
  installed: number
  /** counted + shipped − installed: below 0, more cartridges went in than the site was sent. */
  expected: number
}

const keyOf = (i: StockItem) => `${i.model ?? ''}\u0000${i.color}`

/**
 * The expected stock of each item, from the last count and what was shipped and installed after
 * it (the count saw everything before it).
 */
export function expectedStock(
  count: StockCount | null,
  shipped: readonly StockTally[],
  installed: readonly StockTally[],
): StockLine[] {
  const lines = new Map<string, StockLine>()
  const line = (i: StockItem) => {
    const key = keyOf(i)
    let l = lines.get(key)
    if (!l) {
      l = { model: i.model, color: i.color, counted: 0, shipped: 0, extra: 0, installed: 0, expected: 0 }
      lines.set(key, l)
    }
    return l
  }
  for (const c of count?.items ?? []) line(c).counted += c.count
  for (const t of shipped) {
    const l = line(t)
    l.shipped += t.n
    l.extra += t.extra ?? 0
  }
  for (const t of installed) line(t).installed += t.n
  const out = [...lines.values()]
  for (const l of out) l.expected = l.counted + l.shipped - l.installed
  return out.sort((a, b) => keyOf(a).localeCompare(keyOf(b)))
}

/** A site's count request is about one half-year: its episode names it. */
export const stockEpisode = (half: Period): string => `h${half.id}`

/** The half-year a count request's episode names, in the site's zone, or null. */
export const halfYearOfEpisode = (episode: string, zone?: string): Period | null =>
  episode.startsWith('h') ? parsePeriod(episode.slice(1), zone) : null

/**
 * The half-year whose count a site still owes at `now`: the current one in the site's zone, if the
 * site has not counted since it began. A site known only since this half-year began owes nothing
 * for it yet. With the site's calendar, the site is asked from its first working time of the
 * half-year (not on New Year's Day, nor at midnight).
 */
export function owedCount(
  lastCountTs: number | null,
  knownSince: number,
  now: number,
  site: { zone?: string; firstWorkingTime?: (from: number) => number } = {},
): Period | null {
  const half = halfYearOf(now, site.zone)
  if (knownSince >= half.start) return null
  if (lastCountTs !== null && lastCountTs >= half.start) return null
  if (site.firstWorkingTime && now < site.firstWorkingTime(half.start)) return null
  return half
}
