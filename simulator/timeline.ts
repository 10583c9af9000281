/** The KPIs of a run as they stood through it, for charts over simulated time (about 200 points). */
import type { Simulation } from './engine.ts'

/** Where a run stood at one simulated instant: totals so far, and the latency since the point before. */
export interface TimelinePoint {
  /** Simulated time, ISO 8601. */
  at: string
  stockoutHours: number
  reorders: number
  wasteBoxOrders: number
  cartridgesFitted: number
  wasteBoxesFitted: number
  tickets: number
  slaBreaches: number
  tonerThrownAwayPercentPoints: number
  /** Median publish-to-action latency of the actions received since the point before, or null. */
  latencyP50Ms: number | null
}

export class Timeline {
  readonly points: TimelinePoint[] = []
  private latencyFrom = 0

  constructor(
    private readonly sim: Simulation,
    /** Publish-to-action latencies, in the order received. */
    private readonly latencies: readonly number[],
    /** SLA clocks breached, per ticket, as its newest action message says. */
    private readonly slaBreaches: ReadonlyMap<string, number>,
  ) {}

  sample(at: number): void {
    const k = this.sim.kpis.report()
    const recent = this.latencies.slice(this.latencyFrom).sort((a, b) => a - b)
    this.latencyFrom = this.latencies.length
    let breaches = 0
    for (const n of this.slaBreaches.values()) breaches += n
    this.points.push({
      at: new Date(at).toISOString(),
      stockoutHours: k.stockout.hours,
      reorders: k.orders.reorders,
      wasteBoxOrders: k.orders.wasteBoxes,
      cartridgesFitted: k.supplies.cartridgesFitted,
      wasteBoxesFitted: k.supplies.wasteBoxesFitted,
      tickets: k.faults.ticketed,
      slaBreaches: breaches,
      tonerThrownAwayPercentPoints: k.tonerThrownAway.percentPoints,
      latencyP50Ms:
        recent.length === 0 ? null : Number((recent[Math.floor(recent.length / 2)] as number).toFixed(2)),
    })
  }
}
