import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/api/app.ts'
import { ManualClock } from '../../src/clock.ts'
import { IngestStats } from '../../src/ingest/stats.ts'
import { InventoryBook } from '../../src/inventory/inventory.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/service-process.ts'

describe('GET /health', () => {
  const data = tempDir()
  const store = new SqliteStore(data.path)
  let problems: string[] = []
  let spool: { pending: number; max: number; influx: 'up' | 'down' } | undefined
  const app = buildApp({
    store,
    inventory: new InventoryBook(data.path),
    acceptReading: async () => null,
    timeseries: store,
    spool: () => spool,
    clock: new ManualClock(0),
    stats: new IngestStats(),
    rules: () => ({ rules: [], failures: [], runtimeErrors: [] }),
    progress: async () => ({ position: 0, backlog: 0, lateReadings: 0, sweeps: 0 }),
    problems: async () => problems,
    onActionChanged: () => {},
    log: pino({ level: 'silent' }),
  })
  beforeAll(() => store.start())
  afterAll(async () => {
    await app.close()
    await store.stop()
    data.remove()
  })

  it('answers 200 {"status":"ok"} and nothing more when everything runs', async () => {
    problems = []
    const res = await app.inject('/health')
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('{"status":"ok"}')
  })

  it('adds the spool of readings waiting for InfluxDB when there is one', async () => {
    problems = []
    spool = { pending: 12, max: 1000, influx: 'down' }
    const res = await app.inject('/health')
    expect(res.json()).toEqual({ status: 'ok', spool: { pending: 12, max: 1000, influx: 'down' } })
    spool = undefined
  })

  it('answers 503 naming what does not run', async () => {
    problems = ['the MQTT broker is not listening']
    const res = await app.inject('/health')
    expect(res.statusCode).toBe(503)
    expect(res.json()).toEqual({ status: 'unavailable', problems: ['the MQTT broker is not listening'] })
  })
})
