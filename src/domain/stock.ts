/**
 * Spare toner at a site: what should be on its shelf, from what was shipped (each `reorder` is a
 * cartridge sent) and what was installed (each new cartridge a device showed), counted from the
 * site's last stock count. Twice a year the site is asked to count, so the two can be compared.
 * Pure: the store gathers the events, this adds them up.
 */

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

/** A cartridge shipped (a reorder) or installed (a new cartridge seen), at an instant. */
export interface StockEvent extends StockItem {
  ts: number
}

export interface StockLine extends StockItem {
  /** What the last count found, or 0 if the site never counted this item. */
  counted: number
  /** Shipped since the last count. */
  shipped: number
  /** Installed since the last count. */
  installed: number
  /** counted + shipped − installed: below 0, more cartridges went in than the site was sent. */
  expected: number
}

const keyOf = (i: StockItem) => `${i.model ?? ''}\u0000${i.color}`

/**
 * The expected stock of each item. Only events after the count's instant count: the count saw
 * everything before it.
 */
export function expectedStock(
  count: StockCount | null,
  shipped: readonly StockEvent[],
  installed: readonly StockEvent[],
): StockLine[] {
  const lines = new Map<string, StockLine>()
  const line = (i: StockItem) => {
    const key = keyOf(i)
    let l = lines.get(key)
    if (!l) {
      l = { model: i.model, color: i.color, counted: 0, shipped: 0, installed: 0, expected: 0 }
      lines.set(key, l)
    }
    return l
  }
  const after = count?.ts ?? Number.NEGATIVE_INFINITY
  for (const c of count?.items ?? []) line(c).counted += c.count
  for (const e of shipped) if (e.ts > after) line(e).shipped++
  for (const e of installed) if (e.ts > after) line(e).installed++
  const out = [...lines.values()]
  for (const l of out) l.expected = l.counted + l.shipped - l.installed
  return out.sort((a, b) => keyOf(a).localeCompare(keyOf(b)))
}

export interface HalfYear {
  /** `2026-H2` */
  id: string
  start: number
  end: number
}

/** The half-year an instant falls in (January to June, July to December, UTC, as billing periods). */
export function halfYearOf(ms: number): HalfYear {
  const d = new Date(ms)
  const y = d.getUTCFullYear()
  const second = d.getUTCMonth() >= 6
  return {
    id: `${y}-H${second ? 2 : 1}`,
    start: Date.UTC(y, second ? 6 : 0, 1),
    end: second ? Date.UTC(y + 1, 0, 1) : Date.UTC(y, 6, 1),
  }
}

/**
 * The half-year whose count a site still owes at `now`: the current one, if the site has not
 * counted since it began. A site known only since this half-year began owes nothing for it yet.
 */
export function owedCount(lastCountTs: number | null, knownSince: number, now: number): HalfYear | null {
  const half = halfYearOf(now)
  if (knownSince >= half.start) return null
  if (lastCountTs !== null && lastCountTs >= half.start) return null
  return half
}
