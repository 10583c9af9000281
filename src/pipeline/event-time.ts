/**
 * Sweeps in event time: a sweep instant comes every `sweepIntervalMs` of the readings' time, and
 * the processor asks here, at each reading past the next instant, for the sweeps up to it. Only the
 * instants at which a deadline falls due run; the others are passed over, and counted.
 */
import type { Logger } from 'pino'
import type { EventClock } from '../clock.ts'
import type { DeviceState } from '../domain/device-state.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import type { Sweeps } from './sweeps.ts'

/** Sweeps in one jump of event time past which the log says it will take a while. */
const MANY_SWEEPS = 10_000

export interface EventTimeOptions {
  clock: EventClock
  sweepIntervalMs: number
  sweeper: Sweeps
  log: Logger
  /** How many devices have a state: before the first, there is nothing to sweep. */
  devices: () => number
  /** Runs one sweep instant. */
  sweep: (at: number) => Promise<void>
  /** Sweep instants passed, run or not. */
  counted: (instants: number) => void
}

export class EventTimeSweeps {
  private next = 0

  constructor(private readonly o: EventTimeOptions) {}

  /** From the clock as the states read at start left it. */
  start(): void {
    this.next = this.o.clock.now() + this.o.sweepIntervalMs
  }

  /** Whether a reading at `ts` passes a sweep instant. */
  passes(ts: number): boolean {
    return ts >= this.next
  }

  /**
   * At a reading at `ts`: when no sweep instant up to it can decide anything, seeing the batch so
   * far, they are passed over (and counted) without the batch being committed first.
   */
  async passQuiet(
    ts: number,
    batch: {
      states: ReadonlyMap<string, DeviceState>
      candidates: readonly ActionCandidate[]
      installs: number
    },
  ): Promise<boolean> {
    if (this.o.devices() === 0) return false
    const every = this.o.sweepIntervalMs
    if (!(await this.o.sweeper.quietUntil(this.next, every, ts, batch))) return false
    this.passTo(ts)
    return true
  }

  /** A sweep at each sweep instant (a multiple of the interval) up to `ts` at which one is due. */
  async sweepUntil(ts: number): Promise<void> {
    const every = this.o.sweepIntervalMs
    const last = Math.floor(ts / every) * every
    if (this.o.devices() === 0) {
      // Nothing to sweep before the first device: time starts with the first reading.
      this.next = last + every
      return
    }
    const instants = Math.floor((last - this.next) / every) + 1
    if (instants > MANY_SWEEPS) this.tellOfJump(last, instants)
    // Only the instants at which a deadline falls due run: the others would decide nothing new.
    for (let at = this.o.sweeper.nextDue(this.next, every); at <= last; ) {
      await this.o.sweep(at)
      at = this.o.sweeper.nextDue(at + every, every)
    }
    this.passTo(ts)
  }

  private passTo(ts: number): void {
    const every = this.o.sweepIntervalMs
    const last = Math.floor(ts / every) * every
    this.o.counted(Math.floor((last - this.next) / every) + 1)
    this.next = last + every
  }

  /**
   * Every sweep instant counts, so that a run is the same however its readings are batched. With
   * deadlines only the instants at which one falls due run; a subject whose rules' thresholds cannot
   * be read keeps a scan at every instant, and a jump of months costs that many scans.
   */
  private tellOfJump(last: number, instants: number): void {
    const scanned = this.o.sweeper.scanned
    // Slow only when a scan runs at each instant: otherwise it is news, not a warning.
    this.o.log[scanned.length > 0 ? 'warn' : 'info'](
      {
        scanned,
        from: new Date(this.next).toISOString(),
        to: new Date(last).toISOString(),
        sweeps: instants,
        sweepIntervalMs: this.o.sweepIntervalMs,
      },
      scanned.length > 0
        ? `event time jumps over many sweep instants, and each runs a scan of ${scanned.join(', ')} (a rule's threshold is not a number): a longer --sweep-interval (1h) goes faster`
        : 'event time jumps over many sweep instants; only those at which a deadline falls due run',
    )
  }
}
