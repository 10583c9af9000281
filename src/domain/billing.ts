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
