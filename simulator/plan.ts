/**
 * The fleet plan: every random choice that is made once, before the first tick (which model each
 * device is, how much its users print, who shakes cartridges, when gateways go offline and devices
 * fall silent), drawn from the seed. A plan is plain data: tests build one and change what they need.
 */
import { parseDuration } from '../src/config/options.ts'
import { toEpochMs } from '../src/domain/reading.ts'
import { type Calendar, checkZone, type LeadTime, parseHhmm } from './calendar.ts'
import { SimulatorError } from './errors.ts'
import type { PrinterModel } from './models.ts'
import {
  between,
  chance,
  childSeed,
  integer,
  logNormal,
  poisson,
  type Rng,
  rngFrom,
  uniform,
  weighted,
} from './rng.ts'
import type { Scenario } from './scenario.ts'

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
/** A month of the incident rates: 30 days. */
const MONTH = 30 * DAY

export interface SitePlan {
  index: number
  siteId: string
  gatewayId: string
  calendar: Calendar
  /** Users at this site take a low cartridge out and shake it. */
  shakers: boolean
  /** Device indexes, in the order the gateway reads them. */
  devices: number[]
}

export interface DevicePlan {
  index: number
  deviceId: string
  site: number
  model: string
  serial: string
  location: string
  contact: string
  /** Pages a month at ordinary activity. */
  monthlyPages: number
  colorShare: number
  /** Page coverage in percent, per colour (5 = the coverage of the ISO yield). */
  coverage: Record<string, number>
  /** Users fit a delivered cartridge at once, throwing away what is left in the old one. */
  earlyReplacer: boolean
  /** Where in the polling round the gateway reads this device: ms after the tick. */
  slotMs: number
  /** Seed of the device's behaviour (pages, faults, shakes). */
  seed: number
  /** Seed of what the service provider does for the device (repair times, board swaps). */
  serviceSeed: number
  initial: {
    toner: Record<string, number>
    waste: number | null
    counters: { total: number; mono: number; color: number }
  }
}

export interface Span {
  from: number
  to: number
}
export interface Outage extends Span {
  site: number
}
export interface Silence extends Span {
  device: number
}
export interface TimedEvent {
  device: number
  at: number
}
export interface ForcedFault extends TimedEvent {
  code?: string
}
export interface TonerSet extends TimedEvent {
  color: string
  level: number
}

export interface Settings {
  afterHours: number
  faultRateFactor: number
  leadTime: LeadTime
  service: { minHours: number; maxHours: number; spread: number }
}

export interface FleetPlan {
  scenario: string
  seed: number
  start: number
  end: number
  intervalMs: number
  models: Record<string, PrinterModel>
  sites: SitePlan[]
  devices: DevicePlan[]
  outages: Outage[]
  silences: Silence[]
  faults: ForcedFault[]
  boardSwaps: TimedEvent[]
  tonerSets: TonerSet[]
  settings: Settings
  /** Scripted events left out because they name a device or site the fleet does not have. */
  skipped: string[]
}

export interface PlanOptions {
  devices: number
  sites: number
  seed: number
  start: number
  durationMs: number
  intervalMs: number
}

const pad = (n: number, width: number) => String(n).padStart(width, '0')

function fail(message: string): never {
  throw new SimulatorError('PW_ERR_SIM_SCENARIO', message)
}

/** An ISO instant, or a duration after the start (`36h`, `2d`). */
export function resolveAt(at: string, start: number): number {
  if (/^\d{4}-\d{2}-\d{2}T/.test(at)) {
    const t = toEpochMs(at)
    if (!Number.isFinite(t)) fail(`${at} is not an ISO 8601 instant with its zone`)
    return t
  }
  const offset = parseDuration(at)
  if (offset === null) fail(`${at} is neither an ISO date nor a duration`)
  return start + offset
}

/** Merges overlapping spans of one owner, so that an outage never starts inside another. */
function merge<T extends Span>(spans: T[], owner: (s: T) => number): T[] {
  const sorted = [...spans].sort((a, b) => owner(a) - owner(b) || a.from - b.from)
  const out: T[] = []
  for (const s of sorted) {
    const last = out[out.length - 1]
    if (last && owner(last) === owner(s) && s.from <= last.to) last.to = Math.max(last.to, s.to)
    else out.push({ ...s })
  }
  return out
}

/** Random spans over the run: a Poisson count per owner, log-uniform lengths between min and max hours. */
function drawSpans(
  rng: Rng,
  owners: number,
  perMonth: number,
  minHours: number,
  maxHours: number,
  start: number,
  durationMs: number,
): { owner: number; from: number; to: number }[] {
  const spans: { owner: number; from: number; to: number }[] = []
  const mean = (perMonth * durationMs) / MONTH
  for (let owner = 0; owner < owners; owner++) {
    const n = poisson(rng, mean)
    for (let i = 0; i < n; i++) {
      const from = start + Math.floor(uniform(rng) * durationMs)
      const hours = Math.exp(between(rng, Math.log(minHours), Math.log(Math.max(minHours, maxHours))))
      spans.push({ owner, from, to: from + Math.round(hours * HOUR) })
    }
  }
  return spans
}

export function planFleet(
  scenario: Scenario,
  models: ReadonlyMap<string, PrinterModel>,
  o: PlanOptions,
): FleetPlan {
  if (o.sites > o.devices) fail(`${o.sites} sites for ${o.devices} devices: every site needs a device`)
  const mix = scenario.models.map((m) => {
    const model = models.get(m.id)
    if (!model)
      fail(`scenario ${scenario.name}: no printer model ${m.id} (have ${[...models.keys()].join(', ')})`)
    return { model, weight: m.weight }
  })
  const master = rngFrom(o.seed)
  const siteRng = rngFrom(childSeed(master))
  const deviceRng = rngFrom(childSeed(master))
  const incidentRng = rngFrom(childSeed(master))

  const cal = scenario.calendar ?? {}
  const zones = scenario.timeZones ?? ['UTC']
  for (const z of zones) {
    try {
      checkZone(z)
    } catch {
      fail(`scenario ${scenario.name}: unknown time zone ${z}`)
    }
  }
  const behaviour = scenario.behaviour ?? {}
  const usage = scenario.usage ?? {}
  const siteWidth = Math.max(3, String(o.sites).length)
  const deviceWidth = Math.max(6, String(o.devices).length)

  const sites: SitePlan[] = Array.from({ length: o.sites }, (_, index) => {
    const siteId = `site-${pad(index + 1, siteWidth)}`
    return {
      index,
      siteId,
      gatewayId: `gw-${siteId}`,
      calendar: {
        zone: zones[index % zones.length] as string,
        officeStart: parseHhmm(cal.officeHours?.start ?? '08:00'),
        officeEnd: parseHhmm(cal.officeHours?.end ?? '18:00'),
        workingDays: new Set(cal.workingDays ?? [1, 2, 3, 4, 5]),
        holidays: new Set(cal.holidays ?? []),
        busy: (cal.busyPeriods ?? []).map((b) => ({ from: b.from, to: b.to, factor: b.factor })),
      },
      shakers: chance(siteRng, behaviour.shakerSites ?? 0.3),
      devices: [],
    }
  })

  const initialToner = usage.initialToner ?? { min: 5, max: 100 }
  const initialWaste = usage.initialWasteBox ?? { min: 0, max: 80 }
  const coverage = usage.coverage ?? { median: 5, spread: 0.3 }
  const devices: DevicePlan[] = []
  for (let index = 0; index < o.devices; index++) {
    const site = sites[index % o.sites] as SitePlan
    const { model } = mix[
      weighted(
        deviceRng,
        mix.map((m) => m.weight),
      )
    ] as { model: PrinterModel }
    const colors = Object.keys(model.cartridgeYield)
    const monthlyPages = Math.round(
      logNormal(deviceRng, model.typicalMonthlyPages, usage.volumeSpread ?? 0.5),
    )
    const total = integer(deviceRng, 5_000, 400_000)
    const colorShare = model.color ? Math.min(0.9, logNormal(deviceRng, model.colorShare, 0.3)) : 0
    const color = Math.round(total * colorShare)
    devices.push({
      index,
      deviceId: `SIM-${pad(index + 1, deviceWidth)}`,
      site: site.index,
      model: model.id,
      serial: `${model.vendor.slice(0, 2).toUpperCase()}${pad(integer(deviceRng, 0, 99_999_999), 8)}`,
      location: `Floor ${integer(deviceRng, 0, 6)}, ${['reception', 'accounting', 'sales', 'operations', 'legal', 'print room'][integer(deviceRng, 0, 5)]}`,
      contact: `fleet@${site.siteId}.example.com`,
      monthlyPages,
      colorShare,
      coverage: Object.fromEntries(
        colors.map((c) => [c, logNormal(deviceRng, coverage.median, coverage.spread)]),
      ),
      earlyReplacer: chance(deviceRng, behaviour.earlyReplacers ?? 0.2),
      slotMs: 0,
      seed: childSeed(deviceRng),
      serviceSeed: childSeed(deviceRng),
      initial: {
        toner: Object.fromEntries(
          colors.map((c) => [c, between(deviceRng, initialToner.min, initialToner.max)]),
        ),
        waste:
          model.wasteBoxCapacity === null ? null : between(deviceRng, initialWaste.min, initialWaste.max),
        counters: { total, mono: total - color, color },
      },
    })
    site.devices.push(index)
  }
  // A gateway reads its devices one after the other, a couple of seconds apart, within the interval.
  for (const site of sites) {
    const stepSeconds = Math.min(2, Math.floor(o.intervalMs / 1000 / Math.max(1, site.devices.length)))
    site.devices.forEach((d, pos) => {
      ;(devices[d] as DevicePlan).slotMs = pos * stepSeconds * 1000
    })
  }

  const end = o.start + o.durationMs
  const inc = scenario.incidents ?? {}
  const outages: Outage[] = inc.gatewayOutages
    ? drawSpans(
        incidentRng,
        o.sites,
        inc.gatewayOutages.perGatewayMonth,
        inc.gatewayOutages.minHours,
        inc.gatewayOutages.maxHours,
        o.start,
        o.durationMs,
      ).map((s) => ({ site: s.owner, from: s.from, to: s.to }))
    : []
  const silences: Silence[] = inc.silences
    ? drawSpans(
        incidentRng,
        o.devices,
        inc.silences.perDeviceMonth,
        inc.silences.minHours,
        inc.silences.maxHours,
        o.start,
        o.durationMs,
      ).map((s) => ({ device: s.owner, from: s.from, to: s.to }))
    : []
  const boardSwaps: TimedEvent[] = []
  if (inc.boardSwaps) {
    const mean = (inc.boardSwaps.perDeviceMonth * o.durationMs) / MONTH
    for (let device = 0; device < o.devices; device++) {
      const n = poisson(incidentRng, mean)
      for (let i = 0; i < n; i++)
        boardSwaps.push({ device, at: o.start + Math.floor(uniform(incidentRng) * o.durationMs) })
    }
  }
  const faults: ForcedFault[] = []
  const tonerSets: TonerSet[] = []
  const skipped: string[] = []
  for (const e of scenario.events ?? []) {
    const at = resolveAt(e.at, o.start)
    // A smaller fleet than the scenario's (--devices, --sites) leaves out the events of what it lacks.
    if ('site' in e ? e.site >= o.sites : e.device >= o.devices) {
      skipped.push(`${e.type} of ${'site' in e ? `site ${e.site}` : `device ${e.device}`} at ${e.at}`)
      continue
    }
    switch (e.type) {
      case 'outage':
        outages.push({ site: e.site, from: at, to: at + Math.round(e.hours * HOUR) })
        break
      case 'silence':
        silences.push({ device: e.device, from: at, to: at + Math.round(e.hours * HOUR) })
        break
      case 'fault': {
        const model = models.get((devices[e.device] as DevicePlan).model) as PrinterModel
        if (e.code !== undefined && !model.errors.some((x) => x.code === e.code && x.kind === 'service'))
          fail(`scenario ${scenario.name}: ${model.model} has no service code ${e.code}`)
        faults.push(e.code === undefined ? { device: e.device, at } : { device: e.device, at, code: e.code })
        break
      }
      case 'boardSwap':
        boardSwaps.push({ device: e.device, at })
        break
      case 'toner': {
        const model = models.get((devices[e.device] as DevicePlan).model) as PrinterModel
        if (!(e.color in model.cartridgeYield))
          fail(`scenario ${scenario.name}: ${model.model} has no ${e.color} toner`)
        tonerSets.push({ device: e.device, at, color: e.color, level: e.level })
        break
      }
    }
  }
  const leadTime = scenario.leadTime ?? {}
  const service = scenario.service ?? {}
  return {
    scenario: scenario.name,
    seed: o.seed,
    start: o.start,
    end,
    intervalMs: o.intervalMs,
    models: Object.fromEntries(mix.map((m) => [m.model.id, m.model])),
    sites,
    devices,
    outages: merge(outages, (s) => s.site),
    silences: merge(silences, (s) => s.device),
    faults: faults.sort((a, b) => a.at - b.at),
    boardSwaps: boardSwaps.sort((a, b) => a.at - b.at),
    tonerSets: tonerSets.sort((a, b) => a.at - b.at),
    settings: {
      afterHours: usage.afterHours ?? 0.03,
      faultRateFactor: behaviour.faultRateFactor ?? 1,
      leadTime: {
        beforeCutoffDays: leadTime.beforeCutoffDays ?? 2,
        afterCutoffDays: leadTime.afterCutoffDays ?? 3,
        cutoffHour: leadTime.cutoffHour ?? 12,
        deliveryHour: leadTime.deliveryHour ?? 10,
      },
      service: {
        minHours: service.minHours ?? 4,
        maxHours: service.maxHours ?? 240,
        spread: service.spread ?? 0.5,
      },
    },
    skipped,
  }
}
