import type { Logger } from 'pino'
import type { Clock, EventClock } from '../clock.ts'
import type { Birth, Site } from '../contract/schemas.ts'
import { type DeviceState, type SubjectKind, step } from '../domain/device-state.ts'
import type { ActionCandidate, LedgerEntry } from '../domain/ledger.ts'
import type { ServiceEvents } from '../events.ts'
import type { RuleEvaluator } from '../rules/evaluator.ts'
import type { DeviceInfo } from '../rules/facts.ts'
import type { CartridgeInstall, JournalEntry, Store } from '../store/store.ts'
import { subjectsWoken } from '../subjects/registry.ts'
import { Batch } from './batch.ts'
import { planCommit } from './commit-plan.ts'
import { EventTimeSweeps } from './event-time.ts'
import { Sweeps, WatchedStates } from './sweeps.ts'

/** A device's subjects that its readings wake. */
const READING_SUBJECTS: readonly SubjectKind[] = subjectsWoken('device', 'reading')
const BATCH = 500

export interface ProcessorOptions {
  store: Store
  /** "Now" of the decisions: the wall clock, or event time. */
  clock: Clock
  /** The rules in force now: rule files are reloaded while the service runs. */
  rules: () => RuleEvaluator
  log: Logger
  /** Told `actionsWritten` after each commit that wrote outbox messages. */
  events?: ServiceEvents
  /**
   * In event time, the clock follows the readings processed, and sweeps come every
   * `sweepIntervalMs` of event time, from here, rather than from a wall-clock timer.
   */
  eventTime?: { clock: EventClock; sweepIntervalMs: number } | undefined
  /** What is known of a device besides its readings (the inventory), from its birth message. */
  describe?: (birth: Birth, deviceId: string, siteId: string) => DeviceInfo
  /** A site of the inventory, for the rules about a whole site (its spare stock). */
  site?: (siteId: string) => Site | undefined
  /** Times each batch of readings (the service's metrics): started before it, told its size after. */
  timeBatch?: () => (readings: number) => void
}

/**
 * Follows the journal of stored readings: folds each into its device's state, runs the rules, and
 * commits the new states, the ledger's changes and the journal position in one transaction. A crash
 * between ingest and processing loses nothing: processing resumes from the last committed position.
 *
 * One task at a time (a batch of readings, or a sweep), so device states never race.
 */
export class Processor {
  /** Every change of a device's state tells the sweeps, which look at that device again. */
  private states: Map<string, DeviceState> = new WatchedStates((before, after) =>
    this.sweeper.stateChanged(before, after),
  )
  private position = 0
  private chain: Promise<void> = Promise.resolve()
  private wanted = false
  private isRunning = false
  private sweepPending = false
  /** Readings that were older than their device's newest one when processed: stored, not decided on. */
  private lateReadings = 0
  /** Sweeps run to their end: tests and operators can wait for the next one instead of a sleep. */
  private sweeps = 0
  private failure: string | null = null

  private readonly store: Store
  private readonly clock: Clock
  /** The rules in force now: rule files are reloaded while the service runs. */
  private readonly rules: () => RuleEvaluator
  private readonly log: Logger
  private readonly eventTime: ProcessorOptions['eventTime']
  private readonly describe: NonNullable<ProcessorOptions['describe']>
  private readonly timeBatch: ProcessorOptions['timeBatch']

  constructor(o: ProcessorOptions) {
    this.store = o.store
    this.clock = o.clock
    this.rules = o.rules
    this.log = o.log
    this.eventTime = o.eventTime
    this.describe = o.describe ?? ((birth) => birth)
    this.timeBatch = o.timeBatch
    const written = () => o.events?.emit('actionsWritten')
    this.onActions = () => {
      this.sweeper.actionsWritten()
      written()
    }
    this.sweeper = new Sweeps({
      store: o.store,
      clock: o.clock,
      log: o.log,
      rules: o.rules,
      states: () => this.states,
      info: async (deviceId, siteId) => this.describe(await this.birthOf(deviceId), deviceId, siteId),
      site: o.site ?? (() => undefined),
      commit: (candidates, siteEpisodes) =>
        this.commit(new Map(), candidates, undefined, new Map(), [], siteEpisodes),
      onActions: written,
    })
    this.eventSweeps =
      o.eventTime &&
      new EventTimeSweeps({
        ...o.eventTime,
        sweeper: this.sweeper,
        log: o.log,
        devices: () => this.states.size,
        sweep: (at) => this.runSweep(at),
        counted: (instants) => {
          this.sweeps += instants
        },
      })
  }

  /** In event time: the sweep instants the readings pass. */
  private readonly eventSweeps: EventTimeSweeps | undefined

  /** Called after a commit that wrote outbox messages; the sweeps are told too. */
  private readonly onActions: () => void
  /** The sweeps: the subjects whose deadline falls due at a sweep instant. */
  readonly sweeper: Sweeps

  /**
   * Something the sweeps look at changed outside the readings (the inventory, an action changed
   * through the API, a gateway's state): it is looked at again at the next sweep instant.
   */
  reconsider(what: 'everything' | SubjectKind = 'everything'): void {
    this.sweeper.reconsider(what)
  }

  /** Births read from the store, kept: every reading and every sweep asks for its device's. */
  private readonly births = new Map<string, Birth>()

  /** These devices sent a new birth message: read it again when next needed. */
  forgetBirths(deviceIds: readonly string[]): void {
    for (const id of deviceIds) this.births.delete(id)
    this.sweeper.infoChanged(deviceIds)
  }

  private async birthOf(deviceId: string): Promise<Birth> {
    let birth = this.births.get(deviceId)
    if (birth === undefined) {
      birth = await this.store.birth(deviceId)
      this.births.set(deviceId, birth)
    }
    return birth
  }

  async start(): Promise<void> {
    for (const s of await this.store.deviceStates()) {
      this.states.set(s.deviceId, s)
      this.eventTime?.clock.advanceTo(s.lastTs)
    }
    this.eventSweeps?.start()
    this.position = await this.store.journalPosition()
    this.isRunning = true
    this.poke()
  }

  /** The journal position processed up to, and how many stored readings wait behind it. */
  async progress(): Promise<{ position: number; backlog: number; lateReadings: number; sweeps: number }> {
    return {
      position: this.position,
      backlog: (await this.store.journalEnd()) - this.position,
      lateReadings: this.lateReadings,
      sweeps: this.sweeps,
    }
  }

  get running(): boolean {
    return this.isRunning
  }

  /** The journal position processed up to. */
  get processedUpTo(): number {
    return this.position
  }

  /** How many devices there are, heard from within `recentMs` of `now`, and silent for over `silentMs`. */
  fleetCounts(now: number, recentMs: number, silentMs: number) {
    let reporting = 0
    let silent = 0
    for (const s of this.states.values()) {
      if (now - s.lastTs <= recentMs) reporting++
      if (now - s.lastTs > silentMs) silent++
    }
    return { devices: this.states.size, reporting, silent }
  }

  /** New readings were stored: process them soon. Calls while a run is queued fold into it. */
  poke(): void {
    if (!this.isRunning || this.wanted) return
    this.wanted = true
    this.enqueue(async () => {
      this.wanted = false
      await this.drainJournal()
    }).catch(() => {
      // logged by enqueue; the next poke tries again
    })
  }

  /** Runs the sweep rules due at the clock's "now". A sweep already waiting absorbs this one. */
  sweep(): Promise<void> {
    if (this.sweepPending) return Promise.resolve()
    this.sweepPending = true
    return this.enqueue(() => {
      this.sweepPending = false
      return this.sweepNow()
    })
  }

  /**
   * Runs a task between two processing runs, never during one: an action a person opens (a
   * service call, an order) is seen whole by the next batch of readings, never half way.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    // Its failure is the caller's (an API request's), not processing's: /health does not hear of it.
    const run = this.chain.then(task)
    this.chain = run.then(
      () => {},
      () => {},
    )
    return run
  }

  /** A device's state as processed so far, or null if none of its readings was. */
  stateOf(deviceId: string): DeviceState | null {
    return this.states.get(deviceId) ?? null
  }

  /** The states of a site's devices, as processed so far. */
  statesOfSite(siteId: string): DeviceState[] {
    return [...this.states.values()].filter((s) => s.siteId === siteId)
  }

  /** Waits for work under way, and takes no more. */
  async stop(): Promise<void> {
    this.isRunning = false
    await this.chain
  }

  /** Resolves when every reading stored so far is processed. */
  idle(): Promise<void> {
    return this.enqueue(() => this.drainJournal())
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task).then(() => {
      this.failure = null
    })
    this.chain = run.catch((err: unknown) => {
      this.failure = (err as Error).message
      this.log.error({ err }, 'processing failed; it will be tried again with the next reading')
    })
    return run
  }

  /** Why the last processing run failed, while the next one has not succeeded; else null. */
  get failing(): string | null {
    return this.failure
  }

  private async drainJournal(): Promise<void> {
    for (;;) {
      const entries = await this.store.journalAfter(this.position, BATCH)
      if (entries.length === 0) return
      const timed = this.timeBatch?.()
      await this.processBatch(entries)
      timed?.(entries.length)
    }
  }

  /**
   * Decisions follow the newest knowledge of each device. A reading older than the device's newest
   * one (a gateway replaying its buffer after live readings resumed) is stored for history and
   * dashboards, and decides nothing: folding it in would rename episodes that actions were already
   * published for, and that means either a second order for one cartridge or taking back an order
   * that a supplier may have shipped. Readings replayed in time order, the usual case after an
   * outage, are newer than what the device last said, and count in full.
   */
  private async processBatch(entries: readonly JournalEntry[]): Promise<void> {
    let batch = new Batch()
    const infos = new Map<string, DeviceInfo>()
    let processed: number | undefined
    for (const [i, entry] of entries.entries()) {
      const ts = entry.reading.ts
      // In event time, a sweep comes at each sweep instant the readings pass, before the first
      // reading at or after it, and sees exactly the readings before it: however the readings were
      // batched, a simulation run twice finds the same silences at the same instants.
      const inEventTime = this.eventSweeps
      if (
        inEventTime?.passes(ts) &&
        !(await inEventTime.passQuiet(ts, {
          states: batch.touched,
          candidates: batch.fresh,
          installs: batch.installs.length,
        }))
      ) {
        if (processed !== undefined) await this.commitBatch(batch, processed)
        batch = new Batch()
        await inEventTime.sweepUntil(ts)
      }
      processed = entry.position
      await this.decide(entry, batch, infos, entries, i)
    }
    if (processed !== undefined) await this.commitBatch(batch, processed)
  }

  private commitBatch(batch: Batch, position: number): Promise<void> {
    return this.commit(batch.touched, batch.candidates, position, batch.opens, batch.installs)
  }

  /** One reading: folded into its device's state, and the rules it wakes run on the new state. */
  private async decide(
    { reading: r, receivedAt }: JournalEntry,
    batch: Batch,
    infos: Map<string, DeviceInfo>,
    /** The batch's entries, and this reading's index among them. */
    entries: readonly JournalEntry[],
    i: number,
  ): Promise<void> {
    const before = batch.touched.get(r.deviceId) ?? this.states.get(r.deviceId)
    if (before !== undefined && r.ts <= before.lastTs) {
      this.lateReadings++
      return
    }
    let info = infos.get(r.deviceId)
    if (info === undefined) {
      info = this.describe(await this.birthOf(r.deviceId), r.deviceId, r.siteId)
      infos.set(r.deviceId, info)
    }
    if (!batch.opens.has(r.deviceId)) {
      // One read for the devices of the rest of the batch (until a commit in between).
      const ids = new Set<string>()
      for (let j = i; j < entries.length; j++) {
        const id = (entries[j] as JournalEntry).reading.deviceId
        if (!batch.opens.has(id)) ids.add(id)
      }
      for (const [id, list] of await this.store.unresolvedActions([...ids])) batch.opens.set(id, list)
    }
    // When the service learned of this reading: its receipt, or in event time the newest instant
    // the service had seen when it came (a reading replayed from a gateway's buffer is old news).
    // A replay of stored readings (a backtest) carries the receipts they had.
    const learnedAt = Math.max(r.ts, receivedAt ?? r.ts, this.eventTime?.clock.now() ?? r.ts)
    this.eventTime?.clock.advanceTo(r.ts)
    const after = step(before, r)
    batch.installed(r, after, info.model ?? null)
    try {
      const open = batch.openFor(r.deviceId)
      batch.asked(
        r.deviceId,
        await this.rules().evaluate(READING_SUBJECTS, after, info, r.ts, open, learnedAt),
      )
    } catch (err) {
      // One device's trouble (a broken calendar, say) must not hold back the fleet behind it.
      this.log.error(
        { err, deviceId: r.deviceId, ts: r.ts },
        'the rules could not run on a reading; its state is kept',
      )
    }
    batch.touched.set(r.deviceId, after)
  }

  private async sweepNow(): Promise<void> {
    // Readings already stored must count before anyone is called silent.
    await this.drainJournal()
    await this.runSweep(this.clock.now())
    this.sweeps++
  }

  private async runSweep(now: number): Promise<void> {
    await this.sweeper.run(now)
  }

  private async commit(
    states: ReadonlyMap<string, DeviceState>,
    candidates: ActionCandidate[],
    position: number | undefined,
    /** Unresolved actions already read for this batch, by device. */
    known: ReadonlyMap<string, LedgerEntry[]> = new Map(),
    installs: CartridgeInstall[] = [],
    /**
     * The episode each subject of a site is in now, for the sites whose actions may end (a gateway
     * back online); sites with candidates are planned too.
     */
    siteEpisodes: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map(),
  ): Promise<void> {
    const { create, resolve, resolveAtOnce, join } = await planCommit({
      store: this.store,
      states,
      candidates,
      known,
      siteEpisodes,
      committed: (deviceId) => this.states.get(deviceId),
      siteStates: (siteId) => this.statesOfSite(siteId),
      info: async (deviceId, siteId) => this.describe(await this.birthOf(deviceId), deviceId, siteId),
      now: this.clock.now(),
    })
    const messages = await this.store.commit({
      states: [...states.values()],
      ledger: { create, resolve, resolveAtOnce, join },
      at: this.clock.now(),
      // In event time an action is stamped with the simulated instant that caused it, so that a
      // simulation run twice gets the same times however its readings were batched.
      createdAtDecision: this.eventTime !== undefined,
      ...(position === undefined ? {} : { position }),
      ...(installs.length === 0 ? {} : { installs }),
    })
    // Only after the commit: memory never runs ahead of what is stored.
    for (const [deviceId, s] of states) this.states.set(deviceId, s)
    if (position !== undefined) this.position = position
    if (messages > 0) this.onActions()
  }
}
