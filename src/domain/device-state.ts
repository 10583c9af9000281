/**
 * What printwarden knows of a device now, folded from its readings in time order. Pure: no IO and
 * no clock. Each subject a rule can speak about (a toner colour, the waste box, an active error,
 * the device's silence) has an *episode*: one cartridge, one box, one stretch of an error, one
 * silence. An action belongs to one episode and is resolved when that episode ends, so a rule can
 * never act twice on the same cause.
 *
 * Episode ids depend only on the readings up to that instant, never on the order they arrived in,
 * so a gateway replaying old readings lands on the same episodes as live traffic did.
 */
import type { SubjectKind } from '../subjects/registry.ts'
import type { ActiveError, Counters, Reading, Status, WasteBoxReport } from './reading.ts'

/** A rise of a colour's level by this many points or more is a new cartridge (CONTRACT.md). */
export const NEW_CARTRIDGE_RISE = 30
/** A waste box at or above this fill needs replacing (CONTRACT.md). */
export const WASTE_BOX_FULL_PERCENT = 90
/** After a box needed replacing, a fill under this is a new box (CONTRACT.md). */
export const WASTE_BOX_NEW_BELOW_PERCENT = 50

export const INITIAL_EPISODE = 'initial'

export interface TonerState {
  level: number
  /** The cartridge's episode id: `initial`, or `c<ts>` of the reading that showed it installed. */
  cartridge: string
  /** When the cartridge was seen installed; absent for the one found at first contact. */
  installedAt?: number
  /** The level the previous cartridge had when it was taken out: toner thrown away if above 0. */
  replacedAtLevel?: number
  /** Rises too small to be a new cartridge (a cartridge taken out and shaken): how many, this cartridge. */
  bumps?: number
  /** The first reading of this cartridge: where its slope is measured from. */
  startLevel?: number
  startTs?: number
}

/** A rise of at least this many points, but under a new cartridge's, is a bump (a shake); less is sensor noise. */
export const BUMP_RISE = 3

export interface WasteBoxStateRecord {
  report: WasteBoxReport
  box: string
  needsReplacing: boolean
}

export interface ErrorState extends ActiveError {
  since: number
}

/**
 * How often an error code came back lately: the instants it became active within the last
 * `RECURRENCE_WINDOW_MS`, and where the current run of recurrences began (a run ends after a whole
 * window without the code). A warning that users clear each time can still need an engineer.
 */
export interface Recurrence {
  severity: ActiveError['severity']
  starts: number[]
  runStart: number
}

export const RECURRENCE_WINDOW_MS = 7 * 86_400_000
/** Starts kept per code: enough for any threshold a rule would set within a week. */
const MAX_STARTS = 100

export interface DeviceState {
  deviceId: string
  siteId: string
  firstTs: number
  lastTs: number
  toner: Record<string, TonerState>
  wasteBox?: WasteBoxStateRecord
  errors: Record<string, ErrorState>
  /** Error codes that became active within the last week, by code. */
  recurrences?: Record<string, Recurrence>
  counters?: Counters
  /** When the newest reading with page counters was read. */
  lastCounterTs?: number
  /** Where the pages-per-day window starts (it moves every 30 days), and the rate of the window before. */
  counterWindow?: { ts: number; total: number; previousRate?: number }
  status?: Status
}

/**
 * Colour names and error codes come from devices and key plain objects here: lookups must see own
 * entries only (a colour called `constructor` is a colour), and writes must never reach a prototype
 * (an error code `__proto__` is an error code). Dictionaries are made without a prototype.
 */
function dict<T>(from?: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, from)
}

function own<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined
}

/** Levels may have decimals: 20.3 → 50.3 is a rise of 30 points, whatever binary floating point says. */
const EPSILON = 1e-9

export function wasteBoxNeedsReplacing(report: WasteBoxReport): boolean {
  return typeof report === 'number' ? report >= WASTE_BOX_FULL_PERCENT : report !== 'ok'
}

function wasteBoxIsNew(report: WasteBoxReport): boolean {
  return typeof report === 'number' ? report < WASTE_BOX_NEW_BELOW_PERCENT : report === 'ok'
}

/** The next cartridge state of one colour. */
export function nextToner(prev: TonerState | undefined, level: number, ts: number): TonerState {
  if (prev === undefined) return { level, cartridge: INITIAL_EPISODE, startLevel: level, startTs: ts }
  const rise = level - prev.level
  if (rise >= NEW_CARTRIDGE_RISE - EPSILON) {
    return {
      level,
      cartridge: `c${ts}`,
      installedAt: ts,
      replacedAtLevel: prev.level,
      startLevel: level,
      startTs: ts,
    }
  }
  // A smaller rise (a cartridge taken out and shaken, sensor noise) or a fall: the same cartridge.
  if (rise >= BUMP_RISE - EPSILON) return { ...prev, level, bumps: (prev.bumps ?? 0) + 1 }
  return { ...prev, level }
}

export function nextWasteBox(
  prev: WasteBoxStateRecord | undefined,
  report: WasteBoxReport,
  ts: number,
): WasteBoxStateRecord {
  const needsReplacing = wasteBoxNeedsReplacing(report)
  if (prev === undefined) return { report, box: INITIAL_EPISODE, needsReplacing }
  if (prev.needsReplacing && wasteBoxIsNew(report)) return { report, box: `b${ts}`, needsReplacing: false }
  // Once a box needed replacing it keeps needing it until a new box is seen.
  return { report, box: prev.box, needsReplacing: prev.needsReplacing || needsReplacing }
}

export function nextErrors(
  prev: Record<string, ErrorState>,
  active: ActiveError[],
  ts: number,
): Record<string, ErrorState> {
  const next = dict<ErrorState>()
  for (const e of active) next[e.code] = { ...e, since: own(prev, e.code)?.since ?? ts }
  return next
}

/** Counts the codes that became active at `ts` (were not active before), and forgets old starts. */
export function nextRecurrences(
  prev: Record<string, Recurrence> | undefined,
  before: Record<string, ErrorState>,
  active: ActiveError[] | undefined,
  ts: number,
): Record<string, Recurrence> | undefined {
  const next = dict<Recurrence>()
  let any = false
  for (const [code, r] of Object.entries(prev ?? {})) {
    const starts = r.starts.filter((t) => ts - t <= RECURRENCE_WINDOW_MS)
    if (starts.length === 0) continue
    next[code] = { ...r, starts }
    any = true
  }
  for (const e of active ?? []) {
    if (own(before, e.code) !== undefined) continue
    const r = own(next, e.code)
    next[e.code] =
      r === undefined
        ? { severity: e.severity, starts: [ts], runStart: ts }
        : { severity: e.severity, starts: [...r.starts, ts].slice(-MAX_STARTS), runStart: r.runStart }
    any = true
  }
  return any ? next : undefined
}

/** The run of recurrences a code is in at `now`, or null once a whole window passed without it. */
export function recurrenceEpisode(r: Recurrence, now: number): string | null {
  const last = r.starts[r.starts.length - 1]
  return last !== undefined && now - last <= RECURRENCE_WINDOW_MS ? `r${r.runStart}` : null
}

const DAY = 86_400_000
const COUNTER_WINDOW_DAYS = 30

/** Pages per day are measured over a window of up to 30 days; a counter reset starts a new one. */
function nextCounterWindow(
  prev: DeviceState['counterWindow'],
  total: number,
  ts: number,
): NonNullable<DeviceState['counterWindow']> {
  if (prev === undefined || total < prev.total) return { ts, total }
  if (ts - prev.ts < COUNTER_WINDOW_DAYS * DAY) return prev
  return { ts, total, previousRate: ((total - prev.total) / (ts - prev.ts)) * DAY }
}

/** Pages printed per day, from the counters: null until a day of them is known. */
export function pagesPerDay(state: DeviceState): number | null {
  const w = state.counterWindow
  if (!w || state.counters === undefined || state.lastCounterTs === undefined) return null
  const span = state.lastCounterTs - w.ts
  if (span < DAY) return w.previousRate ?? null
  return ((state.counters.total - w.total) / span) * DAY
}

/** Folds one reading into a device's state. The reading must be newer than `state.lastTs`. */
export function step(state: DeviceState | undefined, r: Reading): DeviceState {
  const toner = dict(state?.toner)
  if (r.toner) {
    for (const [color, level] of Object.entries(r.toner))
      toner[color] = nextToner(own(toner, color), level, r.ts)
  }
  const next: DeviceState = {
    deviceId: r.deviceId,
    siteId: r.siteId,
    firstTs: state?.firstTs ?? r.ts,
    lastTs: r.ts,
    toner,
    errors: r.errors ? nextErrors(state?.errors ?? dict(), r.errors, r.ts) : dict(state?.errors),
  }
  const recurrences = nextRecurrences(state?.recurrences, state?.errors ?? dict(), r.errors, r.ts)
  if (recurrences) next.recurrences = recurrences
  const wasteBox =
    r.wasteBox !== undefined ? nextWasteBox(state?.wasteBox, r.wasteBox, r.ts) : state?.wasteBox
  if (wasteBox) next.wasteBox = wasteBox
  const counters = r.counters ?? state?.counters
  if (counters) next.counters = counters
  const lastCounterTs = r.counters ? r.ts : state?.lastCounterTs
  if (lastCounterTs !== undefined) next.lastCounterTs = lastCounterTs
  const window = r.counters
    ? nextCounterWindow(state?.counterWindow, r.counters.total, r.ts)
    : state?.counterWindow
  if (window) next.counterWindow = window
  const status = r.status ?? state?.status
  if (status) next.status = status
  return next
}

/** Sorts by time: the one order in which readings are folded, whatever order they arrived in. */
export function byTime(a: Reading, b: Reading): number {
  return a.ts - b.ts
}

export function fold(readings: readonly Reading[], initial?: DeviceState): DeviceState | undefined {
  let state = initial
  for (const r of [...readings].sort(byTime)) state = step(state, r)
  return state
}

export { SUBJECT_KINDS, type SubjectKind } from '../subjects/registry.ts'

export function silenceEpisode(state: DeviceState): string {
  return `s${state.lastTs}`
}

export function subjectKey(kind: SubjectKind, name?: string): string {
  return name === undefined ? kind : `${kind}:${name}`
}
