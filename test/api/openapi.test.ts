import { Validator } from '@seriousme/openapi-schema-validator'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/api/app.ts'
import { ManualClock } from '../../src/clock.ts'
import { IngestStats } from '../../src/ingest/stats.ts'
import { InventoryBook } from '../../src/inventory/inventory.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/service-process.ts'

interface OpenApiDoc {
  openapi: string
  paths: Record<string, Record<string, { security?: unknown[]; responses?: Record<string, unknown> }>>
  components: { securitySchemes: Record<string, unknown> }
}

describe('the OpenAPI document', () => {
  const data = tempDir()
  const store = new SqliteStore(data.path)
  const app = buildApp({
    store,
    inventory: new InventoryBook(data.path),
    acceptReading: async () => null,
    timeseries: store,
    spool: () => undefined,
    clock: new ManualClock(0),
    stats: new IngestStats(),
    rules: () => ({ rules: [], failures: [], runtimeErrors: [] }),
    progress: async () => ({ position: 0, backlog: 0, lateReadings: 0, sweeps: 0 }),
    problems: async () => [],
    onActionChanged: () => {},
    log: pino({ level: 'silent' }),
  })
  // Every route as Fastify registers it, to compare with what the document describes.
  const routes: { method: string; url: string }[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url })
  })
  let doc: OpenApiDoc
  beforeAll(async () => {
    await store.start()
    await app.ready()
    doc = (await app.inject('/openapi.json')).json()
  })
  afterAll(async () => {
    await app.close()
    await store.stop()
    data.remove()
  })

  it('is a valid OpenAPI 3 document', async () => {
    const validator = new Validator()
    const result = await validator.validate(doc as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(doc.openapi).toMatch(/^3\./)
  })

  it('describes every route the API registers', () => {
    // HEAD routes are Fastify's automatic twins of GETs; /docs and its files are the browsing
    // page itself, and /console/* the console's files, not part of the API they describe.
    const api = routes.filter(
      (r) =>
        r.method !== 'HEAD' &&
        r.url !== '/docs' &&
        !r.url.startsWith('/docs/') &&
        !r.url.startsWith('/console/'),
    )
    expect(api.length).toBeGreaterThan(15)
    const described = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
      ),
    )
    const missing = api.map((r) => `${r.method} ${r.url}`).filter((r) => !described.has(r))
    expect(missing).toEqual([])
  })

  it('declares the bearer token on every route but the public ones', () => {
    expect(doc.components.securitySchemes.bearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    )
    expect(doc.paths['/health']?.get?.security).toEqual([])
    expect(doc.paths['/actions']?.get?.security).toEqual([{ bearer: [] }, {}])
  })

  it('gives each route the responses of its schema', () => {
    expect(Object.keys(doc.paths['/health']?.get?.responses ?? {}).sort()).toEqual(['200', '503'])
  })

  it('serves a page to browse it at /docs', async () => {
    const res = await app.inject('/docs/')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.body).toContain('swagger-ui')
  })
})
