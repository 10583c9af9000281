/**
 * The Grafana dashboards: valid dashboard JSON wired to the provisioned datasource, and every
 * query they hold (panels, variables, annotations) run against a real influxd that the real
 * service filled with simulated readings, returning data.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConfig } from '../../src/config/config.ts'
import { type Service, startService } from '../../src/main.ts'
import { InfluxStore } from '../../src/store/influx/influx-store.ts'
import { connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import { startInProcess } from '../helpers/in-process.ts'
import { hasInfluxd, type Influxd, influxSkipReason, startInfluxd } from '../helpers/influxd.ts'
import { getJson, ROOT, tempDir, waitFor } from '../helpers/service-process.ts'

const DIR = join(ROOT, 'dashboards')
const UID = /uid:\s*(\S+)/.exec(
  readFileSync(join(DIR, 'provisioning/datasources/printwarden.yaml'), 'utf8'),
)?.[1]

interface Target {
  refId: string
  rawQuery: boolean
  query: string
  datasource: { type: string; uid: string }
}
interface Panel {
  id: number
  title: string
  type: string
  gridPos: { x: number; y: number; w: number; h: number }
  datasource: { uid: string }
  targets: Target[]
}
interface Dashboard {
  uid: string
  title: string
  schemaVersion: number
  panels: Panel[]
  templating: { list: { name: string; query: string; datasource: { uid: string } }[] }
  annotations: { list: { name: string; query: string; datasource: { uid: string } }[] }
}

const dashboards = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Dashboard }))

describe('the dashboard files', () => {
  it('are the three dashboards: fleet overview, device detail, print volume', () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual([
      'printwarden-device',
      'printwarden-fleet',
      'printwarden-volume',
    ])
  })

  it.each(dashboards)(
    '$file is Grafana dashboard JSON whose every query uses the provisioned datasource',
    ({ json }) => {
      expect(UID).toBe('printwarden-influx')
      expect(json.schemaVersion).toBeGreaterThanOrEqual(36)
      expect(json.title.length).toBeGreaterThan(0)
      expect(json.panels.length).toBeGreaterThanOrEqual(3)
      expect(new Set(json.panels.map((p) => p.id)).size).toBe(json.panels.length)
      for (const p of json.panels) {
        expect(p.gridPos.w).toBeGreaterThan(0)
        expect(p.datasource.uid).toBe(UID)
        expect(p.targets.length).toBeGreaterThan(0)
        for (const t of p.targets) {
          expect(t).toMatchObject({ rawQuery: true, datasource: { type: 'influxdb', uid: UID } })
          expect(t.query).toMatch(/^SELECT /)
        }
      }
      for (const v of [...json.templating.list, ...json.annotations.list]) expect(v.datasource.uid).toBe(UID)
    },
  )
})

describe.skipIf(!hasInfluxd)(`the dashboard queries on simulated readings ${influxSkipReason}`, () => {
  const data = tempDir()
  let influxd: Influxd
  let service: Service
  let influx: InfluxStore
  const start = Math.floor((Date.now() - 45 * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR
  const DAYS = 40
  const devices = [
    { site: 'milano-hq', device: 'DASH-0' },
    { site: 'milano-hq', device: 'DASH-1' },
    { site: 'torino', device: 'DASH-2' },
  ]
  // DASH-1's counter is reset by a board swap on day 20 (it falls by 15,000 pages).
  const counter = (d: number, h: number) => 10_000 * (d + 1) + 40 * h - (d === 1 && h >= 20 * 24 ? 15_000 : 0)

  beforeAll(async () => {
    influxd = await startInfluxd()
    const config = buildConfig({
      flags: {
        dataDir: data.path,
        mqttPort: '0',
        wsPort: '0',
        httpPort: '0',
        rulesDir: join(ROOT, 'rules'),
        store: 'influx',
        influxUrl: `${influxd.url}/printwarden`,
        sweepIntervalMs: '1s',
      },
    })
    service = await startService(config, { log: pino({ level: 'silent' }) })
    influx = new InfluxStore({ url: influxd.url, database: 'printwarden' })
    const client = await connect(`mqtt://127.0.0.1:${service.mqttPort}`)
    const messages = []
    for (const [d, { site, device }] of devices.entries()) {
      messages.push({
        topic: `fleet/v1/${site}/${device}/birth`,
        payload: JSON.stringify({ vendor: 'Kyocera', model: 'TASKalfa 2554ci' }),
      })
      for (let day = 0; day < DAYS; day++) {
        if (d === 1 && day === 10) continue // a day with no reading at all
        const readings = Array.from({ length: 24 }, (_, hh) => {
          const h = day * 24 + hh
          return {
            ts: iso(start + h * HOUR),
            seq: h,
            // The last device ends its days low on black toner, and with a critical error.
            toner: {
              black: d === 2 && day === DAYS - 1 ? 12 : 100 - ((h * (d + 1)) % 300) / 3,
              cyan: 90,
              magenta: 80,
              yellow: 70,
            },
            wasteBox: Math.floor(h / 10) % 100,
            counters: { total: counter(d, h), mono: counter(d, h) - 100 },
            status: 'ready',
            errors:
              (d === 0 && h >= 100 && h < 110) || (d === 2 && day === DAYS - 1)
                ? [{ code: 'C-2557', severity: 'critical' }]
                : [],
          }
        })
        messages.push(telemetry(site, device, readings))
      }
    }
    await publishAll(client, messages)
    await client.endAsync()
    await settled(`http://127.0.0.1:${service.httpPort}`)
    await waitFor(
      async () => {
        const { body } = await getJson<{ spool: { pending: number } }>(
          `http://127.0.0.1:${service.httpPort}/health`,
        )
        // Every device's days rolled up, not only the first batch's: the rollup of readings older
        // than the continuous queries' window comes in steps, up to 10 s apart.
        const daily = (await influx.query(
          'SELECT count("last_counter_total") AS "days" FROM "daily"."reading_1d" GROUP BY "device"',
        )) as unknown as { days: number }[]
        const fleet = await influx.query('SELECT count("devices") FROM "fleet"')
        const events = await influx.query('SELECT count("id") FROM "action_event"')
        const allDays = daily.length === devices.length && daily.every((d) => d.days >= DAYS - 1)
        return body.spool.pending === 0 && allDays && fleet.length > 0 && events.length > 0 ? true : undefined
      },
      40_000,
      'readings, rollups, fleet snapshots and action events in influxd',
    )
  })
  afterAll(async () => {
    await service?.stop()
    await influxd?.remove()
    data.remove()
  })

  const substitute = (q: string) =>
    q
      .replaceAll('$timeFilter', `time >= ${start - 24 * HOUR}ms AND time <= ${Date.now() + HOUR}ms`)
      .replaceAll('$__interval', '1h')
      .replaceAll('$device', 'DASH-0')
      .replaceAll('$site', 'milano-hq')

  const queries = dashboards.flatMap(({ file, json }) => [
    ...json.panels.flatMap((p) =>
      p.targets.map((t) => ({ where: `${file}: panel "${p.title}" ${t.refId}`, query: t.query })),
    ),
    ...json.templating.list.map((v) => ({ where: `${file}: variable $${v.name}`, query: v.query })),
    ...json.annotations.list.map((a) => ({ where: `${file}: annotation "${a.name}"`, query: a.query })),
  ])

  it.each(queries)('$where returns data', async ({ query }) => {
    const rows = await influx.query(substitute(query))
    expect(rows.length).toBeGreaterThan(0)
  })

  it('counts the pages of the time range from the counters, across a day with no reading and a counter reset', async () => {
    const panel = dashboards.find((d) => d.json.uid === 'printwarden-volume')?.json.panels[0]
    const rows = await influx.query(substitute(panel?.targets[0]?.query ?? ''))
    const pages = Object.fromEntries(rows.map((r) => [r.device, r.pages]))
    const last = DAYS * 24 - 1
    // DASH-1: every hour's 40 pages but the hour of the reset, which is not counted as negative.
    expect(pages).toEqual({ 'DASH-0': 40 * last, 'DASH-1': 40 * (last - 1) })
  })
})

describe("the service health dashboard (Prometheus, from the service's own GET /metrics)", () => {
  const file = join(DIR, 'service/printwarden-service.json')
  const json = JSON.parse(readFileSync(file, 'utf8')) as Omit<Dashboard, 'panels'> & {
    panels: (Omit<Panel, 'targets'> & {
      targets: { refId: string; expr: string; datasource: { uid: string } }[]
    })[]
  }
  const promUid = /uid:\s*(\S+)/.exec(
    readFileSync(join(DIR, 'provisioning/datasources/prometheus.yaml'), 'utf8'),
  )?.[1]
  let scraped: Set<string>
  beforeAll(async () => {
    const running = await startInProcess()
    const text = (await running.service.app.inject('/metrics')).body
    await running.stop()
    scraped = new Set(parsePrometheusTextFormat(text).map((f) => f.name))
  })

  it('is Grafana dashboard JSON whose every query uses the provisioned Prometheus', () => {
    expect(promUid).toBe('printwarden-prometheus')
    expect(json.uid).toBe('printwarden-service')
    expect(json.schemaVersion).toBeGreaterThanOrEqual(36)
    expect(new Set(json.panels.map((p) => p.id)).size).toBe(json.panels.length)
    for (const p of json.panels) {
      expect(p.datasource.uid).toBe(promUid)
      expect(p.targets.length).toBeGreaterThan(0)
      for (const t of p.targets) expect(t.datasource.uid).toBe(promUid)
    }
  })

  it('queries only metrics the service exposes', () => {
    const names = json.panels.flatMap((p) =>
      p.targets.flatMap((t) =>
        [...t.expr.matchAll(/\b((?:printwarden|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1] ?? ''),
      ),
    )
    // A histogram is one family; its queries name its _bucket series.
    const families = names.map((n) => n.replace(/_bucket$/, ''))
    expect(families.length).toBeGreaterThan(15)
    expect(families.filter((n) => !scraped.has(n))).toEqual([])
  })

  it('shows readings, rejections, latency, lag, actions, connections, spool, rules and the process', () => {
    const all = json.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n')
    for (const name of [
      'printwarden_readings_accepted_total',
      'printwarden_messages_rejected_total',
      'printwarden_readings_duplicate_total',
      'printwarden_puback_latency_seconds_bucket',
      'printwarden_processing_batch_seconds_bucket',
      'printwarden_processing_backlog_readings',
      'printwarden_actions_created_total',
      'printwarden_actions_unresolved',
      'printwarden_mqtt_connections',
      'printwarden_spool_readings',
      'printwarden_rule_reload_failures_total',
      'process_resident_memory_bytes',
    ])
      expect(all).toContain(name)
  })
})
