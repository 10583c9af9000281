/**
 * The service's decision core from the store on, over a temporary store, in event time, with an
 * evaluator that remembers what each rule last looked at (for the explanations).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { EventClock } from '../../clock.ts'
import type { SiteCalendar } from '../../domain/calendar.ts'
import type { DeviceState, SubjectKind } from '../../domain/device-state.ts'
import type { ActionCandidate } from '../../domain/ledger.ts'
import type { Reading } from '../../domain/reading.ts'
import { ServiceEvents } from '../../events.ts'
import { InventoryBook } from '../../inventory/inventory.ts'
import { type Core, decisionCore } from '../../pipeline/core.ts'
import type { Processor } from '../../pipeline/processor.ts'
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts'
import type { BirthRecord, GatewayUpdate } from '../../store/store.ts'
import { subjectsOf } from '../../subjects/device-subjects.ts'
import { RuleEvaluator } from '../evaluator.ts'
import type { DeviceInfo, OpenAction, SubjectInstance } from '../facts.ts'
import type { LoadedRule } from '../loader.ts'
import type { DryRunAction } from './report.ts'

const SILENT = pino({ level: 'silent' })
/** Readings handed to the store and processed together; a sweep instant also ends a chunk. */
const CHUNK = 500

/**
 * The real evaluator, which also remembers, per device and subject kind, the last evaluation that
 * had something to look at: the explanation of a rule that never fired is computed from it.
 */
export class ObservedEvaluator extends RuleEvaluator {
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
export const siteKey = (siteId: string) => `site:${siteId}`

/**
 * The inventory of a data directory, when one is given: what the rules know of its devices and
 * sites besides the readings, as in the service.
 */
export async function inventoryOf(dataDir: string | undefined): Promise<InventoryBook | undefined> {
  if (dataDir === undefined) return undefined
  const inventory = new InventoryBook(dataDir)
  await inventory.load()
  return inventory
}

export const observedKey = (deviceId: string, kind: SubjectKind) => `${deviceId}\u0000${kind}`

/** The service's pipeline from the store on, over a temporary store, in event time. */
export class Replay {
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
