/**
 * One suite, both stores: readings go in through the store's ingest (which drops duplicates) and
 * come back from the time series the API reads, the embedded SQLite one or a real influxd.
 */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wallClock } from '../../src/clock.ts'
import type { Reading } from '../../src/domain/reading.ts'
import { InfluxForwarder } from '../../src/store/influx/forwarder.ts'
import { InfluxStore } from '../../src/store/influx/influx-store.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { TimeSeries } from '../../src/store/timeseries.ts'
import { hasInfluxd, type Influxd, startInfluxd } from '../helpers/influxd.ts'
import { tempDir } from '../helpers/service-process.ts'

const log = pino({ level: 'silent' })
const T0 = Date.UTC(2026, 9, 5, 8)
const MIN = 60_000
const ALL = { from: 0, to: Number.MAX_SAFE_INTEGER, limit: Number.MAX_SAFE_INTEGER }

interface Backend {
  store: SqliteStore
  series: TimeSeries
  /** Everything ingested is in the time series. */
  settle: () => Promise<void>
  stop: () => Promise<void>
}

let influxd: Influxd | undefined
let databases = 0

const backends: { name: string; skip: boolean; make: () => Promise<Backend> }[] = [
  {
    name: 'SQLite',
    skip: false,
    make: async () => {
      const dir = tempDir()
      const store = new SqliteStore(dir.path)
      await store.start()
      return {
        store,
        series: store,
        settle: async () => {},
        stop: async () => {
          await store.stop()
          dir.remove()
        },
      }
    },
  },
  {
    name: 'InfluxDB',
    skip: !hasInfluxd,
    make: async () => {
      const dir = tempDir()
      const store = new SqliteStore(dir.path)
      await store.start()
      const influx = new InfluxStore({ url: influxd?.url ?? '', database: `suite${++databases}` })
      const forwarder = new InfluxForwarder(
        store,
        influx,
        wallClock,
        log,
        1_000_000,
        () => Number.MAX_SAFE_INTEGER,
      )
      await forwarder.start()
      return {
        store,
        series: influx,
        settle: async () => {
          forwarder.poke(await store.journalEnd())
          await forwarder.flush()
        },
        stop: async () => {
          await forwarder.stop()
          await store.stop()
          dir.remove()
        },
      }
    },
  },
]

beforeAll(async () => {
  if (hasInfluxd) influxd = await startInfluxd()
})
afterAll(async () => {
  await influxd?.remove()
})

const r = (minutes: number, fields: Partial<Reading> = {}, deviceId = 'TS-1'): Reading => ({
  deviceId,
  siteId: 'site-1',
  ts: T0 + minutes * MIN,
  ...fields,
})

// A backend that cannot run here (no influxd) is left out, rather than given an empty test that
// passes; under CI test/helpers/influxd.ts fails the run when influxd is missing.
const runnable = backends.filter((b) => !b.skip)
describe.each(runnable.map((b) => ({ ...b, title: b.name })))('the $title time series', ({ make }) => {
  let b: Backend
  beforeAll(async () => {
    b = await make()
  })
  afterAll(async () => {
    await b?.stop()
  })

  it('gives back every field of a reading as it was stored', async () => {
    const full = r(0, {
      seq: 1,
      toner: { black: 64.5, cyan: 41, lightCyan: 12 },
      wasteBox: 'nearFull',
      counters: { total: 182340, mono: 150112, color: 32228 },
      status: 'warning',
      errors: [
        { code: 'C-2557', severity: 'critical', text: 'Fuser error' },
        { code: 'J-1', severity: 'warning' },
      ],
    })
    const fill = r(1, { seq: 2, wasteBox: 37, errors: [] })
    const heartbeat = r(2, { seq: 3 })
    await b.store.ingest([full, fill, heartbeat], [], T0)
    await b.settle()
    expect(await b.series.readings('TS-1', ALL)).toEqual([full, fill, heartbeat])
  })

  it('stores late and out-of-order readings each at its own time', async () => {
    const late = [
      r(50, { toner: { black: 10 } }, 'TS-2'),
      r(10, { toner: { black: 90 } }, 'TS-2'),
      r(30, { toner: { black: 50 } }, 'TS-2'),
    ]
    await b.store.ingest(late.slice(0, 1), [], T0)
    await b.store.ingest(late.slice(1), [], T0)
    await b.settle()
    expect((await b.series.readings('TS-2', ALL)).map((x) => [x.ts, x.toner?.black])).toEqual([
      [T0 + 10 * MIN, 90],
      [T0 + 30 * MIN, 50],
      [T0 + 50 * MIN, 10],
    ])
  })

  it('keeps the first of two readings with the same seq, or the same ts, and counts the others as duplicates', async () => {
    const first = r(0, { seq: 5, toner: { black: 70 } }, 'TS-3')
    const result = await b.store.ingest(
      [first, r(1, { seq: 5, toner: { black: 1 } }, 'TS-3'), r(0, { seq: 6, toner: { black: 2 } }, 'TS-3')],
      [],
      T0,
    )
    await b.store.ingest([first], [], T0)
    expect(result.duplicates).toBe(2)
    await b.settle()
    expect(await b.series.readings('TS-3', ALL)).toEqual([first])
  })

  it('answers a time range, both ends included, oldest first, up to a limit', async () => {
    const rs = Array.from({ length: 10 }, (_, i) => r(i, { counters: { total: i * 100 } }, 'TS-4'))
    await b.store.ingest(rs, [], T0)
    await b.settle()
    const range = { from: T0 + 2 * MIN, to: T0 + 5 * MIN, limit: Number.MAX_SAFE_INTEGER }
    expect((await b.series.readings('TS-4', range)).map((x) => x.counters?.total)).toEqual([
      200, 300, 400, 500,
    ])
    expect(await b.series.readings('TS-4', { ...ALL, limit: 3 })).toHaveLength(3)
    expect(await b.series.readings('NOT-THERE', ALL)).toEqual([])
  })
})
