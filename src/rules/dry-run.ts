/**
 * A dry run of the rule files: readings from a file, or from the service's stored history, go
 * through the real pipeline (contract validation, a real SqliteStore, the real Processor in event
 * time) into a throw-away store, and the report says which actions the rules would create, and for
 * a rule that never fired for a device, which condition failed and with what fact value.
 *
 * Nothing here writes to the service's data: the store is a temporary directory, and stored history
 * is read through a read-only connection.
 */

import { type FileHandle, mkdtemp, open, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Engine } from 'json-rules-engine'
import pino from 'pino'
import { EventClock } from '../clock.ts'
import type { Action, Birth, Site } from '../contract/schemas.ts'
import { isValidId } from '../contract/topics.ts'
import type { SiteCalendar } from '../domain/calendar.ts'
import type { DeviceState, SubjectKind } from '../domain/device-state.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import type { Reading } from '../domain/reading.ts'
import type { RejectReason } from '../errors.ts'
import { ServiceEvents } from '../events.ts'
import { type ParseSettings, parseMessage } from '../ingest/parse.ts'
import { InventoryBook } from '../inventory/inventory.ts'
import { type Core, decisionCore } from '../pipeline/core.ts'
import type { Processor } from '../pipeline/processor.ts'
import { ReadOnlyHistory } from '../store/sqlite/history.ts'
import { DB_FILE, SqliteStore } from '../store/sqlite/sqlite-store.ts'
import type { BirthRecord, GatewayUpdate } from '../store/store.ts'
import { SUBJECTS } from '../subjects/registry.ts'
import { scopeOf } from '../subjects/scope.ts'
import { engineFor, RuleEvaluator, type RuleRuntimeError } from './evaluator.ts'
import { type DeviceInfo, deviceInfo, type OpenAction, type SubjectInstance, subjectsOf } from './facts.ts'
import { type LoadedRule, loadRuleDir, type RuleSet } from './loader.ts'

/** A problem with what the operator asked for (a bad file, a missing database): exit code 2. */
export class DryRunInputError extends Error {
  override name = 'DryRunInputError'
}

export interface DryRunSettings {
  rulesDir: string
  /** Silence rules run each time event time passes a multiple of this, as in `--clock event`. */
  sweepIntervalMs: number
  topicRoot: string
  maxPayloadBytes: number
  /** Told how far the run is: bytes of the readings file (`test`), or readings replayed (`backtest`). */
  onProgress?: (done: number, total?: number) => void
  /** The provider's support calendar, for sites without their own (the service's `--support-*`). */
  supportCalendar?: SiteCalendar
}

/** An action as the API shows it, without the ids and times that only a real ledger gives. */
export type DryRunAction = Pick<
  Action,
  'type' | 'deviceId' | 'siteId' | 'rule' | 'createdAt' | 'status' | 'details'
>

export interface RejectedLine {
  line: number
  reason: RejectReason | 'invalid-line'
  detail: string
}

/** One leaf condition that made a rule fail. */
export interface FailedCondition {
  /** As written in the rule file: `toner.level lessThanInclusive 10`. */
  condition: string
  /** The fact's value (after `path`) at the evaluation; absent when the fact was undefined. */
  factValue?: unknown
  /** True when the condition held, and failed the rule because it is under a `not`. */
  held: boolean
}

export interface SubjectExplanation {
  /** `toner:black`, `wasteBox`, `error:C-2557`, `silence`. */
  subject: string
  failed: FailedCondition[]
  /** Set when the rule threw while running: it then decides nothing. */
  error?: string
}

export interface NotFired {
  rule: string
  file: string
  deviceId: string
  siteId: string
  /** The last instant the rule was evaluated for this device with something to look at, or null. */
  evaluatedAt: string | null
  /** The subjects at that evaluation, each with the conditions that failed. */
  subjects: SubjectExplanation[]
  /** Why there is nothing to explain, when the rule was never evaluated for the device. */
  reason?: string
}

export interface InputSummary {
  /** The readings file, or the database and window of a backtest. */
  source: string
  /** Lines read (test). */
  lines?: number
  /** Valid readings handed to the store. */
  readings: number
  births: number
  /** New readings stored (the rest were duplicates by device and seq, or device and ts). */
  stored: number
  duplicates: number
  /** Readings older than their device's newest: stored, and decide nothing (as in the service). */
  lateReadings: number
  rejected: RejectedLine[]
  /** Backtest: readings in the window whose body SQLite no longer keeps (the InfluxDB store). */
  withoutBody?: number
}

export interface DryRunReport {
  command: 'test' | 'backtest'
  rules: {
    loaded: { name: string; file: string; subject: SubjectKind; type: string }[]
    failures: { file: string; reason: string }[]
    runtimeErrors: RuleRuntimeError[]
  }
  input: InputSummary
  /** In the order they were created. */
  actions: DryRunAction[]
  countsByType: Record<string, number>
  notFired: NotFired[]
}

const SILENT = pino({ level: 'silent' })
/** Readings handed to the store and processed together; a sweep instant also ends a chunk. */
const CHUNK = 500

/**
 * The real evaluator, which also remembers, per device and subject kind, the last evaluation that
 * had something to look at: the explanation of a rule that never fired is computed from it.
 */
class ObservedEvaluator extends RuleEvaluator {
  readonly last = new Map<string, { at: number; subjects: SubjectInstance[] }>()

  override async evaluate(
    kinds: readonly SubjectKind[],
    state: DeviceState,
    info: DeviceInfo,
    at: number,
    open: readonly OpenAction[] = [],
    learnedAt: number = at,
  ): Promise<ActionCandidate[]> {
    for (const kind of kinds) {
      if (!this.hasRulesFor(kind)) continue
      const subjects = subjectsOf(kind, state, info, at, open)
      if (subjects.length > 0) this.last.set(observedKey(state.deviceId, kind), { at, subjects })
    }
    // The open actions too: rules that follow up on them (delivery-overdue) see them as in the service.
    return super.evaluate(kinds, state, info, at, open, learnedAt)
  }

  override async evaluateSite(
    subject: SubjectInstance,
    siteId: string,
    addressee: string | undefined,
    at: number,
  ): Promise<ActionCandidate[]> {
    if (this.hasRulesFor(subject.kind))
      this.last.set(observedKey(siteKey(siteId), subject.kind), { at, subjects: [subject] })
    return super.evaluateSite(subject, siteId, addressee, at)
  }
}

/** Rules about a whole site are observed and explained once per site, under this key. */
const siteKey = (siteId: string) => `site:${siteId}`

/**
 * The inventory of a data directory, when one is given: what the rules know of its devices and
 * sites besides the readings, as in the service.
 */
async function inventoryOf(dataDir: string | undefined): Promise<InventoryBook | undefined> {
  if (dataDir === undefined) return undefined
  const inventory = new InventoryBook(dataDir)
  await inventory.load()
  return inventory
}

const observedKey = (deviceId: string, kind: SubjectKind) => `${deviceId}\u0000${kind}`

/** The service's pipeline from the store on, over a temporary store, in event time. */
class Replay {
  readonly clock = new EventClock()
  readonly evaluator: ObservedEvaluator
  private readonly store: SqliteStore
  private readonly events = new ServiceEvents()
  private readonly core: Core
  private readonly processor: Processor
  private chunk: {
    readings: Reading[]
    births: BirthRecord[]
    bucket: number | null
    /** The receipt of the readings, in a backtest: the service's own, so that orders and clocks start where they did. */
    receivedAt?: number
  } = {
    readings: [],
    births: [],
    bucket: null,
  }
  readonly counts = { readings: 0, births: 0, stored: 0, duplicates: 0 }

  private constructor(
    private readonly dir: string,
    rules: readonly LoadedRule[],
    private readonly sweepIntervalMs: number,
    inventory: InventoryBook | undefined,
    support: SiteCalendar | undefined,
  ) {
    this.evaluator = new ObservedEvaluator(rules)
    this.store = new SqliteStore(dir, false)
    // The service's decision core, wired as the service wires it, in event time.
    this.core = decisionCore({
      store: this.store,
      clock: this.clock,
      eventTime: { clock: this.clock, sweepIntervalMs },
      rules: () => this.evaluator,
      log: SILENT,
      events: this.events,
      inventory,
      support,
    })
    this.processor = this.core.processor
  }

  static async start(
    rules: readonly LoadedRule[],
    sweepIntervalMs: number,
    inventory: InventoryBook | undefined,
    support: SiteCalendar | undefined,
  ): Promise<Replay> {
    const dir = await mkdtemp(join(tmpdir(), 'printwarden-dry-run-'))
    const replay = new Replay(dir, rules, sweepIntervalMs, inventory, support)
    try {
      await replay.store.start()
      await replay.processor.start()
    } catch (err) {
      await replay.close()
      throw err
    }
    return replay
  }

  /**
   * Takes what one message carried. Messages are stored and processed in chunks, and a chunk ends
   * where a message's readings pass a sweep instant: silence rules see time pass much as they would
   * reading by reading, without one commit (and one fsync) per reading.
   */
  async add(
    readings: readonly Reading[],
    births: readonly BirthRecord[],
    receivedAt?: number,
    gateways: readonly GatewayUpdate[] = [],
  ): Promise<void> {
    if (gateways.length > 0) {
      // A gateway's state counts from where the readings before it left off.
      await this.flush()
      const { end } = await this.store.ingest([], [], this.clock.now(), gateways)
      this.events.emit('committed', { end, births: [], gateways: true })
    }
    const first = readings[0]
    if (first !== undefined && this.chunk.readings.length > 0 && receivedAt !== this.chunk.receivedAt)
      await this.flush()
    if (first !== undefined) {
      const bucket = Math.floor(first.ts / this.sweepIntervalMs)
      if (this.chunk.bucket !== null && bucket !== this.chunk.bucket) await this.flush()
      this.chunk.bucket ??= bucket
      if (receivedAt === undefined) delete this.chunk.receivedAt
      else this.chunk.receivedAt = receivedAt
    }
    this.chunk.readings.push(...readings)
    this.chunk.births.push(...births)
    this.counts.readings += readings.length
    this.counts.births += births.length
    if (this.chunk.readings.length >= CHUNK) await this.flush()
  }

  private async flush(): Promise<void> {
    const { readings, births, receivedAt } = this.chunk
    this.chunk = { readings: [], births: [], bucket: null }
    if (readings.length === 0 && births.length === 0) return
    const result = await this.store.ingest(readings, births, receivedAt ?? this.clock.now())
    this.events.emit('committed', { end: result.end, births: births.map((b) => b.deviceId), gateways: false })
    this.counts.stored += result.stored
    this.counts.duplicates += result.duplicates
    await this.processor.idle()
  }

  /** Processes what is left; then, if asked, lets event time run on to `sweepAt` and sweeps there. */
  async finish(sweepAt?: number): Promise<void> {
    await this.flush()
    await this.processor.idle()
    if (sweepAt !== undefined) {
      this.clock.advanceTo(sweepAt)
      await this.processor.sweep()
    }
  }

  async lateReadings(): Promise<number> {
    return (await this.processor.progress()).lateReadings
  }

  async actions(): Promise<DryRunAction[]> {
    const newestFirst = await this.store.actions({ limit: Number.MAX_SAFE_INTEGER })
    return newestFirst.reverse().map((a) => ({
      type: a.type,
      deviceId: a.deviceId,
      siteId: a.siteId,
      rule: a.rule,
      createdAt: a.createdAt,
      status: a.status,
      details: a.details,
    }))
  }

  /** The devices whose readings were processed. */
  async devices(): Promise<{ deviceId: string; siteId: string }[]> {
    return (await this.store.devices())
      .filter((d) => d.state !== null)
      .map((d) => ({ deviceId: d.deviceId, siteId: d.siteId }))
  }

  async close(): Promise<void> {
    this.core.detach()
    await this.processor.stop()
    await this.store.stop()
    await rm(this.dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// Explanations

interface ConditionNode {
  all?: unknown[]
  any?: unknown[]
  not?: unknown
  fact?: string
  path?: string
  operator?: string
  value?: unknown
  result?: boolean
  factResult?: unknown
}

const isNode = (v: unknown): v is ConditionNode => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A condition as the rule file says it: `toner.level lessThanInclusive 10`. */
export function describeCondition(c: Pick<ConditionNode, 'fact' | 'path' | 'operator' | 'value'>): string {
  const path = typeof c.path === 'string' && c.path.startsWith('$') ? c.path.slice(1) : (c.path ?? '')
  return `${c.fact}${path} ${c.operator} ${JSON.stringify(c.value)}`
}

/**
 * What a node of an evaluated condition tree came to: json-rules-engine records `result` on each
 * leaf it evaluated; a leaf it skipped (its outcome was already decided) has none.
 */
function outcome(node: unknown): boolean | undefined {
  if (!isNode(node)) return undefined
  if (Array.isArray(node.all)) return node.all.every((c) => outcome(c) === true)
  if (Array.isArray(node.any)) return node.any.some((c) => outcome(c) === true)
  if ('not' in node) {
    const inner = outcome(node.not)
    return inner === undefined ? undefined : !inner
  }
  return node.result
}

/**
 * The leaves that made `node` come to `want`. The rule failed, so the top comes to false: in an
 * `all`, the children that were false; in an `any`, all of them; under a `not`, the leaves that
 * held.
 */
function culprits(node: unknown, want: boolean): FailedCondition[] {
  if (!isNode(node)) return []
  const children = Array.isArray(node.all) ? node.all : Array.isArray(node.any) ? node.any : null
  if (children) {
    const isAll = Array.isArray(node.all)
    // all→false and any→true: the children that came to `want` decide; otherwise every child does.
    const some = isAll !== want
    return children.flatMap((c) => (!some || outcome(c) === want ? culprits(c, want) : []))
  }
  if ('not' in node) return culprits(node.not, !want)
  if (node.result !== want) return []
  return [
    {
      condition: describeCondition(node),
      ...(node.factResult === undefined ? {} : { factValue: node.factResult }),
      held: want,
    },
  ]
}

/** Runs one rule over one subject's facts, as the evaluator does, and says why it did not fire. */
async function explainSubject(engine: Engine, subject: SubjectInstance): Promise<SubjectExplanation> {
  try {
    const result = await engine.run(subject.facts)
    const failure = result.failureResults[0]
    return { subject: subject.key, failed: failure ? culprits(failure.conditions, false) : [] }
  } catch (err) {
    return { subject: subject.key, failed: [], error: (err as Error).message }
  }
}

async function explainNotFired(
  rules: readonly LoadedRule[],
  devices: readonly { deviceId: string; siteId: string }[],
  actions: readonly DryRunAction[],
  evaluator: ObservedEvaluator,
): Promise<NotFired[]> {
  const fired = new Set(
    actions.flatMap((a) => [`${a.rule}\u0000${a.deviceId}`, `${a.rule}\u0000${siteKey(a.siteId)}`]),
  )
  const engines = new Map<string, Engine>()
  const notFired: NotFired[] = []
  for (const rule of rules) {
    const sitesSeen = new Set<string>()
    for (const { deviceId, siteId } of devices) {
      // A rule about a whole site is told of once per site, on its first device.
      const perSite = scopeOf(rule.subject).scope === 'site'
      if (perSite && sitesSeen.has(siteId)) continue
      sitesSeen.add(siteId)
      const who = perSite ? siteKey(siteId) : deviceId
      if (fired.has(`${rule.name}\u0000${who}`)) continue
      const base = { rule: rule.name, file: rule.file, deviceId, siteId }
      const last = evaluator.last.get(observedKey(who, rule.subject))
      if (!last) {
        notFired.push({
          ...base,
          evaluatedAt: null,
          subjects: [],
          reason: SUBJECTS[rule.subject].neverEvaluated,
        })
        continue
      }
      let engine = engines.get(rule.name)
      if (!engine) {
        // The evaluator's own engine settings, so that the explanation sees what it saw.
        engine = engineFor([rule])
        engines.set(rule.name, engine)
      }
      const subjects: SubjectExplanation[] = []
      for (const s of last.subjects) subjects.push(await explainSubject(engine, s))
      notFired.push({ ...base, evaluatedAt: new Date(last.at).toISOString(), subjects })
    }
  }
  return notFired
}

// ---------------------------------------------------------------------------------------------
// The two commands

async function loadRules(dir: string): Promise<RuleSet> {
  try {
    return await loadRuleDir(dir)
  } catch (err) {
    throw new DryRunInputError(`cannot read the rule files in ${dir}: ${(err as Error).message}`)
  }
}

async function report(
  command: DryRunReport['command'],
  rules: RuleSet,
  replay: Replay,
  input: Omit<InputSummary, 'readings' | 'births' | 'stored' | 'duplicates' | 'lateReadings'>,
): Promise<DryRunReport> {
  const actions = await replay.actions()
  const countsByType: Record<string, number> = {}
  for (const a of actions) countsByType[a.type] = (countsByType[a.type] ?? 0) + 1
  return {
    command,
    rules: {
      loaded: rules.rules.map((r) => ({
        name: r.name,
        file: r.file,
        subject: r.subject,
        type: r.event.type,
      })),
      failures: rules.failures.map((f) => ({ file: f.file, reason: f.reason })),
      runtimeErrors: replay.evaluator.runtimeErrors(),
    },
    input: {
      ...input,
      readings: replay.counts.readings,
      births: replay.counts.births,
      stored: replay.counts.stored,
      duplicates: replay.counts.duplicates,
      lateReadings: await replay.lateReadings(),
    },
    actions,
    countsByType,
    notFired: await explainNotFired(rules.rules, await replay.devices(), actions, replay.evaluator),
  }
}

/**
 * One line of a readings file as an MQTT message: `{ "topic", "payload" }` (the simulator's
 * `--out`; a string payload is the message text as sent), or a bare reading that names its
 * `siteId` and `deviceId`.
 */
export function lineToMessage(
  topicRoot: string,
  json: unknown,
): { topic: string; payload: Buffer } | { reason: 'invalid-line'; detail: string } {
  const expected = 'expected {"topic", "payload"}, or a reading with "siteId" and "deviceId"'
  if (!isNode(json)) return { reason: 'invalid-line', detail: `${expected}; this line is not an object` }
  const line = json as Record<string, unknown>
  if ('topic' in line || 'payload' in line) {
    if (typeof line.topic !== 'string' || !('payload' in line))
      return { reason: 'invalid-line', detail: `${expected}; this line has one of topic and payload only` }
    const text = typeof line.payload === 'string' ? line.payload : JSON.stringify(line.payload)
    return { topic: line.topic, payload: Buffer.from(text ?? '', 'utf8') }
  }
  const { siteId, deviceId, ...reading } = line
  for (const [name, id] of [
    ['siteId', siteId],
    ['deviceId', deviceId],
  ] as const) {
    if (id === undefined) return { reason: 'invalid-line', detail: `${expected}; "${name}" is missing` }
    if (typeof id !== 'string' || !isValidId(id))
      return {
        reason: 'invalid-line',
        detail: `${name} ${JSON.stringify(id)} is not an ID: 1 to 64 of letters, digits, ".", "_", "-"`,
      }
  }
  return {
    topic: `${topicRoot}/${siteId}/${deviceId}/telemetry`,
    payload: Buffer.from(JSON.stringify(reading), 'utf8'),
  }
}

async function openReadable(file: string) {
  try {
    const s = await stat(file)
    if (!s.isFile()) throw new Error('not a file')
    return await open(file, 'r')
  } catch (err) {
    throw new DryRunInputError(`cannot read the readings file ${file}: ${(err as Error).message}`)
  }
}

/** `rules test`: the readings of a JSON lines file. */
export async function testReadings(
  settings: DryRunSettings & {
    readingsFile: string
    /** After the last line, let event time run on to this instant, and run the silence rules there. */
    until?: number
    /** A data directory whose site and device inventory describes the devices (read only). */
    inventoryDir?: string
  },
): Promise<DryRunReport> {
  const handle = await openReadable(settings.readingsFile)
  try {
    const rules = await loadRules(settings.rulesDir)
    const replay = await Replay.start(
      rules.rules,
      settings.sweepIntervalMs,
      await inventoryOf(settings.inventoryDir),
      settings.supportCalendar,
    )
    try {
      const { lines, rejected } = await replayLines(handle, settings, replay)
      await replay.finish(settings.until)
      return await report('test', rules, replay, { source: settings.readingsFile, lines, rejected })
    } finally {
      await replay.close()
    }
  } finally {
    await handle.close().catch(() => {})
  }
}

/** Each line through the same validation as MQTT ingest, and on into the replay. */
async function replayLines(
  handle: FileHandle,
  settings: DryRunSettings & { readingsFile: string },
  replay: Replay,
): Promise<{ lines: number; rejected: RejectedLine[] }> {
  // A dry run replays the past: no reading is "ahead of the clock".
  const parse: ParseSettings = {
    topicRoot: settings.topicRoot,
    maxPayloadBytes: settings.maxPayloadBytes,
    maxFutureSkewMs: Number.POSITIVE_INFINITY,
  }
  const rejected: RejectedLine[] = []
  let lines = 0
  let bytes = 0
  const size = settings.onProgress ? (await handle.stat()).size : 0
  const input = createInterface({
    input: handle.createReadStream({ encoding: 'utf8', autoClose: false }),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  try {
    for await (const text of input) {
      lines++
      bytes += Buffer.byteLength(text) + 1
      settings.onProgress?.(Math.min(bytes, size), size)
      if (text.trim() === '') continue
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch (err) {
        rejected.push({ line: lines, reason: 'not-json', detail: (err as Error).message })
        continue
      }
      const message = lineToMessage(settings.topicRoot, json)
      if ('reason' in message) {
        rejected.push({ line: lines, ...message })
        continue
      }
      const parsed = parseMessage(parse, message.topic, message.payload, replay.clock.now())
      if (parsed.kind === 'rejected')
        rejected.push({ line: lines, reason: parsed.reason, detail: parsed.detail })
      else if (parsed.kind === 'birth')
        await replay.add([], [{ siteId: parsed.siteId, deviceId: parsed.deviceId, birth: parsed.birth }])
      else if (parsed.kind === 'gateway')
        await replay.add([], [], undefined, [
          { siteId: parsed.siteId, gatewayId: parsed.gatewayId, status: parsed.status },
        ])
      else await replay.add(parsed.readings, [])
    }
  } catch (err) {
    // The file opened, and then could not be read (an I/O error): the operator's to fix.
    if ((err as NodeJS.ErrnoException).syscall !== undefined)
      throw new DryRunInputError(
        `cannot read the readings file ${settings.readingsFile}: ${(err as Error).message}`,
      )
    throw err
  }
  return { lines, rejected }
}

/** `rules backtest`: the readings the service stored between two instants. */
export async function backtest(
  settings: DryRunSettings & { dataDir: string; from: number; to: number },
): Promise<DryRunReport> {
  const { from, to } = settings
  let history: ReadOnlyHistory
  try {
    history = new ReadOnlyHistory(settings.dataDir)
  } catch (err) {
    throw new DryRunInputError((err as Error).message)
  }
  try {
    const rules = await loadRules(settings.rulesDir)
    const inventory = await inventoryOf(settings.dataDir)
    const replay = await Replay.start(
      rules.rules,
      settings.sweepIntervalMs,
      inventory,
      settings.supportCalendar,
    )
    try {
      await replay.add([], history.births())
      let replayed = 0
      for (const page of history.receipts(from, to)) {
        for (const { reading, receivedAt } of page) await replay.add([reading], [], receivedAt)
        replayed += page.length
        settings.onProgress?.(replayed)
      }
      // Silence rules look at the window up to its end.
      await replay.finish(to)
      const withoutBody = history.withoutBody(from, to)
      return await report('backtest', rules, replay, {
        source: `${join(settings.dataDir, DB_FILE)} from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
        rejected: [],
        withoutBody,
      })
    } finally {
      await replay.close()
    }
  } finally {
    history.close()
  }
}

// ---------------------------------------------------------------------------------------------
// Text output

function explainLine(s: SubjectExplanation): string {
  if (s.error !== undefined) return `${s.subject}: the rule failed while running: ${s.error}`
  if (s.failed.length === 0) return `${s.subject}: no condition failed (the rule held at its last evaluation)`
  const parts = s.failed.map((f) => {
    const value = 'factValue' in f ? JSON.stringify(f.factValue) : 'undefined'
    return f.held
      ? `not (${f.condition}) failed: it held, fact value ${value}`
      : `${f.condition} failed, fact value ${value}`
  })
  return `${s.subject}: ${parts.join('; ')}`
}

export function formatReport(r: DryRunReport): string {
  const out: string[] = []
  const { rules, input } = r
  out.push(
    `Rules: ${rules.loaded.length} loaded${rules.loaded.length ? ` (${rules.loaded.map((l) => l.name).join(', ')})` : ''}` +
      (rules.failures.length ? `, ${rules.failures.length} failed to load:` : ''),
  )
  for (const f of rules.failures) out.push(`  ${f.reason}`)
  for (const e of rules.runtimeErrors)
    out.push(`  rule ${e.rule} failed while running ${e.count} time(s), last: ${e.lastError}`)

  out.push('')
  out.push(`Input: ${input.source}`)
  const counts = [
    input.lines === undefined ? null : `${input.lines} lines`,
    `${input.readings} readings`,
    `${input.stored} stored`,
    `${input.duplicates} duplicates`,
    `${input.lateReadings} late (stored, decide nothing)`,
    `${input.births} births`,
    input.lines === undefined ? null : `${input.rejected.length} rejected`,
  ].filter((c) => c !== null)
  out.push(`  ${counts.join(', ')}`)
  if (input.withoutBody)
    out.push(`  ${input.withoutBody} readings in the window are kept by InfluxDB only, and were not replayed`)
  for (const x of input.rejected) out.push(`  line ${x.line}: ${x.reason}: ${x.detail}`)

  out.push('')
  out.push(`Actions that would be created: ${r.actions.length}`)
  for (const a of r.actions) {
    out.push(
      `  ${a.createdAt}  ${a.type}  ${a.deviceId ?? 'the site'} (${a.siteId})  rule ${a.rule}  ${a.status}  ${JSON.stringify(a.details)}`,
    )
  }
  const byType = Object.entries(r.countsByType).sort(([a], [b]) => a.localeCompare(b))
  if (byType.length) out.push(`By type: ${byType.map(([t, n]) => `${t} ${n}`).join(', ')}`)

  if (r.notFired.length) {
    out.push('')
    out.push('Rules that did not fire for a device:')
    for (const n of r.notFired) {
      const head = `  ${n.rule} on ${n.deviceId} (${n.siteId})`
      if (n.reason !== undefined) {
        out.push(`${head}: ${n.reason}`)
        continue
      }
      out.push(`${head}, last evaluated ${n.evaluatedAt}:`)
      for (const s of n.subjects) out.push(`    ${explainLine(s)}`)
    }
  }
  return `${out.join('\n')}\n`
}
