/**
 * One printer, one tick at a time. `stepDevice` is pure but for the generator it is handed: the
 * device's state, the moment, what the outside world did (deliveries, repairs, scripted events) and
 * the device's own RNG in; the next state, its reading and what happened out.
 */
import type { WireReading } from '../src/contract/schemas.ts'
import type { PrinterModel } from './models.ts'
import type { DevicePlan } from './plan.ts'
import { chance, exponential, integer, logNormal, poisson, type Rng, stochasticRound } from './rng.ts'

/** The coverage of the ISO/IEC 19752 and 19798 yields: a cartridge prints its yield at 5% coverage. */
const ISO_COVERAGE = 5
/** Users who shake cartridges do it when the printer warns that toner is low: about this level. */
const SHAKE_BELOW = 12
/** A shake frees this many points of toner, at most: with any sensor step the rise stays under 30. */
const SHAKE_MAX = 12
const SHAKES_PER_CARTRIDGE = 2
/** Early replacers fit a delivered cartridge at once, if the one in the printer is below this. */
const EARLY_BELOW = 50
const MINUTE = 60_000

export type FaultKind = 'service' | 'jam' | 'cover'

export interface ActiveFault {
  code: string
  severity: 'critical' | 'warning' | 'info'
  text?: string
  kind: FaultKind
  since: number
  /** Jams and covers: when a user clears it. Service codes last until repaired. */
  clearsAt: number | null
}

export interface Counters {
  total: number
  mono: number
  color: number
}

export interface DeviceSim {
  /** True toner levels in percent, not the sensor's steps. */
  toner: Record<string, number>
  /** Shakes of the cartridge in the printer, per colour. */
  shakes: Record<string, number>
  /** Waste box fill in percent, null when the model reports none. */
  waste: number | null
  counters: Counters
  faults: ActiveFault[]
  /** Delivered and not fitted yet. */
  stock: { toner: Record<string, number>; boxes: number }
}

export interface DeviceProfile {
  model: PrinterModel
  plan: DevicePlan
  /** The site's users shake low cartridges. */
  shakers: boolean
}

export interface TickContext {
  /** The instant the gateway reads the device. */
  ts: number
  intervalMs: number
  /** Printing now relative to an ordinary office hour (busy periods above 1, nights near 0). */
  activity: number
  /** Someone is on site (office hours): deliveries are taken in, cartridges fitted, jams cleared. */
  staffed: boolean
  officeHoursPerMonth: number
  faultRateFactor: number
}

export interface TickInput {
  delivered: { toner: string[]; boxes: number }
  repairs: { code: string; boardSwap: boolean }[]
  /** A scripted critical fault: the model's code, or its first service code when null. */
  forcedFault?: string | null
  boardSwap?: boolean
  tonerSets?: { color: string; level: number }[]
}

export const NO_INPUT: TickInput = { delivered: { toner: [], boxes: 0 }, repairs: [] }

export type DeviceEvent =
  | { type: 'fit-toner'; color: string; before: number; early: boolean }
  | { type: 'fit-box'; before: number; early: boolean; withToner: boolean }
  | { type: 'shake'; color: string; before: number; after: number }
  | { type: 'toner-out'; color: string }
  | { type: 'box-full' }
  | { type: 'fault'; code: string; severity: string; kind: FaultKind }
  | { type: 'cleared'; code: string }
  | { type: 'repaired'; code: string; boardSwap: boolean }
  | { type: 'counter-reset' }
  | { type: 'toner-set'; color: string; level: number }

/** A reading without the gateway's `seq`. */
export type DeviceReading = Omit<WireReading, 'seq' | 'ts'> & { ts: string }

export interface StepResult {
  state: DeviceSim
  reading: DeviceReading
  pages: number
  /** A colour is empty: the printer stopped for lack of toner. */
  outOfToner: boolean
  events: DeviceEvent[]
}

export function initialDevice(plan: DevicePlan): DeviceSim {
  const colors = Object.keys(plan.initial.toner)
  return {
    toner: { ...plan.initial.toner },
    shakes: Object.fromEntries(colors.map((c) => [c, 0])),
    waste: plan.initial.waste,
    counters: { ...plan.initial.counters },
    faults: [],
    stock: { toner: Object.fromEntries(colors.map((c) => [c, 0])), boxes: 0 },
  }
}

/** What a sensor that reports in steps of `step` percent shows for a true level: the last step passed. */
export function sensorLevel(level: number, step: number): number {
  if (level <= 0) return 0
  return Math.min(100, Math.floor(level / step) * step)
}

export function wasteReport(
  fill: number,
  report: PrinterModel['wasteBoxReport'],
): 'ok' | 'nearFull' | 'full' | number {
  if (report === 'percent') return Math.min(100, Math.floor(fill))
  return fill >= 100 ? 'full' : fill >= 90 ? 'nearFull' : 'ok'
}

const tonerPerPage = (model: PrinterModel, plan: DevicePlan, color: string) =>
  ((100 / (model.cartridgeYield[color] as number)) * (plan.coverage[color] as number)) / ISO_COVERAGE

export function stepDevice(
  profile: DeviceProfile,
  prev: DeviceSim,
  ctx: TickContext,
  input: TickInput,
  rng: Rng,
): StepResult {
  const { model, plan } = profile
  const events: DeviceEvent[] = []
  const toner = { ...prev.toner }
  const shakes = { ...prev.shakes }
  const stock = { toner: { ...prev.stock.toner }, boxes: prev.stock.boxes }
  let waste = prev.waste
  let counters = { ...prev.counters }
  let faults = prev.faults.filter((f) => {
    if (f.clearsAt === null || f.clearsAt > ctx.ts) return true
    events.push({ type: 'cleared', code: f.code })
    return false
  })

  for (const s of input.tonerSets ?? []) {
    toner[s.color] = s.level
    events.push({ type: 'toner-set', color: s.color, level: s.level })
  }
  for (const r of input.repairs) {
    if (!faults.some((f) => f.code === r.code)) continue
    faults = faults.filter((f) => f.code !== r.code)
    events.push({ type: 'repaired', code: r.code, boardSwap: r.boardSwap })
    if (r.boardSwap) counters = { total: 0, mono: 0, color: 0 }
    if (r.boardSwap) events.push({ type: 'counter-reset' })
  }
  if (input.boardSwap) {
    counters = { total: 0, mono: 0, color: 0 }
    events.push({ type: 'counter-reset' })
  }

  for (const c of input.delivered.toner) stock.toner[c] = (stock.toner[c] ?? 0) + 1
  stock.boxes += input.delivered.boxes

  if (ctx.staffed) {
    for (const color of Object.keys(toner)) {
      const level = toner[color] as number
      if ((stock.toner[color] ?? 0) === 0) continue
      if (level > 0 && !(plan.earlyReplacer && level < EARLY_BELOW)) continue
      stock.toner[color] = (stock.toner[color] as number) - 1
      toner[color] = 100
      shakes[color] = 0
      events.push({ type: 'fit-toner', color, before: Math.max(0, level), early: level > 0 })
      if (color === 'black' && model.wasteBoxShipsWithToner && waste !== null) {
        events.push({ type: 'fit-box', before: waste, early: waste < 100, withToner: true })
        waste = 0
      }
    }
    if (waste !== null && stock.boxes > 0 && (waste >= 100 || (plan.earlyReplacer && waste >= EARLY_BELOW))) {
      stock.boxes--
      events.push({ type: 'fit-box', before: waste, early: waste < 100, withToner: false })
      waste = 0
    }
    if (profile.shakers) {
      for (const color of Object.keys(toner)) {
        const level = toner[color] as number
        if (level > SHAKE_BELOW || (shakes[color] as number) >= SHAKES_PER_CARTRIDGE) continue
        if ((stock.toner[color] ?? 0) > 0) continue
        // An empty, stopped printer gets shaken sooner than one that only warns.
        if (!chance(rng, level <= 0 ? 0.5 : 0.1)) continue
        const after = Math.max(0, level) + integer(rng, 3, SHAKE_MAX)
        toner[color] = after
        shakes[color] = (shakes[color] as number) + 1
        events.push({ type: 'shake', color, before: level, after })
      }
    }
  }

  if (input.forcedFault !== undefined && !faults.some((f) => f.kind === 'service')) {
    const spec = model.errors.find((e) =>
      input.forcedFault === null ? e.kind === 'service' : e.code === input.forcedFault,
    )
    if (spec) {
      faults.push(faultOf(spec, ctx.ts, null))
      events.push({ type: 'fault', code: spec.code, severity: spec.severity, kind: spec.kind })
    }
  }

  const colors = Object.keys(toner)
  const blocked =
    faults.length > 0 || colors.some((c) => (toner[c] as number) <= 0) || (waste !== null && waste >= 100)
  let pages = 0
  if (!blocked) {
    const hours = ctx.intervalMs / 3_600_000
    const mean = (plan.monthlyPages * ctx.activity * hours) / ctx.officeHoursPerMonth
    // Jobs come in bursts: the rate itself varies from one interval to the next.
    pages = mean > 0 ? poisson(rng, mean * logNormal(rng, 1, 0.5)) : 0
  }
  if (pages > 0) {
    let colorPages = model.color ? stochasticRound(rng, pages * plan.colorShare) : 0
    // Each colour prints until it is empty: the first to run out stops the printer mid-interval.
    const need: Record<string, number> = {}
    for (const c of colors) need[c] = (c === 'black' ? pages : colorPages) * tonerPerPage(model, plan, c)
    let fraction = 1
    for (const c of colors)
      if ((need[c] as number) > 0) fraction = Math.min(fraction, (toner[c] as number) / (need[c] as number))
    if (fraction < 1) {
      pages = Math.floor(pages * fraction)
      colorPages = Math.min(colorPages, Math.floor(colorPages * fraction))
    }
    for (const c of colors) {
      const before = toner[c] as number
      const after = before - (need[c] as number) * Math.min(1, fraction)
      toner[c] = after <= 1e-9 ? 0 : after
      if (before > 0 && (toner[c] as number) <= 0) events.push({ type: 'toner-out', color: c })
    }
    counters = {
      total: counters.total + pages,
      mono: counters.mono + pages - colorPages,
      color: counters.color + colorPages,
    }
    if (waste !== null && model.wasteBoxCapacity !== null) {
      const coverage = (plan.coverage.black as number) / ISO_COVERAGE
      const before = waste
      waste = Math.min(
        100,
        waste + ((pages - colorPages + 2 * colorPages) * coverage * 100) / model.wasteBoxCapacity,
      )
      if (before < 100 && waste >= 100) events.push({ type: 'box-full' })
    }
    for (const spec of model.errors) {
      if (spec.kind === 'service' && faults.some((f) => f.kind === 'service')) continue
      if (faults.some((f) => f.code === spec.code)) continue
      const expected = (pages * spec.per100kPages * ctx.faultRateFactor) / 100_000
      if (!chance(rng, 1 - Math.exp(-expected))) continue
      // Someone clears a jam or shuts a cover within minutes, rarely more than four times the usual.
      const mean = (spec.clearMinutes ?? 10) * MINUTE
      const clearsAt =
        spec.kind === 'service'
          ? null
          : ctx.ts + Math.round(Math.min(4 * mean, Math.max(MINUTE, exponential(rng, mean))))
      faults.push(faultOf(spec, ctx.ts, clearsAt))
      events.push({ type: 'fault', code: spec.code, severity: spec.severity, kind: spec.kind })
    }
  }

  const state: DeviceSim = { toner, shakes, waste, counters, faults, stock }
  const outOfToner = colors.some((c) => (toner[c] as number) <= 0)
  // The gateway sees `printing` if a job runs at the moment it polls: the busier the interval, the likelier.
  const busy = pages / (model.pagesPerMinute * (ctx.intervalMs / MINUTE))
  const printing = pages > 0 && chance(rng, Math.min(1, busy))
  return { state, reading: readingOf(profile, state, ctx, printing, outOfToner), pages, outOfToner, events }
}

function faultOf(spec: PrinterModel['errors'][number], since: number, clearsAt: number | null): ActiveFault {
  const f: ActiveFault = { code: spec.code, severity: spec.severity, kind: spec.kind, since, clearsAt }
  if (spec.text !== undefined) f.text = spec.text
  return f
}

function readingOf(
  profile: DeviceProfile,
  s: DeviceSim,
  ctx: TickContext,
  printing: boolean,
  outOfToner: boolean,
): DeviceReading {
  const { model } = profile
  const toner: Record<string, number> = {}
  for (const [c, level] of Object.entries(s.toner)) toner[c] = sensorLevel(level, model.sensorStep)
  const errors: NonNullable<WireReading['errors']> = s.faults.map((f) =>
    f.text === undefined
      ? { code: f.code, severity: f.severity }
      : { code: f.code, severity: f.severity, text: f.text },
  )
  for (const [c, level] of Object.entries(s.toner)) {
    if (level <= 0)
      errors.push({ code: `TONER-EMPTY-${c.toUpperCase()}`, severity: 'warning', text: `${c} toner empty` })
  }
  const boxFull = s.waste !== null && s.waste >= 100
  if (boxFull) errors.push({ code: 'WASTE-BOX-FULL', severity: 'warning', text: 'Waste toner box full' })
  const status: WireReading['status'] = s.faults.some((f) => f.severity === 'critical')
    ? 'error'
    : outOfToner || boxFull
      ? 'stopped'
      : s.faults.length > 0
        ? 'warning'
        : printing
          ? 'printing'
          : ctx.staffed
            ? 'ready'
            : 'sleep'
  const reading: DeviceReading = { ts: new Date(ctx.ts).toISOString(), toner }
  if (s.waste !== null) reading.wasteBox = wasteReport(s.waste, model.wasteBoxReport)
  reading.counters = model.color
    ? { total: s.counters.total, mono: s.counters.mono, color: s.counters.color }
    : { total: s.counters.total, mono: s.counters.total }
  reading.status = status
  reading.errors = errors
  return reading
}
