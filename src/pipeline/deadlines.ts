/**
 * Deadlines instead of scans: a queue of the instants at which a subject of the sweeps next needs a
 * look, and an SLA clock's. Each subject says its own deadline, beside its declaration
 * (src/subjects/device-subjects.ts, src/subjects/stock.ts); this is the queue they go in.
 *
 * A sweep's decision about a subject is a function of its state, what is known of it (inventory,
 * birth), the rules, and the instant. Between two changes of the first three, it changes only where
 * the instant crosses something: a threshold of hours in a rule's condition, the end of a billing
 * month, a half-year, an SLA due time. Those crossings are the deadlines; a deadline that comes too
 * early costs one evaluation that finds nothing new, one that comes too late would change what is
 * decided, so every one here errs early.
 */
import type { Ticket } from '../domain/ticket.ts'

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

/** When a ticket's next SLA clock runs out (checkClocks breaches once the instant is past it). */
export function ticketDeadline(ticket: Ticket, at: number): number {
  const breached = new Set(ticket.breaches.map((b) => b.clock))
  let next = Number.POSITIVE_INFINITY
  for (const [clock, due] of Object.entries(ticket.dueDates))
    if (due !== undefined && !breached.has(clock as never) && due + 1 > at) next = Math.min(next, due + 1)
  return next
}
