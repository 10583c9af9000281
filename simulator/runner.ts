/**
 * Runs a simulation against a broker: paces simulated time (`--speed`), carries out the engine's
 * operations over MQTT, feeds the service's actions back into the engine (the closed loop), writes
 * the `--out` record and measures rate and latency. With the service's API (`--api`) it also runs in
 * lockstep with the service's processing, which makes a closed-loop run reproducible.
 */
import { createWriteStream, type WriteStream, writeFileSync } from 'node:fs'
import type { Action } from '../src/contract/schemas.ts'
import { Simulation } from './engine.ts'
import {
  type InProcessService,
  type Link,
  type Listener,
  type ServiceApi,
  startInProcess,
} from './in-process.ts'
import { type Distribution, distribution, type KpiReport } from './kpi.ts'
import { loadModels } from './models.ts'
import type { Op } from './ops.ts'
import { type FleetPlan, type PlanOptions, planFleet } from './plan.ts'
import { createProgress, type ProgressMode, type ProgressState } from './progress.ts'
import { htmlReport } from './report-html.ts'
import type { Scenario } from './scenario.ts'
import { ServiceSync } from './service-sync.ts'
import { Timeline, type TimelinePoint } from './timeline.ts'
import { ActionListener, type BrokerOptions, GatewayLink, httpApi } from './transport.ts'

/** What a run plans (PlanOptions: fleet size, seed, time span) and how it publishes. */
export interface RunConfig extends PlanOptions {
  scenarioFile: string
  scenario: Scenario
  /** null: generate only, publish nothing (`--dry-run`). */
  broker: string | null
  username?: string
  password?: string
  ca?: string
  /** The service's HTTP API: lockstep with its processing, and the final count of its actions. */
  api?: string
  /** Subscribe to the actions and act on them. */
  closedLoop: boolean
  /** With `api`: wait for the service's processing at sync points (reproducible). */
  lockstep: boolean
  speed: number | 'max'
  out?: string
  report?: string
  /** A self-contained HTML page of the run, with charts over simulated time (`--report-html`). */
  reportHtml?: string
  topicRoot: string
  window: number
  /** Lockstep period; by default the shortest cause-to-effect delay, rounded down to the interval. */
  syncEveryMs?: number
  maxPayloadBytes: number
  clientPrefix: string
  progress: ProgressMode
  /** Without the API: how long to wait for late action messages after the last reading. */
  lingerMs: number
  /** Told where the run stands after each tick, as the progress is (a bench that acts at simulated instants). */
  observe?: (s: ProgressState) => void
  /**
   * `--in-process`: the service's core in this process, in event time, no socket and no fsync,
   * with these rules and this sweep interval (instead of `broker` and `api`).
   */
  inProcess?: { rulesDir: string; sweepIntervalMs: number }
  /** With `inProcess`: given the service's API once the run is over, before the service stops. */
  inspect?: (api: ServiceApi) => Promise<void>
}

export interface RunReport {
  run: {
    scenario: string
    seed: number
    devices: number
    sites: number
    start: string
    end: string
    interval: string
    speed: number | 'max'
    broker: string | null
    closedLoop: boolean
    /** Actions were received (closed loop) or counted from the API: detection KPIs mean something. */
    observesActions: boolean
    lockstep: boolean
    syncEveryMinutes: number | null
  }
  published: KpiReport['published']
  rate: {
    /** Until the last reading was acknowledged (stored). */
    wallSeconds: number
    /** With --api: until the service had processed every reading. */
    processedSeconds: number | null
    readingsPerSecond: number
    messagesPerSecond: number
    simulatedHoursPerSecond: number
  }
  /** Wall-clock milliseconds from sending a reading to receiving the action it caused. */
  latencyMs: Distribution & { unmatched: number }
  actionMessages: { received: number; invalid: number; takenFromApi: number }
  kpis: Omit<KpiReport, 'published'>
  /**
   * Messages given up on unacknowledged, messages sent again after their connection closed,
   * connection errors, and the readings in the messages the broker acknowledged (PUBACK).
   */
  transport: { publishErrors: number; resent: number; connectionErrors: number; acknowledgedReadings: number }
  /** With --api and no lockstep: the largest processing backlog (readings stored, not yet processed) seen. */
  serviceBacklog: { max: number; samples: number } | null
  /** The KPIs as they stood through the run, for charts over simulated time (about 200 points). */
  timeline: TimelinePoint[]
}

/** When, in wall-clock ms after the start, simulated time `simElapsedMs` is due at `speed` (simulated s per s). */
export function wallOffsetMs(simElapsedMs: number, speed: number | 'max'): number {
  return speed === 'max' ? 0 : simElapsedMs / speed
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export function buildPlan(cfg: RunConfig): FleetPlan {
  return planFleet(cfg.scenario, loadModels(), {
    devices: cfg.devices,
    sites: cfg.sites,
    seed: cfg.seed,
    start: cfg.start,
    durationMs: cfg.durationMs,
    intervalMs: cfg.intervalMs,
  })
}

class OutFile {
  private readonly stream: WriteStream
  constructor(path: string) {
    this.stream = createWriteStream(path, { highWaterMark: 1 << 20 })
  }
  /** One JSON line: the topic, and the payload as the JSON it was sent as. */
  write(topic: string, payload: string): Promise<void> | undefined {
    const ok = this.stream.write(`{"topic":${JSON.stringify(topic)},"payload":${payload}}\n`)
    return ok ? undefined : new Promise((r) => this.stream.once('drain', () => r()))
  }
  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
    )
  }
}

export async function run(cfg: RunConfig, log: (line: string) => void = () => undefined): Promise<RunReport> {
  const plan = buildPlan(cfg)
  for (const s of plan.skipped) log(`simulate: the fleet is smaller than the scenario's: left out the ${s}`)
  const sim = new Simulation(plan, { topicRoot: cfg.topicRoot, maxPayloadBytes: cfg.maxPayloadBytes })
  const out = cfg.out ? new OutFile(cfg.out) : null
  const brokerOptions: BrokerOptions | null = cfg.broker
    ? {
        url: cfg.broker,
        clientPrefix: cfg.clientPrefix,
        topicRoot: cfg.topicRoot,
        window: cfg.window,
        ...(cfg.username === undefined ? {} : { username: cfg.username }),
        ...(cfg.password === undefined ? {} : { password: cfg.password }),
        ...(cfg.ca === undefined ? {} : { ca: cfg.ca }),
      }
    : null
  const sites = plan.sites.map((s) => ({
    siteId: s.siteId,
    gatewayId: s.gatewayId,
    devices: s.devices.map((d) => plan.devices[d]?.deviceId as string),
  }))
  const inProcess: InProcessService | null = cfg.inProcess
    ? await startInProcess({
        ...cfg.inProcess,
        log,
        topicRoot: cfg.topicRoot,
        clientPrefix: cfg.clientPrefix,
        window: cfg.window,
      })
    : null
  try {
    const report = await runOn(cfg, log, plan, sim, out, brokerOptions, sites, inProcess)
    if (inProcess) await cfg.inspect?.(inProcess.api)
    return report
  } finally {
    await inProcess?.stop()
  }
}

async function runOn(
  cfg: RunConfig,
  log: (line: string) => void,
  plan: FleetPlan,
  sim: Simulation,
  out: OutFile | null,
  brokerOptions: BrokerOptions | null,
  sites: { siteId: string; gatewayId: string; devices: string[] }[],
  inProcess: InProcessService | null,
): Promise<RunReport> {
  /** Somewhere to publish: a broker, or the service in this process. */
  const connected = brokerOptions !== null || inProcess !== null
  const links: Link[] = inProcess
    ? inProcess.links(sites)
    : brokerOptions
      ? sites.map((s) => new GatewayLink(brokerOptions, s.siteId, s.gatewayId, s.devices))
      : []
  const api: ServiceApi | undefined = inProcess
    ? inProcess.api
    : cfg.api === undefined
      ? undefined
      : httpApi(cfg.api)

  // Wall-clock send times of the readings that should cause an action, by device and reading time.
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  /** SLA clocks breached, per ticket, as its newest action message says. */
  const slaBreaches = new Map<string, number>()
  const timeline = new Timeline(sim, latencies, slaBreaches)
  const sampleEvery = Math.max(cfg.intervalMs, Math.ceil((plan.end - plan.start) / 200))
  let nextSample = plan.start
  let unmatched = 0
  let received = 0
  const onAction = (action: Action, receivedAt: number) => {
    received++
    if (!sim.applyAction(action)) return
    const key = `${action.deviceId}|${Date.parse(action.createdAt)}`
    // Kept after a match: one reading may cause several actions (two colours low at once).
    const breaches = (action.details.ticket as { breaches?: unknown[] } | undefined)?.breaches?.length
    if (breaches !== undefined) slaBreaches.set(action.id, breaches)
    const sent = sentAt.get(key)
    if (sent === undefined) unmatched++
    else latencies.push(receivedAt - sent)
  }
  const listener: Listener | null = !cfg.closedLoop
    ? null
    : inProcess
      ? inProcess.listener(onAction)
      : brokerOptions
        ? new ActionListener(brokerOptions, onAction)
        : null
  await listener?.start()

  const lockstep = api !== undefined && listener !== null && cfg.lockstep
  const minDelay = sim.minEffectDelayMs()
  const syncEvery = lockstep
    ? Math.max(cfg.intervalMs, Math.floor((cfg.syncEveryMs ?? minDelay) / cfg.intervalMs) * cfg.intervalMs)
    : null
  if (syncEvery !== null && syncEvery > minDelay)
    log(
      `simulate: --sync-every ${syncEvery / 60_000} min is longer than the shortest delivery or repair (${minDelay / 60_000} min): the run may not be reproducible`,
    )

  const service = api && new ServiceSync({ links, api, sim, listener, log })
  const processed = () => (service as ServiceSync).processed()
  const sync = () => (service as ServiceSync).sync()

  // Without lockstep, how far the service's processing falls behind its ingest, sampled each second.
  const backlog = { max: 0, samples: 0 }
  const sampler =
    api !== undefined && connected && !lockstep
      ? setInterval(() => {
          api.get<{ processing: { backlog: number } }>('/stats').then(
            (s) => {
              backlog.samples++
              backlog.max = Math.max(backlog.max, s.processing.backlog)
            },
            () => undefined,
          )
        }, 1000)
      : null

  const progress = createProgress(cfg.progress)
  const t0 = performance.now()
  let nextSync = plan.start
  let readings = 0
  let lastYield = t0
  let syncMs = 0
  const perform = async (op: Op) => {
    if (op.op === 'publish') {
      const w = out?.write(op.topic, op.payload)
      if (w) await w
      readings += op.readings
      const link = links[op.gateway]
      if (!link) return
      const p = link.publish(op.topic, op.payload, op.retain, op.readings)
      if (p) await p
      if (op.watch.length > 0) {
        const now = performance.now()
        for (const ts of op.watch) sentAt.set(`${op.deviceId}|${ts}`, now)
      }
    } else if (op.op === 'connect') links[op.gateway]?.connect()
    else {
      // What the gateways sent before is processed first: the will (stamped with the service's
      // event time) must not find it further on in simulated time in one run than in another.
      if (lockstep) await processed()
      await links[op.gateway]?.drop()
      // The will is the broker's, sent when it notices the connection gone: in lockstep, the run
      // goes on once the service has it, so that the outage starts at the same instant every run.
      if (lockstep) await service?.offlineSeen(sites[op.gateway])
    }
  }
  try {
    while (!sim.done) {
      const ahead = t0 + wallOffsetMs(sim.now - plan.start, cfg.speed) - performance.now()
      if (ahead > 1) await sleep(ahead)
      if (syncEvery !== null && sim.now >= nextSync) {
        const s0 = performance.now()
        await sync()
        syncMs += performance.now() - s0
        nextSync = sim.now + syncEvery
      }
      for (const op of sim.nextTick()) await perform(op)
      if (sim.now >= nextSample) {
        timeline.sample(sim.now)
        nextSample += sampleEvery
      }
      // Let the sockets in now and then: an action is timed when it is read, so reading must not wait.
      if (performance.now() - lastYield > 5) {
        await new Promise<void>((r) => setImmediate(r))
        lastYield = performance.now()
      }
      const elapsed = (performance.now() - t0) / 1000
      const state: ProgressState = {
        tick: sim.tickIndex,
        ticks: sim.ticks,
        simNow: sim.now,
        readings,
        readingsPerSecond: elapsed > 0 ? readings / elapsed : 0,
        actions: received,
      }
      progress.update(state)
      cfg.observe?.(state)
    }
    await Promise.all(links.map((l) => l.drain()))
  } finally {
    progress.stop()
    if (sampler) clearInterval(sampler)
  }
  const wallSeconds = (performance.now() - t0) / 1000
  if (syncEvery !== null)
    log(
      `simulate: ${(syncMs / 1000).toFixed(1)} s of ${wallSeconds.toFixed(1)} s waiting for the service at lockstep points`,
    )

  let processedSeconds: number | null = null
  if (api !== undefined && connected) {
    await processed()
    processedSeconds = (performance.now() - t0) / 1000
    await sync()
    // The complete record: actions this run missed on MQTT still count in the KPIs.
    const all = (await api.get<{ items: Action[] }>('/actions')).items
    for (const a of [...all].reverse()) if (sim.applyAction(a, false) && service) service.takenFromApi++
  } else if (listener) {
    await sleep(cfg.lingerMs)
  }
  await listener?.stop()
  await Promise.all(links.map((l) => l.close()))
  await out?.close()

  timeline.sample(plan.end)
  const kpis = sim.kpis.report()
  const { published, ...rest } = kpis
  const report: RunReport = {
    run: {
      scenario: plan.scenario,
      seed: plan.seed,
      devices: plan.devices.length,
      sites: plan.sites.length,
      start: new Date(plan.start).toISOString(),
      end: new Date(plan.end).toISOString(),
      interval: `${cfg.intervalMs / 60_000}m`,
      speed: cfg.speed,
      broker: inProcess ? 'in-process' : cfg.broker,
      closedLoop: listener !== null,
      observesActions: listener !== null || (api !== undefined && connected),
      lockstep,
      syncEveryMinutes: syncEvery === null ? null : syncEvery / 60_000,
    },
    published,
    rate: {
      wallSeconds: Number(wallSeconds.toFixed(2)),
      processedSeconds: processedSeconds === null ? null : Number(processedSeconds.toFixed(2)),
      readingsPerSecond: Math.round(published.readings / wallSeconds),
      messagesPerSecond: Math.round(published.messages / wallSeconds),
      simulatedHoursPerSecond: Number(((plan.end - plan.start) / 3_600_000 / wallSeconds).toFixed(2)),
    },
    latencyMs: { ...distribution(latencies, 2), unmatched },
    actionMessages: { received, invalid: listener?.invalid ?? 0, takenFromApi: service?.takenFromApi ?? 0 },
    kpis: rest,
    transport: {
      publishErrors: links.reduce((n, l) => n + l.publishErrors, 0),
      resent: links.reduce((n, l) => n + l.resent, 0),
      connectionErrors: links.reduce((n, l) => n + l.connectionErrors, 0),
      acknowledgedReadings: links.reduce((n, l) => n + l.acknowledgedReadings, 0),
    },
    serviceBacklog: sampler ? backlog : null,
    timeline: timeline.points,
  }
  if (cfg.report) writeFileSync(cfg.report, `${JSON.stringify(report, null, 2)}\n`)
  if (cfg.reportHtml) writeFileSync(cfg.reportHtml, htmlReport(report))
  return report
}
