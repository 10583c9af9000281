/**
 * What a run measured: what was published, and the managed-print KPIs (stockout hours, toner thrown
 * away, duplicate orders, silences and faults injected against those the service detected, with the
 * delays). Counted from the simulator's ground truth and the actions it received; no wall clock.
 */
import type { Action } from '../src/contract/schemas.ts'
import type { DeviceEvent, DeviceReading } from './device.ts'
import type { PrinterModel } from './models.ts'
import { type FleetPlan, HOUR } from './plan.ts'

/** CONTRACT.md: a device is missed after more than 5 days without a reading. */
export const SILENCE_THRESHOLD_HOURS = 120

export interface Distribution {
  count: number
  p50: number | null
  p95: number | null
  p99: number | null
  max: number | null
}

/** Nearest-rank percentiles of unsorted samples, rounded to `digits`. */
export function distribution(samples: readonly number[], digits = 1): Distribution {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p: number) => {
    if (sorted.length === 0) return null
    const v = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
    return Number(v.toFixed(digits))
  }
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: at(100) }
}

interface FaultRecord {
  device: number
  code: string
  at: number
  /** When the service could first hear of it: a live reading's time, or the replay of a buffered one. */
  heardAt: number | null
  buffered: boolean
  ticketAt: number | null
  repairedAt: number | null
}

interface SilenceRecord {
  device: number
  from: number
  to: number
  detectable: boolean
  detectedAt: number | null
}

export interface KpiReport {
  published: {
    messages: number
    births: number
    readings: number
    liveReadings: number
    replayMessages: number
    replayedReadings: number
    bytes: number
  }
  stockout: { hours: number; officeHours: number; episodes: number; devices: number }
  tonerThrownAway: { earlyReplacements: number; percentPoints: number; cartridges: number; pages: number }
  supplies: { cartridgesFitted: number; wasteBoxesFitted: number; shakes: number }
  orders: { reorders: number; wasteBoxes: number; duplicates: number; lateEffects: number }
  /**
   * The service's `delivery-overdue` follow-ups, and those of them that chased an order which
   * arrived within its lead time (by its `details.expectedDelivery`): a needless chase. None should.
   */
  followUps: { deliveryOverdue: number; chasedOrdersOnTime: number; chasedOnTime: string[] }
  silences: {
    injected: number
    detectable: number
    detected: number
    missed: string[]
    detectionDelayHours: Distribution
    missedReadingsDuringOutages: number
    otherMissedReadings: number
  }
  faults: {
    injected: number
    reported: number
    ticketed: number
    missed: string[]
    repaired: number
    detectionDelayHours: Distribution
  }
  incidents: { outages: number; jams: number; coversOpen: number; counterResets: number }
  actions: Record<string, number>
}

export class Kpis {
  private readonly ids = new Map<string, number>()
  private readonly pub = {
    messages: 0,
    births: 0,
    readings: 0,
    liveReadings: 0,
    replayMessages: 0,
    replayedReadings: 0,
    bytes: 0,
  }
  private stockoutMs = 0
  private stockoutOfficeMs = 0
  private stockoutEpisodes = 0
  private readonly out: boolean[]
  private readonly everOut = new Set<number>()
  private early = 0
  private thrownPercent = 0
  private thrownPages = 0
  private fitted = 0
  private boxes = 0
  private shakes = 0
  private jams = 0
  private covers = 0
  private resets = 0
  private outages = 0
  private duplicates = 0
  private late = 0
  private readonly actions: Record<string, number> = {}
  /** Toner orders the simulation scheduled, by device and colour: when expected, when they arrive. */
  private readonly orders = new Map<
    string,
    { device: number; color: string; at: number; expected: number | null; arrived: number | null }
  >()
  private readonly overdue: { device: number; color: string; at: number }[] = []
  private readonly faults: FaultRecord[] = []
  private readonly openFaults = new Map<string, FaultRecord>()
  private readonly silences: SilenceRecord[]
  private duringOutages = 0
  private otherMissed = 0

  constructor(private readonly plan: FleetPlan) {
    for (const d of plan.devices) this.ids.set(d.deviceId, d.index)
    this.out = plan.devices.map(() => false)
    const sweepMargin = HOUR + plan.intervalMs
    this.silences = plan.silences.map((s) => ({
      ...s,
      detectable:
        s.to - s.from > SILENCE_THRESHOLD_HOURS * HOUR + sweepMargin &&
        s.from + SILENCE_THRESHOLD_HOURS * HOUR + sweepMargin < plan.end,
      detectedAt: null,
    }))
  }

  deviceIndex(deviceId: string): number | undefined {
    return this.ids.get(deviceId)
  }

  published(kind: 'birth' | 'reading' | 'replay', readings: number, bytes: number): void {
    this.pub.messages++
    this.pub.bytes += bytes
    if (kind === 'birth') this.pub.births++
    else {
      this.pub.readings += readings
      if (kind === 'replay') {
        this.pub.replayMessages++
        this.pub.replayedReadings += readings
      } else this.pub.liveReadings += readings
    }
  }

  outageStarted(): void {
    this.outages++
  }

  tick(d: number, intervalMs: number, outOfToner: boolean, staffed: boolean): void {
    if (outOfToner) {
      this.stockoutMs += intervalMs
      if (staffed) this.stockoutOfficeMs += intervalMs
      if (!this.out[d]) this.stockoutEpisodes++
      this.everOut.add(d)
    }
    this.out[d] = outOfToner
  }

  deviceEvent(d: number, ts: number, e: DeviceEvent, model: PrinterModel): void {
    switch (e.type) {
      case 'fit-toner':
        this.fitted++
        if (e.early) {
          this.early++
          this.thrownPercent += e.before
          this.thrownPages += (e.before / 100) * (model.cartridgeYield[e.color] as number)
        }
        break
      case 'fit-box':
        this.boxes++
        break
      case 'shake':
        this.shakes++
        break
      case 'counter-reset':
        this.resets++
        break
      case 'fault':
        if (e.kind === 'jam') this.jams++
        else if (e.kind === 'cover') this.covers++
        if (e.severity === 'critical') {
          const r: FaultRecord = {
            device: d,
            code: e.code,
            at: ts,
            heardAt: null,
            buffered: false,
            ticketAt: null,
            repairedAt: null,
          }
          this.faults.push(r)
          this.openFaults.set(`${d}|${e.code}`, r)
        }
        break
      case 'repaired': {
        const r = this.openFaults.get(`${d}|${e.code}`)
        if (r) r.repairedAt = ts
        this.openFaults.delete(`${d}|${e.code}`)
        break
      }
    }
  }

  /** A reading was read from device d: published now (at `heardAt`), or buffered by an offline gateway (null). */
  readingShown(d: number, r: DeviceReading, heardAt: number | null): void {
    for (const e of r.errors ?? []) {
      if (e.severity !== 'critical') continue
      const f = this.openFaults.get(`${d}|${e.code}`)
      if (!f || f.heardAt !== null) continue
      if (heardAt === null) f.buffered = true
      else f.heardAt = heardAt
    }
  }

  replayed(d: number, at: number): void {
    for (const f of this.openFaults.values())
      if (f.device === d && f.buffered && f.heardAt === null) f.heardAt = at
  }

  /** A toner order the simulation will deliver. */
  orderScheduled(a: Action, d: number): void {
    const expected =
      typeof a.details.expectedDelivery === 'string' ? Date.parse(a.details.expectedDelivery) : null
    this.orders.set(a.id, {
      device: d,
      color: String(a.details.color),
      at: Date.parse(a.createdAt),
      expected,
      arrived: null,
    })
  }

  /** An order taken in at its site. */
  orderArrived(id: string, at: number): void {
    const o = this.orders.get(id)
    if (o) o.arrived = at
  }

  actionCreated(a: Action, heardAt: number): void {
    this.actions[a.type] = (this.actions[a.type] ?? 0) + 1
    const d = this.ids.get(a.deviceId ?? '') as number
    const createdAt = Date.parse(a.createdAt)
    if (a.type === 'delivery-overdue')
      this.overdue.push({ device: d, color: String(a.details.color), at: createdAt })
    if (a.type === 'fault') {
      const code = String(a.details.code)
      let best: FaultRecord | undefined
      for (const f of this.faults)
        if (f.device === d && f.code === code && f.ticketAt === null && f.at <= createdAt) best = f
      if (best) best.ticketAt = heardAt
    } else if (a.type === 'missed-reading') {
      const s = this.silences.find(
        (x) => x.device === d && createdAt >= x.from && createdAt <= x.to + this.plan.intervalMs,
      )
      if (s) s.detectedAt ??= createdAt
      else {
        const site = this.plan.devices[d]?.site
        const outage = this.plan.outages.some(
          (o) => o.site === site && createdAt >= o.from && createdAt <= o.to + this.plan.intervalMs,
        )
        if (outage) this.duringOutages++
        else this.otherMissed++
      }
    }
  }

  duplicateOrder(): void {
    this.duplicates++
  }

  lateEffect(): void {
    this.late++
  }

  /** An action about a whole site: counted by type, under `site:` (no device's KPI moves). */
  siteAction(a: Action): void {
    const key = `site:${a.type}`
    this.actions[key] = (this.actions[key] ?? 0) + 1
  }

  foreignAction(): void {
    this.actions.foreign = (this.actions.foreign ?? 0) + 1
  }

  /** Each follow-up against the order it chased: the latest of its device and colour before it. */
  private followUps(): KpiReport['followUps'] {
    const onTime: string[] = []
    for (const f of this.overdue) {
      let chased: { expected: number | null; arrived: number | null } | undefined
      for (const o of this.orders.values())
        if (o.device === f.device && o.color === f.color && o.at <= f.at) chased = o
      // Taken in by its expected delivery, whenever the follow-up came (before it or after).
      if (chased?.expected != null && chased.arrived !== null && chased.arrived <= chased.expected)
        onTime.push(
          `${this.plan.devices[f.device]?.deviceId ?? f.device} ${f.color} at ${new Date(f.at).toISOString()}`,
        )
    }
    return { deliveryOverdue: this.overdue.length, chasedOrdersOnTime: onTime.length, chasedOnTime: onTime }
  }

  report(): KpiReport {
    const hours = (ms: number) => Number((ms / HOUR).toFixed(2))
    const id = (d: number) => this.plan.devices[d]?.deviceId ?? String(d)
    const reported = this.faults.filter((f) => f.heardAt !== null)
    const detectable = this.silences.filter((s) => s.detectable)
    return {
      published: { ...this.pub },
      stockout: {
        hours: hours(this.stockoutMs),
        officeHours: hours(this.stockoutOfficeMs),
        episodes: this.stockoutEpisodes,
        devices: this.everOut.size,
      },
      tonerThrownAway: {
        earlyReplacements: this.early,
        percentPoints: Number(this.thrownPercent.toFixed(1)),
        cartridges: Number((this.thrownPercent / 100).toFixed(2)),
        pages: Math.round(this.thrownPages),
      },
      supplies: { cartridgesFitted: this.fitted, wasteBoxesFitted: this.boxes, shakes: this.shakes },
      orders: {
        reorders: this.actions.reorder ?? 0,
        wasteBoxes: this.actions['waste-box'] ?? 0,
        duplicates: this.duplicates,
        lateEffects: this.late,
      },
      followUps: this.followUps(),
      silences: {
        injected: this.silences.length,
        detectable: detectable.length,
        detected: detectable.filter((s) => s.detectedAt !== null).length,
        missed: detectable
          .filter((s) => s.detectedAt === null)
          .map((s) => `${id(s.device)}@${new Date(s.from).toISOString()}`),
        detectionDelayHours: distribution(
          this.silences
            .filter((s) => s.detectedAt !== null)
            .map((s) => ((s.detectedAt as number) - s.from) / HOUR),
        ),
        missedReadingsDuringOutages: this.duringOutages,
        otherMissedReadings: this.otherMissed,
      },
      faults: {
        injected: this.faults.length,
        reported: reported.length,
        ticketed: reported.filter((f) => f.ticketAt !== null).length,
        missed: reported
          .filter((f) => f.ticketAt === null)
          .map((f) => `${id(f.device)}:${f.code}@${new Date(f.at).toISOString()}`),
        repaired: this.faults.filter((f) => f.repairedAt !== null).length,
        detectionDelayHours: distribution(
          reported.filter((f) => f.ticketAt !== null).map((f) => ((f.ticketAt as number) - f.at) / HOUR),
        ),
      },
      incidents: {
        outages: this.outages,
        jams: this.jams,
        coversOpen: this.covers,
        counterResets: this.resets,
      },
      actions: { ...this.actions },
    }
  }
}
