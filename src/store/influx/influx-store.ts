import { InfluxDB, type IPoint, escape as influxEscape } from 'influx'
import { ExponentialBackoff } from 'influx/lib/src/backoff/exponential.js'
import pTimeout from 'p-timeout'
import type { Action } from '../../contract/schemas.ts'
import type { Reading } from '../../domain/reading.ts'
import type { ReadingRange } from '../store.ts'
import type { TimeSeries } from '../timeseries.ts'
import { actionPoint, MEASUREMENTS, RETENTION, ROLLUPS, rollupSelect, rowToReading } from './schema.ts'

export interface InfluxTarget {
  url: string
  database: string
  /** How long one request may take, in ms (10 s by default). */
  requestTimeout?: number
}

/**
 * InfluxDB 1.x (InfluxQL and line protocol over HTTP) as the time series: readings for the API and
 * Grafana, action events for annotations, fleet snapshots, retention policies and rollups.
 */
export class InfluxStore implements TimeSeries {
  private readonly influx: InfluxDB
  readonly database: string
  private readonly deadline: number

  constructor(target: InfluxTarget) {
    const url = new URL(target.url)
    this.database = target.database
    const requestTimeout = target.requestTimeout ?? 10_000
    // Half again the client's own timeout, which goes first where it applies.
    this.deadline = requestTimeout * 1.5
    this.influx = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: target.database,
      ...(url.username
        ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
        : {}),
      // The client retries nothing and waits little before it tries a failed host again: the
      // forwarder owns retries, and its spool keeps the readings meanwhile.
      pool: {
        maxRetries: 0,
        requestTimeout,
        backoff: new ExponentialBackoff({ initial: 100, max: 1000, random: 0.2 }),
      },
    })
  }

  /** Creates the database, its retention policies and continuous queries where missing. */
  async prepare(): Promise<void> {
    const db = this.database
    await this.call(() => this.influx.createDatabase(db))
    const existing = new Set(
      (await this.call(() => this.influx.showRetentionPolicies(db))).map((p) => p.name),
    )
    for (const rp of RETENTION) {
      const options = { database: db, duration: rp.duration, replication: 1, isDefault: rp.isDefault }
      if (existing.has(rp.name)) await this.call(() => this.influx.alterRetentionPolicy(rp.name, options))
      else await this.call(() => this.influx.createRetentionPolicy(rp.name, options))
    }
    const cqs = new Set((await this.call(() => this.influx.showContinousQueries(db))).map((q) => q.name))
    for (const r of ROLLUPS) {
      if (!cqs.has(r.cq)) {
        await this.call(() =>
          this.influx.createContinuousQuery(
            r.cq,
            rollupSelect(r),
            db,
            `RESAMPLE EVERY ${r.every} FOR ${r.resampleFor}`,
          ),
        )
      }
    }
  }

  async ping(): Promise<boolean> {
    const [host] = await this.influx.ping(2000)
    return host?.online === true
  }

  async write(points: IPoint[]): Promise<void> {
    await this.call(() => this.influx.writePoints(points, { database: this.database, precision: 'ms' }))
  }

  async writeAction(action: Action): Promise<void> {
    await this.write([actionPoint(action)])
  }

  /**
   * Rolls up raw readings between two instants into the hourly and daily measurements. The
   * continuous queries do this for the last hours as time passes; this is for readings that land
   * outside their window (a gateway replaying old readings, a simulation in event time).
   */
  async rollup(from: number, to: number): Promise<void> {
    const day = 86_400_000
    const start = Math.floor(from / day) * day
    const end = (Math.floor(to / day) + 1) * day
    for (const r of ROLLUPS) {
      await this.call(() =>
        this.influx.query(rollupSelect(r, `WHERE time >= ${start}ms AND time < ${end}ms`), {
          database: this.database,
        }),
      )
    }
  }

  async readings(deviceId: string, range: ReadingRange): Promise<Reading[]> {
    const limit =
      Number.isFinite(range.limit) && range.limit < Number.MAX_SAFE_INTEGER ? ` LIMIT ${range.limit}` : ''
    const rows = await this.call(() =>
      this.influx.query(
        `SELECT * FROM "raw"."${MEASUREMENTS.reading}" WHERE "device" = ${influxEscape.stringLit(deviceId)}
       AND time >= ${Math.max(0, range.from)}ms AND time <= ${Math.min(range.to, 8.64e15)}ms ORDER BY time ASC${limit}`,
        { database: this.database, precision: 'ms' },
      ),
    )
    return (rows as unknown as (Record<string, unknown> & { time: Date })[]).map(rowToReading)
  }

  async query(q: string): Promise<Record<string, unknown>[]> {
    return (await this.call(() => this.influx.query(q, { database: this.database }))) as unknown as Record<
      string,
      unknown
    >[]
  }

  /**
   * Every request gets a deadline of its own. The client's request timeout covers a silent socket,
   * but not a connection that drops once the response has begun: the client then waits for the end
   * of a body that never comes (seen when influxd is killed during a request). Such a call fails
   * here instead, so the forwarder retries and the API answers. The request itself is left to
   * die with its socket; what it would have done is safe to do twice (points overwrite points at
   * the same time and tags, and a rollup writes the same rows again).
   */
  private call<T>(request: () => Promise<T>): Promise<T> {
    return pTimeout(request(), {
      milliseconds: this.deadline,
      message: `InfluxDB did not finish answering within ${this.deadline / 1000} s`,
    })
  }
}
