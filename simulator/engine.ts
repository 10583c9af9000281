/**
 * The fleet simulation: the plan, every device's state, every gateway's connection and buffer, and
 * the closed loop (orders in transit, technicians on their way). `nextTick()` turns one interval of
 * simulated time into the operations a set of real gateways would perform, in order; `applyAction()`
 * takes an action of the service and schedules its effect in simulated time. No IO, no wall clock:
 * the same plan and the same actions give the same operations, byte for byte.
 */
import type { Action, Birth } from '../src/contract/schemas.ts'
import { formatTopic } from '../src/contract/topics.ts'
import {
  activity,
  deliveryTime,
  isOfficeHours,
  type LocalTime,
  localTime,
  officeHoursPerMonth,
} from './calendar.ts'
import {
  type DeviceEvent,
  type DeviceProfile,
  type DeviceReading,
  type DeviceSim,
  initialDevice,
  stepDevice,
  type TickInput,
} from './device.ts'
import { Kpis } from './kpi.ts'
import type { PrinterModel } from './models.ts'
import type { Op, PublishOp } from './ops.ts'
import { type FleetPlan, HOUR, type Span } from './plan.ts'
import { type Buffered, replayChunks } from './replay-chunks.ts'
import { chance, logNormal, type Rng, rngFrom } from './rng.ts'
import { Script } from './script.ts'
import { LatencyWatch } from './watch.ts'

export interface SimulationOptions {
  topicRoot?: string
  /** Largest payload of a replay message, in bytes (the service's default limit is 256 KiB). */
  maxPayloadBytes?: number
  /** Gets every device event, for tests and for tracing. */
  onEvent?: (e: DeviceEvent & { device: number; ts: number }) => void
}

interface Due {
  at: number
  kind: 'toner' | 'box' | 'repair'
  /** The order a delivery answers: an ERP reports its arrival to the service. */
  action?: string
  color?: string
  code?: string
  boardSwap?: boolean
}

interface GatewayState {
  online: boolean
  /** Readings read while offline, per device, as JSON text with their times. */
  buffer: Map<number, Buffered[]>
}

export class Simulation {
  readonly kpis: Kpis
  private readonly root: string
  private readonly maxPayload: number
  private readonly profiles: DeviceProfile[]
  private readonly officeHours: number[]
  private states: DeviceSim[]
  private readonly rngs: Rng[]
  private readonly serviceRngs: Rng[]
  private readonly seq: number[]
  private readonly queues: Due[][]
  private readonly pendingToner: Map<string, number>[]
  private readonly pendingBoxes: number[]
  private readonly watches: LatencyWatch
  private readonly script: Script
  /** Buffered readings replayed at a later instant, per device: the service heard of them then. */
  private readonly replays: { from: number; to: number; at: number }[][]
  private readonly gateways: GatewayState[]
  private readonly outagesBySite: Span[][]
  private readonly silencesByDevice: Span[][]
  private readonly seenActions = new Map<string, string>()
  private k = 0
  readonly ticks: number

  constructor(
    readonly plan: FleetPlan,
    private readonly options: SimulationOptions = {},
  ) {
    this.root = options.topicRoot ?? 'fleet/v1'
    this.maxPayload = options.maxPayloadBytes ?? 250_000
    this.profiles = plan.devices.map((d) => ({
      model: plan.models[d.model] as PrinterModel,
      plan: d,
      shakers: (plan.sites[d.site] as FleetPlan['sites'][number]).shakers,
    }))
    this.officeHours = plan.sites.map((s) => officeHoursPerMonth(s.calendar))
    this.states = plan.devices.map(initialDevice)
    this.rngs = plan.devices.map((d) => rngFrom(d.seed))
    this.serviceRngs = plan.devices.map((d) => rngFrom(d.serviceSeed))
    this.seq = plan.devices.map(() => 0)
    this.queues = plan.devices.map(() => [])
    this.pendingToner = plan.devices.map(() => new Map())
    this.pendingBoxes = plan.devices.map(() => 0)
    this.watches = new LatencyWatch(plan.devices.length)
    this.script = new Script(plan)
    this.replays = plan.devices.map(() => [])
    this.gateways = plan.sites.map(() => ({ online: false, buffer: new Map() }))
    this.outagesBySite = plan.sites.map((s) => plan.outages.filter((o) => o.site === s.index))
    this.silencesByDevice = plan.devices.map(() => [])
    for (const s of plan.silences) this.silencesByDevice[s.device]?.push(s)
    this.ticks = Math.ceil((plan.end - plan.start) / plan.intervalMs)
    this.kpis = new Kpis(plan)
  }

  get done(): boolean {
    return this.k >= this.ticks
  }

  /** Simulated time of the next tick. */
  get now(): number {
    return this.plan.start + this.k * this.plan.intervalMs
  }

  get tickIndex(): number {
    return this.k
  }

  /** The operations of one tick, in the order the gateways perform them. */
  nextTick(): Op[] {
    const plan = this.plan
    const t = this.now
    const ops: Op[] = []
    const scripted = this.script.dueAt(t)
    const local = new Map<string, LocalTime>()
    for (const site of plan.sites) {
      const g = this.gateways[site.index] as GatewayState
      const offline = inSpan(this.outagesBySite[site.index] as Span[], t)
      if (this.k === 0 && !offline) {
        ops.push({ op: 'connect', gateway: site.index })
        this.births(site.index, ops)
        g.online = true
      } else if (g.online && offline) {
        ops.push({ op: 'disconnect', gateway: site.index })
        this.kpis.outageStarted()
        g.online = false
      } else if (!g.online && !offline) {
        ops.push({ op: 'connect', gateway: site.index })
        this.births(site.index, ops)
        this.replay(site.index, t, ops)
        g.online = true
      }
      const zone = site.calendar.zone
      let lt = local.get(zone)
      if (!lt) {
        lt = localTime(t, zone)
        local.set(zone, lt)
      }
      const staffed = isOfficeHours(lt, site.calendar)
      const rate = activity(lt, site.calendar, plan.settings.afterHours)
      for (const d of site.devices) {
        const profile = this.profiles[d] as DeviceProfile
        const ts = t + profile.plan.slotMs
        const input = this.inputOf(d, t, staffed, scripted.get(d))
        const result = stepDevice(
          profile,
          this.states[d] as DeviceSim,
          {
            ts,
            intervalMs: plan.intervalMs,
            activity: rate,
            staffed,
            officeHoursPerMonth: this.officeHours[site.index] as number,
            faultRateFactor: plan.settings.faultRateFactor,
          },
          input,
          this.rngs[d] as Rng,
        )
        this.states[d] = result.state
        for (const e of result.events) this.onDeviceEvent(d, ts, e)
        this.kpis.tick(d, plan.intervalMs, result.outOfToner, staffed)
        if (inSpan(this.silencesByDevice[d] as Span[], t)) continue
        this.emit(site.index, d, ts, result.reading, g.online, t, ops)
      }
    }
    this.k++
    return ops
  }

  /**
   * Takes an action message of the service. A new order or ticket is scheduled from the simulated
   * instant the service could first know its cause: the action's `createdAt`, or, for a reading a
   * gateway replayed after an outage, the moment of the replay. With `effects: false` it only counts
   * (a final reconciliation from the API, after the run).
   */
  applyAction(action: Action, effects = true): boolean {
    if (action.deviceId === undefined) {
      // About a whole site (a stock count, a gateway offline): counted, no device acts on it.
      if (this.seenActions.has(action.id)) return false
      this.seenActions.set(action.id, action.status)
      this.kpis.siteAction(action)
      return false
    }
    const d = this.kpis.deviceIndex(action.deviceId)
    if (d === undefined) {
      this.kpis.foreignAction()
      return false
    }
    const before = this.seenActions.get(action.id)
    if (before === action.status || before === 'resolved') return false
    this.seenActions.set(action.id, action.status)
    if (before !== undefined) return false
    const createdAt = Date.parse(action.createdAt)
    const orderAt = this.heardAt(d, createdAt)
    this.kpis.actionCreated(action, orderAt)
    if (effects && action.status !== 'resolved') this.effect(d, action, orderAt)
    return true
  }

  /** Orders taken in at the site since the last call: the ERP reports them delivered. */
  takeArrivals(): { id: string; at: number }[] {
    return this.arrivals.splice(0)
  }

  /** Whether an action of this id has been taken already (by MQTT or from the API). */
  hasSeen(id: string): boolean {
    return this.seenActions.has(id)
  }

  private effect(d: number, action: Action, orderAt: number): void {
    const site = this.plan.sites[(this.profiles[d] as DeviceProfile).plan.site] as FleetPlan['sites'][number]
    const lead = this.plan.settings.leadTime
    switch (action.type) {
      case 'reorder': {
        const color = String(action.details.color)
        if (!(color in (this.states[d] as DeviceSim).toner)) return
        const pending = this.pendingToner[d] as Map<string, number>
        if ((pending.get(color) ?? 0) > 0) this.kpis.duplicateOrder()
        pending.set(color, (pending.get(color) ?? 0) + 1)
        this.kpis.orderScheduled(action, d)
        this.schedule(d, {
          at: deliveryTime(orderAt, site.calendar, lead),
          kind: 'toner',
          color,
          action: action.id,
        })
        break
      }
      case 'waste-box': {
        if ((this.pendingBoxes[d] as number) > 0) this.kpis.duplicateOrder()
        this.pendingBoxes[d] = (this.pendingBoxes[d] as number) + 1
        this.schedule(d, { at: deliveryTime(orderAt, site.calendar, lead), kind: 'box', action: action.id })
        break
      }
      case 'fault': {
        const code = String(action.details.code)
        const spec = (this.profiles[d] as DeviceProfile).model.errors.find((e) => e.code === code)
        if (!spec || !(this.states[d] as DeviceSim).faults.some((f) => f.code === code)) return
        const rng = this.serviceRngs[d] as Rng
        const { minHours, maxHours, spread } = this.plan.settings.service
        const hours = Math.min(maxHours, Math.max(minHours, logNormal(rng, spec.repairHours ?? 24, spread)))
        const boardSwap = chance(rng, spec.boardSwap ?? 0)
        this.schedule(d, { at: orderAt + Math.round(hours * HOUR), kind: 'repair', code, boardSwap })
        break
      }
    }
  }

  /**
   * The shortest time from an action's cause to its effect (a delivery, a repair), less an hour for
   * clock changes: the simulation may run this far ahead of the actions it has received.
   */
  minEffectDelayMs(): number {
    const lead = this.plan.settings.leadTime
    const before = lead.beforeCutoffDays * 24 - (lead.cutoffHour - lead.deliveryHour)
    const after = Math.max(0, lead.afterCutoffDays - 1) * 24 + lead.deliveryHour
    const leadHours = Math.max(0, Math.min(before, after) - 1)
    return Math.min(leadHours, this.plan.settings.service.minHours) * HOUR
  }

  private readonly arrivals: { id: string; at: number }[] = []

  private schedule(d: number, due: Due): void {
    if (due.at < this.now) this.kpis.lateEffect()
    const q = this.queues[d] as Due[]
    let i = q.length
    while (i > 0 && (q[i - 1] as Due).at > due.at) i--
    q.splice(i, 0, due)
  }

  /** The simulated instant the service could first know of a reading of device d at ts. */
  private heardAt(d: number, ts: number): number {
    for (const r of this.replays[d] as { from: number; to: number; at: number }[])
      if (ts >= r.from && ts <= r.to) return Math.max(ts, r.at)
    return ts
  }

  private inputOf(
    d: number,
    t: number,
    staffed: boolean,
    scripted: Partial<TickInput> | undefined,
  ): TickInput {
    const input: TickInput = { delivered: { toner: [], boxes: 0 }, repairs: [], ...scripted }
    const q = this.queues[d] as Due[]
    // Deliveries are taken in, and technicians work, while someone is on site.
    if (staffed) {
      while (q.length > 0 && (q[0] as Due).at <= t) {
        const due = q.shift() as Due
        if (due.action !== undefined) {
          this.arrivals.push({ id: due.action, at: t })
          this.kpis.orderArrived(due.action, t)
        }
        if (due.kind === 'toner') input.delivered.toner.push(due.color as string)
        else if (due.kind === 'box') input.delivered.boxes++
        else input.repairs.push({ code: due.code as string, boardSwap: due.boardSwap === true })
      }
    }
    return input
  }

  private onDeviceEvent(d: number, ts: number, e: DeviceEvent): void {
    if (e.type === 'fit-toner') {
      this.watches.tonerFitted(d, e.color)
      const pending = this.pendingToner[d] as Map<string, number>
      pending.set(e.color, Math.max(0, (pending.get(e.color) ?? 0) - 1))
    } else if (e.type === 'fit-box') {
      this.watches.boxFitted(d)
      if (!e.withToner) this.pendingBoxes[d] = Math.max(0, (this.pendingBoxes[d] as number) - 1)
    }
    const model = (this.profiles[d] as DeviceProfile).model
    this.kpis.deviceEvent(d, ts, e, model)
    this.options.onEvent?.({ ...e, device: d, ts })
  }

  private births(site: number, ops: Op[]): void {
    const s = this.plan.sites[site] as FleetPlan['sites'][number]
    for (const d of s.devices) {
      const p = (this.profiles[d] as DeviceProfile).plan
      const model = (this.profiles[d] as DeviceProfile).model
      const birth: Birth = {
        vendor: model.vendor,
        model: model.model,
        serial: p.serial,
        location: p.location,
        contact: p.contact,
      }
      this.publish(ops, site, d, 'birth', JSON.stringify(birth), true, 'birth', 0, [])
    }
  }

  private emit(
    site: number,
    d: number,
    ts: number,
    r: DeviceReading,
    online: boolean,
    t: number,
    ops: Op[],
  ): void {
    const seq = ++(this.seq[d] as number)
    const { ts: iso, ...fields } = r
    const json = JSON.stringify({ ts: iso, seq, ...fields })
    const watch = this.watches.reading(d, r)
    this.kpis.readingShown(d, r, online ? t : null)
    if (online) {
      this.publish(ops, site, d, 'telemetry', json, false, 'reading', 1, watch ? [ts] : [])
      return
    }
    const g = this.gateways[site] as GatewayState
    let list = g.buffer.get(d)
    if (!list) {
      list = []
      g.buffer.set(d, list)
    }
    list.push({ ts, json, watch })
  }

  /** After an outage: each device's buffered readings, oldest first, as arrays within the size limits. */
  private replay(site: number, t: number, ops: Op[]): void {
    const g = this.gateways[site] as GatewayState
    const s = this.plan.sites[site] as FleetPlan['sites'][number]
    for (const d of s.devices) {
      const list = g.buffer.get(d)
      if (!list || list.length === 0) continue
      ;(this.replays[d] as { from: number; to: number; at: number }[]).push({
        from: (list[0] as { ts: number }).ts,
        to: (list[list.length - 1] as { ts: number }).ts,
        at: t,
      })
      this.kpis.replayed(d, t)
      for (const c of replayChunks(list, this.maxPayload))
        this.publish(ops, site, d, 'telemetry', c.payload, false, 'replay', c.readings, c.watch)
    }
    g.buffer.clear()
  }

  private publish(
    ops: Op[],
    gateway: number,
    d: number,
    kind: 'telemetry' | 'birth',
    payload: string,
    retain: boolean,
    opKind: PublishOp['kind'],
    readings: number,
    watch: number[],
  ): void {
    const deviceId = (this.profiles[d] as DeviceProfile).plan.deviceId
    const siteId = (this.plan.sites[gateway] as FleetPlan['sites'][number]).siteId
    ops.push({
      op: 'publish',
      gateway,
      topic: formatTopic(this.root, siteId, deviceId, kind),
      payload,
      retain,
      kind: opKind,
      readings,
      deviceId,
      watch,
    })
    this.kpis.published(opKind, readings, payload.length)
  }
}

function inSpan(spans: readonly Span[], t: number): boolean {
  for (const s of spans) if (t >= s.from && t < s.to) return true
  return false
}
