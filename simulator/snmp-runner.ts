/**
 * A simulation through SNMP: the engine's printers answer SNMP on their loopback addresses with the
 * Printer MIB of their state, one real gateway per site (gateway/, in this process, on the
 * simulated clock) polls them and publishes to the service, and the service's actions come back to
 * the engine: printers → SNMP → gateway → MQTT → service → actions → simulator, closed loop.
 * With the service's API it runs in lockstep with its processing, as the MQTT runner does.
 */
import { join } from 'node:path'
import pino from 'pino'
import { buildGatewayConfig } from '../gateway/config.ts'
import { Gateway, type GatewayStats } from '../gateway/gateway.ts'
import { loadProfiles } from '../gateway/profiles.ts'
import { ManualClock } from '../src/clock.ts'
import type { Action, Birth, WireReading } from '../src/contract/schemas.ts'
import { Simulation } from './engine.ts'
import { SimulatorError } from './errors.ts'
import type { KpiReport } from './kpi.ts'
import type { PrinterModel } from './models.ts'
import { buildPlan, type RunConfig } from './runner.ts'
import { faceOf, printerAddress, profileOf, SnmpPrinters } from './snmp-agents.ts'
import { ActionListener } from './transport.ts'

export interface SnmpOptions {
  /** The UDP port every simulated printer answers on, each on its own address. */
  port: number
  /** Where the gateways keep their buffers, one folder per site. */
  bufferDir: string
  concurrency?: number
  /** Called after each tick: for progress lines. */
  onTick?: (tick: number, ticks: number, simNow: number) => void
}

export interface SnmpRunReport {
  kpis: KpiReport
  gateways: GatewayStats[]
  actionMessages: { received: number; takenFromApi: number }
  wallSeconds: number
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url)
  if (!res.ok) throw new SimulatorError('PW_ERR_SIM_API', `${url} answered ${res.status}`)
  return (await res.json()) as T
}

export async function runSnmp(cfg: RunConfig, o: SnmpOptions): Promise<SnmpRunReport> {
  if (!cfg.broker) throw new SimulatorError('PW_ERR_SIM_FLAG', 'the SNMP mode needs a broker')
  const plan = buildPlan(cfg)
  const sim = new Simulation(plan, { topicRoot: cfg.topicRoot, maxPayloadBytes: cfg.maxPayloadBytes })
  const profiles = loadProfiles()
  const devices = plan.devices.map((d, i) => {
    const model = plan.models[d.model] as PrinterModel
    return { deviceId: d.deviceId, address: printerAddress(i), model, profile: profileOf(profiles, model) }
  })
  const agents = new SnmpPrinters(o.port)
  await agents.start(devices)

  const clock = new ManualClock(plan.start)
  const log = pino({ level: 'error' }, pino.destination(2))
  const gateways = plan.sites.map((site) => {
    const config = buildGatewayConfig({
      flags: {
        broker: cfg.broker as string,
        site: site.siteId,
        id: site.gatewayId,
        printers: '(simulated)',
        bufferDir: join(o.bufferDir, site.siteId),
        intervalMs: String(cfg.intervalMs),
        concurrency: String(o.concurrency ?? 32),
        snmpTimeoutMs: '2s',
        maxRepetitions: '50',
        topicRoot: cfg.topicRoot,
        ...(cfg.username === undefined ? {} : { username: cfg.username }),
        ...(cfg.password === undefined ? {} : { password: cfg.password }),
      },
    })
    const printers = site.devices.map((d) => {
      const dev = devices[d] as (typeof devices)[number]
      return { deviceId: dev.deviceId, host: dev.address, port: o.port }
    })
    return new Gateway(config, printers, profiles, clock, log, { reconnectMs: 500 })
  })
  for (const g of gateways) g.start(false)

  let received = 0
  let takenFromApi = 0
  const listener = new ActionListener(
    {
      url: cfg.broker,
      clientPrefix: cfg.clientPrefix,
      topicRoot: cfg.topicRoot,
      window: cfg.window,
      ...(cfg.username === undefined ? {} : { username: cfg.username }),
      ...(cfg.password === undefined ? {} : { password: cfg.password }),
    },
    (action) => {
      received++
      sim.applyAction(action)
    },
  )
  if (cfg.closedLoop) await listener.start()

  const api = cfg.api
  const processed = async () => {
    await Promise.all(gateways.map((g) => g.flush()))
    if (api === undefined) return
    for (let wait = 2; ; wait = Math.min(50, wait * 2)) {
      const stats = await getJson<{ processing: { backlog: number } }>(`${api}/stats`)
      if (stats.processing.backlog === 0) return
      await sleep(wait)
    }
  }
  const sync = async () => {
    await processed()
    if (api === undefined || !cfg.closedLoop) return
    const open = (await getJson<{ items: Action[] }>(`${api}/actions?status=open`)).items
    let missing = open.filter((a) => !sim.hasSeen(a.id))
    for (let waited = 0; missing.length > 0 && waited < 5000; waited += 5) {
      await sleep(5)
      missing = missing.filter((a) => !sim.hasSeen(a.id))
    }
    for (const a of missing) if (sim.applyAction(a)) takenFromApi++
  }
  const lockstep = api !== undefined && cfg.lockstep
  const syncEvery = Math.max(
    cfg.intervalMs,
    Math.floor((cfg.syncEveryMs ?? sim.minEffectDelayMs()) / cfg.intervalMs) * cfg.intervalMs,
  )

  // The engine reads each printer at its own slot of the tick; the gateway reads them all once the
  // last slot has passed, so that no reading is older than the state it shows.
  const lastSlot = Math.max(0, ...plan.devices.map((d) => d.slotMs))
  const births = new Map<string, Birth>()
  const t0 = performance.now()
  let nextSync = plan.start
  try {
    while (!sim.done) {
      const t = sim.now
      if (lockstep && t >= nextSync) {
        await sync()
        nextSync = t + syncEvery
      }
      const readings = new Map<string, Omit<WireReading, 'seq'>>()
      for (const op of sim.nextTick()) {
        if (op.op !== 'publish') continue
        if (op.kind === 'birth') births.set(op.deviceId, JSON.parse(op.payload) as Birth)
        else {
          const parsed = JSON.parse(op.payload) as WireReading | WireReading[]
          const last = Array.isArray(parsed) ? parsed[parsed.length - 1] : parsed
          if (last) readings.set(op.deviceId, last)
        }
      }
      for (const d of devices) {
        const r = readings.get(d.deviceId)
        // A printer the engine keeps silent this tick answers nothing a reading can be made of.
        if (!r) agents.clear(d.deviceId)
        else agents.set(d.deviceId, faceOf(d.model, d.profile, births.get(d.deviceId) ?? {}, d.deviceId, r))
      }
      clock.set(t + lastSlot)
      await Promise.all(gateways.map((g) => g.pollAll()))
      o.onTick?.(sim.tickIndex, sim.ticks, t)
    }
    await sync()
    if (api !== undefined) {
      const all = (await getJson<{ items: Action[] }>(`${api}/actions`)).items
      for (const a of [...all].reverse()) if (sim.applyAction(a, false)) takenFromApi++
    }
  } finally {
    await listener.stop()
    await Promise.all(gateways.map((g) => g.stop()))
    await agents.stop()
  }
  return {
    kpis: sim.kpis.report(),
    gateways: gateways.map((g) => g.stats),
    actionMessages: { received, takenFromApi },
    wallSeconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
  }
}
