import type { IPoint } from 'influx'
import type { Logger } from 'pino'
import type { Clock } from '../../clock.ts'
import type { Birth } from '../../contract/schemas.ts'
import { Rerun } from '../../rerun.ts'
import type { Store } from '../store.ts'
import type { InfluxStore } from './influx-store.ts'
import { readingPoint } from './schema.ts'

const CURSOR = 'influx:readings'
const BATCH = 5000
const HOUR = 3_600_000

export interface SpoolStatus {
  /** Readings stored and acknowledged, not yet in InfluxDB. */
  pending: number
  max: number
  influx: 'up' | 'down'
}

/**
 * Copies the journal of readings into InfluxDB, in order, behind a cursor of its own. While
 * InfluxDB is down or slow the readings simply wait in the journal, which is on disk: that is the
 * spool. Nothing acknowledged is lost, and when InfluxDB answers again they are written in order.
 * The spool is bounded: past `spoolMax` readings, ingest stops acknowledging new ones (see
 * `full()`), so gateways keep them and send again later.
 */
export class InfluxForwarder {
  private prepared = false
  /** Points InfluxDB refused for good (4xx), passed over. */
  refusedPoints = 0
  private cursor = 0
  private end = 0
  private up = true
  private stopped = true
  private readonly drains = new Rerun(
    () => this.drain(),
    (err) => this.failed(err),
    () => !this.stopped && !this.retryTimer,
  )
  private retryTimer: NodeJS.Timeout | null = null
  private rollupTimer: NodeJS.Timeout | null = null
  private retryDelay = 250
  private lastSpoolLog = 0
  private rollupFrom = Number.POSITIVE_INFINITY
  private rollupTo = Number.NEGATIVE_INFINITY
  private lastRollup = 0
  /** Births read from the store, kept across drains; a new birth message drops its device's. */
  private readonly births = new Map<string, Birth>()

  constructor(
    private readonly store: Store,
    private readonly influx: InfluxStore,
    private readonly wall: Clock,
    private readonly log: Logger,
    private readonly spoolMax: number,
    /** How far every other follower of the journal got: bodies before it can be dropped. */
    private readonly processedUpTo: () => number,
  ) {}

  async start(): Promise<void> {
    this.cursor = await this.store.cursor(CURSOR)
    this.end = await this.store.journalEnd()
    this.stopped = false
    this.poke()
  }

  status(): SpoolStatus {
    return {
      pending: Math.max(0, this.end - this.cursor),
      max: this.spoolMax,
      influx: this.up ? 'up' : 'down',
    }
  }

  /** Why ingest must not take more readings now, or null. */
  full(): string | null {
    const { pending } = this.status()
    return pending >= this.spoolMax
      ? `the InfluxDB spool is full (${pending} readings wait; the limit is ${this.spoolMax})`
      : null
  }

  /** These devices sent a new birth message: their tags are read again when next needed. */
  forgetBirths(deviceIds: readonly string[]): void {
    for (const id of deviceIds) this.births.delete(id)
  }

  /** New readings were stored up to this journal position. */
  poke(end?: number): void {
    if (end !== undefined && end > this.end) this.end = end
    this.drains.request()
  }

  private async drain(): Promise<void> {
    if (!this.prepared) {
      await this.influx.prepare()
      this.prepared = true
    }
    const births = this.births
    for (;;) {
      if (this.stopped) return
      const entries = await this.store.journalAfter(this.cursor, BATCH)
      if (entries.length === 0) break
      const points = []
      for (const { reading } of entries) {
        let birth = births.get(reading.deviceId)
        if (birth === undefined) {
          birth = await this.store.birth(reading.deviceId)
          births.set(reading.deviceId, birth)
        }
        points.push(readingPoint(reading, birth))
        this.noteForRollup(reading.ts)
      }
      await this.writeSkippingRefused(points)
      const last = entries[entries.length - 1]?.position ?? this.cursor
      await this.store.setCursor(CURSOR, last)
      this.cursor = last
      if (last > this.end) this.end = last
      if (!this.up)
        this.log.info({ spool: this.status() }, 'InfluxDB answers again; the spool is being written')
      this.up = true
      this.retryDelay = 250
      await this.store.compactJournal(Math.min(this.cursor, this.processedUpTo()))
    }
    await this.rollupIfDue()
  }

  /**
   * Writes the points. InfluxDB refusing points (a 4xx: older than the retention policy, a field of
   * another type) is final for those points, not for the ones around them: the batch is halved until
   * the refused points stand alone, and those are counted, logged and passed over (the readings stay
   * in the journal). A partial write keeps the points InfluxDB took. Anything else (InfluxDB down,
   * slow, a 5xx) throws, and the whole batch is tried again later.
   */
  private async writeSkippingRefused(points: IPoint[]): Promise<void> {
    try {
      await this.influx.write(points)
    } catch (err) {
      const status = (err as { res?: { statusCode?: number } }).res?.statusCode
      if (status === undefined || status < 400 || status >= 500) throw err
      const message = (err as Error).message
      if (/partial write/.test(message)) {
        this.refusedPoints++
        this.log.warn({ err: message }, 'InfluxDB dropped some points of a batch; the others are written')
        return
      }
      if (points.length === 1) {
        this.refusedPoints++
        this.log.warn(
          { err: message, point: points[0] },
          'InfluxDB refused a reading; it stays in the journal only',
        )
        return
      }
      const half = Math.ceil(points.length / 2)
      await this.writeSkippingRefused(points.slice(0, half))
      await this.writeSkippingRefused(points.slice(half))
    }
  }

  /** Readings outside the continuous queries' window need an explicit rollup. */
  private noteForRollup(ts: number): void {
    const now = this.wall.now()
    if (ts >= now - HOUR && ts <= now) return
    if (ts < this.rollupFrom) this.rollupFrom = ts
    if (ts > this.rollupTo) this.rollupTo = ts
  }

  private async rollupIfDue(force = false): Promise<void> {
    if (this.rollupFrom > this.rollupTo) return
    if (!force && this.wall.now() - this.lastRollup < 10_000) {
      this.rollupTimer ??= setTimeout(() => {
        this.rollupTimer = null
        this.poke()
      }, 10_000)
      return
    }
    const from = this.rollupFrom
    const to = this.rollupTo
    this.rollupFrom = Number.POSITIVE_INFINITY
    this.rollupTo = Number.NEGATIVE_INFINITY
    this.lastRollup = this.wall.now()
    await this.influx.rollup(from, to)
  }

  private failed(err: unknown): void {
    this.up = false
    const now = this.wall.now()
    if (now - this.lastSpoolLog > 10_000) {
      this.lastSpoolLog = now
      this.log.warn(
        { err: (err as Error).message, spool: this.status() },
        'cannot write to InfluxDB; readings wait in the spool',
      )
    }
    if (this.stopped || this.retryTimer) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.poke()
    }, this.retryDelay)
    this.retryDelay = Math.min(this.retryDelay * 2, 5000)
  }

  /** Rolls up what is pending, for tests and for a clean stop. */
  async flush(): Promise<void> {
    await this.drains.settled()
    await this.drain()
    await this.rollupIfDue(true)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    if (this.rollupTimer) clearTimeout(this.rollupTimer)
    this.retryTimer = null
    this.rollupTimer = null
    await this.drains.settled()
  }
}
