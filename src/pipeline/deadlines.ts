/**
 * Deadlines instead of scans: when a subject of the sweeps next needs a look, derived from its state
 * and from the loaded rules, and a queue of those instants. Pure but for the queue's own memory.
 *
 * A sweep's decision about a subject is a function of its state, what is known of it (inventory,
 * birth), the rules, and the instant. Between two changes of the first three, it changes only where
 * the instant crosses something: a threshold of hours in a rule's condition, the end of a billing
 * month, a half-year, an SLA due time. Those crossings are the deadlines; a deadline that comes too
 * early costs one evaluation that finds nothing new, one that comes too late would change what is
 * decided, so every one here errs early.
 */
import { type DeviceState, RECURRENCE_WINDOW_MS } from '../domain/device-state.ts'
import { halfYearOf, monthOf } from '../domain/periods.ts'
import type { Ticket } from '../domain/ticket.ts'
import type { LoadedRule } from '../rules/loader.ts'

const HOUR = 3_600_000

/**
 * A min-heap of instants, at most one per key: setting a key's deadline again replaces it (the old
 * entry stays in the heap, marked stale, and is dropped when it comes up).
 */
export class DeadlineQueue<K> {
  private heap: { at: number; key: K; gen: number }[] = []
  private readonly current = new Map<K, { at: number; gen: number }>()
  private gen = 0

  get size(): number {
    return this.current.size
  }

  /** Sets the key's deadline; an infinite one removes it. */
  set(key: K, at: number): void {
    if (!Number.isFinite(at)) {
      this.current.delete(key)
      return
    }
    const known = this.current.get(key)
    if (known?.at === at) return
    const entry = { at, key, gen: ++this.gen }
    this.current.set(key, { at, gen: entry.gen })
    this.heap.push(entry)
    this.up(this.heap.length - 1)
  }

  /** The earliest deadline, or Infinity. */
  peek(): number {
    this.dropStale()
    return this.heap[0]?.at ?? Number.POSITIVE_INFINITY
  }

  /** Removes and returns the keys whose deadline is at or before `now`, earliest first. */
  popDue(now: number): K[] {
    const out: K[] = []
    for (;;) {
      this.dropStale()
      const top = this.heap[0]
      if (!top || top.at > now) return out
      this.pop()
      this.current.delete(top.key)
      out.push(top.key)
    }
  }

  private dropStale(): void {
    for (;;) {
      const top = this.heap[0]
      if (!top || this.current.get(top.key)?.gen === top.gen) return
      this.pop()
    }
  }

  private pop(): void {
    const last = this.heap.pop()
    if (last === undefined || this.heap.length === 0) return
    this.heap[0] = last
    this.down(0)
  }

  private up(i: number): void {
    const h = this.heap
    for (let child = i; child > 0; ) {
      const parent = (child - 1) >> 1
      if ((h[parent] as { at: number }).at <= (h[child] as { at: number }).at) return
      ;[h[parent], h[child]] = [h[child] as (typeof h)[number], h[parent] as (typeof h)[number]]
      child = parent
    }
  }

  private down(i: number): void {
    const h = this.heap
    for (let parent = i; ; ) {
      let least = parent
      for (const child of [2 * parent + 1, 2 * parent + 2])
        if (child < h.length && (h[child] as { at: number }).at < (h[least] as { at: number }).at)
          least = child
      if (least === parent) return
      ;[h[parent], h[least]] = [h[least] as (typeof h)[number], h[parent] as (typeof h)[number]]
      parent = least
    }
  }
}

/** The first instant of a sweep grid (`from`, `from + every`, …) at or after `at`. */
export function sweepInstantOf(at: number, from: number, every: number): number {
  return at <= from ? from : from + Math.ceil((at - from) / every) * every
}

/**
 * The numbers a rule's conditions compare one fact field with, in the rules of these subjects; null
 * when one of them cannot be read as numbers (another fact as the value, a string, the whole fact
 * without a path): then the only safe deadline is every sweep instant.
 */
export function thresholdsOf(
  rules: readonly LoadedRule[],
  subjects: readonly string[],
  fact: string,
  field: string,
): number[] | null {
  const found = new Set<number>()
  const walk = (node: unknown): boolean => {
    if (typeof node !== 'object' || node === null) return true
    const c = node as Record<string, unknown>
    for (const group of ['all', 'any'] as const) {
      if (Array.isArray(c[group]) && !(c[group] as unknown[]).every(walk)) return false
    }
    if (c.not !== undefined && !walk(c.not)) return false
    if (c.fact !== fact) return true
    if (c.path === undefined) return false
    if (c.path !== `$.${field}`) return true
    const values = Array.isArray(c.value) ? c.value : [c.value]
    for (const v of values) {
      if (typeof v !== 'number' || !Number.isFinite(v)) return false
      found.add(v)
    }
    return true
  }
  for (const rule of rules) if (subjects.includes(rule.subject) && !walk(rule.conditions)) return null
  return [...found].sort((a, b) => a - b)
}

/**
 * The first instant after `after` at which `hours` since `base` may cross one of the thresholds. The
 * hours are a division, and a condition may be strict or not: a millisecond on each side of the
 * exact crossing is looked at too.
 */
export function nextCrossing(base: number, hours: readonly number[], after: number): number {
  let next = Number.POSITIVE_INFINITY
  for (const h of hours) {
    const at = base + h * HOUR
    for (const t of [Math.floor(at) - 1, Math.floor(at), Math.ceil(at) + 1])
      if (t > after && t < next) next = t
  }
  return next
}

/** What the rules of the device sweeps look at over time. */
export interface DevicePlan {
  /** `hoursSinceLastReading` thresholds of the silence and billing rules; null: look at every sweep. */
  hours: number[] | null
  billing: boolean
}

/**
 * When the sweep's rules about a device may decide otherwise than at instant `at`: a threshold of
 * its silence crossed, a billing month ended.
 */
export function deviceDeadline(state: DeviceState, zone: string | undefined, plan: DevicePlan, at: number) {
  const silence = plan.hours === null ? at + 1 : nextCrossing(state.lastTs, plan.hours, at)
  return Math.min(silence, plan.billing ? monthOf(at, zone).end : Number.POSITIVE_INFINITY)
}

/**
 * When the device's current episodes (which a sweep's commit resolves actions by) change with the
 * clock alone: a run of recurrences ends a window after its last start, a billing month ends.
 * This is in the clock's time, which in event time lags the sweep instants.
 */
export function episodeDeadline(state: DeviceState, zone: string | undefined, now: number): number {
  let next = monthOf(now, zone).end
  for (const r of Object.values(state.recurrences ?? {})) {
    const last = r.starts[r.starts.length - 1]
    if (last !== undefined && last + RECURRENCE_WINDOW_MS + 1 > now)
      next = Math.min(next, last + RECURRENCE_WINDOW_MS + 1)
  }
  return next
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

/** When a ticket's next SLA clock runs out (checkClocks breaches once the instant is past it). */
export function ticketDeadline(ticket: Ticket, at: number): number {
  const breached = new Set(ticket.breaches.map((b) => b.clock))
  let next = Number.POSITIVE_INFINITY
  for (const [clock, due] of Object.entries(ticket.dueDates))
    if (due !== undefined && !breached.has(clock as never) && due + 1 > at) next = Math.min(next, due + 1)
  return next
}
