import type { Logger } from 'pino'
import type { Action } from '../contract/schemas.ts'
import type { Store } from '../store/store.ts'

/** Where action messages go. A sink that throws is retried later; it never stops the others or ingest. */
export interface ActionSink {
  name: string
  send(action: Action): Promise<void>
}

const RETRY_MS = 1000

/**
 * Sends what the ledger wrote to its outbox, in order, then deletes it. Messages left by a crash are
 * sent at the next start: delivery is at least once, and each message carries the action's id,
 * status and updatedAt, so a receiver can tell a repeat.
 *
 * With one sink (MQTT) a failure simply waits. Sinks that can fail independently (webhooks) need a
 * cursor each, so that one slow receiver never holds back the others.
 */
export class OutboxRelay {
  private running: Promise<void> | null = null
  private again = false
  private stopped = true
  private retry: NodeJS.Timeout | null = null

  constructor(
    private readonly store: Store,
    private readonly sinks: readonly ActionSink[],
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false
    this.poke()
  }

  poke(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.drain()
      .catch((err: unknown) =>
        this.log.error({ err }, 'could not read the outbox; retrying with the next change'),
      )
      .finally(() => {
        this.running = null
        if (this.again) {
          this.again = false
          this.poke()
        }
      })
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = await this.store.outbox(500)
      if (batch.length === 0) return
      for (const { id, action } of batch) {
        try {
          for (const sink of this.sinks) await sink.send(action)
        } catch (err) {
          this.log.warn({ err, action: action.id }, 'an action sink failed; retrying in a second')
          this.retry ??= setTimeout(() => {
            this.retry = null
            this.poke()
          }, RETRY_MS)
          return
        }
        // Deleted as soon as it is sent: a crash repeats at most the message in flight.
        await this.store.outboxSent([id])
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.retry) clearTimeout(this.retry)
    await this.running
  }
}
