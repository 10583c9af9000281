import type { Logger } from 'pino'
import { type Clock, wallClock } from '../clock.ts'
import type { Action } from '../contract/schemas.ts'
import { Rerun } from '../rerun.ts'
import type { Store } from '../store/store.ts'

/** Where action messages go. A sink that throws is retried later; it never holds back the others, nor ingest. */
export interface ActionSink {
  name: string
  /** `position` is the message's place in the outbox: a sink that keeps state can tell a replay by it. */
  send(action: Action, position: number): Promise<void>
  /** This sink's own backoff, instead of the relay's. */
  retry?: RetryPolicy
  /**
   * The sink keeps the order of the sends it is given without waiting for each (the broker
   * delivers in the order it is asked): the relay starts a batch's sends at once and waits for
   * them together, instead of one round trip through the event loop per message.
   */
  pipelined?: boolean
}

/**
 * How long a sink that failed waits before it is tried again: `initialMs` after the first failure,
 * doubling with each failure in a row, never more than `maxMs`; a send that succeeds starts over.
 */
export interface RetryPolicy {
  initialMs: number
  maxMs: number
}

/**
 * One second, as before, so a blip costs a second; then backing off to half a minute, so a
 * receiver that is down for hours (an ERP in maintenance) gets two requests a minute rather than
 * sixty, and is caught up at most half a minute after it is back.
 */
export const DEFAULT_RETRY: RetryPolicy = { initialMs: 1000, maxMs: 30_000 }

/** The wait after the `failures`-th failure in a row (1 for the first). */
export function retryDelay(failures: number, policy: RetryPolicy): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, failures - 1))
}

const BATCH = 500
/** Sends of a pipelined sink under way at once. */
const PIPELINE = 32

/** Where one sink stands, for `GET /health`, `GET /metrics` and the log. */
export interface SinkStatus {
  name: string
  /** Outbox messages after its cursor: changes it has not sent yet. */
  pending: number
  /** Failures in a row now; 0 while it works. */
  failures: number
  /** Failures since the service started. */
  failuresTotal: number
  /** With failures: when the first of them in a row came (epoch ms), and what the last one said. */
  failingSince?: number
  lastError?: string
}

/**
 * Sends what the ledger wrote to its outbox, in order, to each sink. Each sink follows the outbox
 * with a cursor of its own, committed after every message, so that a sink that is down (InfluxDB,
 * say) waits alone while the others go on, and a crash repeats at most the message in flight.
 * Messages every sink has sent are deleted. Delivery is at least once (a crash repeats at most the
 * last batch); each message carries the
 * action's id, status and updatedAt, so a receiver can tell a repeat.
 */
export class OutboxRelay {
  private readonly runners: SinkRunner[]
  private stopped = true

  constructor(
    private readonly store: Store,
    sinks: readonly ActionSink[],
    private readonly log: Logger,
    retry: RetryPolicy = DEFAULT_RETRY,
    /** Wall time, for when a sink began failing. */
    clock: Clock = wallClock,
  ) {
    this.runners = sinks.map(
      (sink) => new SinkRunner(store, sink, log, sink.retry ?? retry, clock, () => this.prune()),
    )
  }

  /** Each sink's backlog and failures. */
  async status(): Promise<SinkStatus[]> {
    return Promise.all(this.runners.map((r) => r.status()))
  }

  async start(): Promise<void> {
    for (const r of this.runners) await r.load()
    this.stopped = false
    this.poke()
  }

  poke(): void {
    if (this.stopped) return
    for (const r of this.runners) r.poke()
  }

  private prune(): void {
    const upTo = Math.min(...this.runners.map((r) => r.position))
    this.store.pruneOutbox(upTo).catch((err: unknown) => this.log.warn({ err }, 'could not prune the outbox'))
  }

  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all(this.runners.map((r) => r.stop()))
  }
}

/** A send's outcome, never rejected: a pipelined batch's later sends are awaited only in turn. */
const settle = (p: Promise<void>): Promise<unknown> =>
  p.then(
    () => undefined,
    (err: unknown) => ({ failed: err }),
  )
const rethrow = (outcome: unknown): void => {
  if (outcome !== undefined) throw (outcome as { failed: unknown }).failed
}

class SinkRunner {
  position = 0
  private stopped = false
  private retry: NodeJS.Timeout | null = null
  private readonly drains = new Rerun(
    () => this.drain(),
    (err) => this.log.error({ err, sink: this.sink.name }, 'could not read the outbox'),
    // A sink waiting out its backoff is not tried early because new messages came: the retry
    // takes them too. Otherwise every new action would knock on a receiver that is down.
    () => !this.stopped && !this.retry,
  )
  /** Failures in a row, for the backoff. */
  private failures = 0
  private failuresTotal = 0
  private failingSince: number | null = null
  private lastError = ''
  private readonly cursorName: string

  constructor(
    private readonly store: Store,
    private readonly sink: ActionSink,
    private readonly log: Logger,
    private readonly policy: RetryPolicy,
    private readonly clock: Clock,
    private readonly onProgress: () => void,
  ) {
    this.cursorName = `sink:${sink.name}`
  }

  async status(): Promise<SinkStatus> {
    return {
      name: this.sink.name,
      pending: await this.store.outboxPending(this.position),
      failures: this.failures,
      failuresTotal: this.failuresTotal,
      ...(this.failingSince === null ? {} : { failingSince: this.failingSince, lastError: this.lastError }),
    }
  }

  async load(): Promise<void> {
    this.position = await this.store.cursor(this.cursorName)
  }

  poke(): void {
    this.drains.request()
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = await this.store.outboxAfter(this.position, BATCH)
      if (batch.length === 0) return
      // Pipelined, up to PIPELINE sends are under way while the first of them is awaited; each
      // is taken in order as before, so a failure still stops the cursor before it. Not more:
      // aedes queues publishes past its concurrency and drains that queue recursively (a batch
      // of 500 at once overflowed the stack).
      const window = this.sink.pipelined ? PIPELINE : 1
      const sends: Promise<unknown>[] = []
      try {
        for (const [i, { id, action }] of batch.entries()) {
          if (this.stopped) return
          while (sends.length < Math.min(batch.length, i + window)) {
            const next = batch[sends.length] as (typeof batch)[number]
            sends.push(settle(this.sink.send(next.action, next.id)))
          }
          try {
            rethrow(await sends[i])
          } catch (err) {
            this.failures++
            this.failuresTotal++
            this.failingSince ??= this.clock.now()
            this.lastError = err instanceof Error ? err.message : String(err)
            const retryInMs = retryDelay(this.failures, this.policy)
            this.log.warn(
              { err, sink: this.sink.name, action: action.id, failures: this.failures, retryInMs },
              'an action sink failed; it will be retried',
            )
            this.retry ??= setTimeout(() => {
              this.retry = null
              this.poke()
            }, retryInMs)
            return
          }
          if (this.failingSince !== null) {
            this.log.info(
              {
                sink: this.sink.name,
                failures: this.failures,
                failedForMs: this.clock.now() - this.failingSince,
              },
              'an action sink works again; the changes it missed follow in order',
            )
            this.failingSince = null
          }
          this.failures = 0
          this.position = id
        }
      } finally {
        // The cursor is written once a batch, not once a message: each write is an fsync, and a
        // burst of actions must not wait on one per message. A crash repeats at most one batch.
        await this.store.setCursor(this.cursorName, this.position)
      }
      this.onProgress()
    }
  }

  async stop(): Promise<void> {
    // Let the messages already written go out, then stop.
    if (!this.retry) {
      this.poke()
      await this.drains.settled()
    }
    this.stopped = true
    if (this.retry) clearTimeout(this.retry)
    await this.drains.settled()
  }
}
