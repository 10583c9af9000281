/**
 * What the gateway makes of special values and bad answers, read from Debian's snmpd and stored by
 * the real service (event time, fixed instants): an unknown level is never a number, a bad table
 * costs only itself, and a printer that does not answer is logged and read again later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PRT_ALERT_ENTRY, PRT_SUPPLIES_ENTRY } from '../../gateway/oids.ts'
import type { Printer } from '../../gateway/printers.ts'
import { settled } from '../helpers/fleet.ts'
import { startGateway, type TestGateway } from '../helpers/gateway.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
} from '../helpers/service-process.ts'
import { type Snmpd, startSnmpd } from '../helpers/snmpd.ts'
import { healthyMfp, SYSTEM, toner } from './faces.ts'

const SITE = 'roma'
const START = Date.parse('2026-02-02T08:00:00Z')
const HOUR = 3_600_000

interface Stored {
  ts: string
  seq?: number
  toner?: Record<string, number>
  wasteBox?: unknown
  errors?: { code: string; severity: string; text?: string }[]
  counters?: { total: number }
  status?: string
}

describe('special values and bad answers', () => {
  const data = tempDir('printwarden-gw-answers-')
  const buffer = tempDir('printwarden-gw-answers-buf-')
  let service: ServiceProcess
  let snmpd: Snmpd
  let g: TestGateway
  let printer: Printer
  let hour = 0

  beforeAll(async () => {
    service = await startServiceProcess({ dataDir: data.path, extra: ['--clock', 'event'] })
    snmpd = await startSnmpd(healthyMfp(), { system: SYSTEM })
    printer = { deviceId: 'RM-1', host: '127.0.0.1', port: snmpd.port }
    g = startGateway({
      broker: service.mqttUrl,
      site: SITE,
      printers: [printer],
      bufferDir: buffer.path,
      start: START,
    })
  }, 60_000)
  afterAll(async () => {
    await g?.gateway.stop()
    await snmpd?.stop()
    if (service) await kill9(service)
    data.remove()
    buffer.remove()
  })

  /** Serves the face, polls once an hour later than the last poll, and returns the stored reading. */
  async function pollWith(face: ReturnType<typeof healthyMfp>): Promise<Stored> {
    snmpd.set(face)
    hour++
    g.clock.set(START + hour * HOUR)
    await g.gateway.pollAll()
    await g.gateway.flush()
    await settled(service.http)
    const { body } = await getJson<{ items: Stored[] }>(
      `${service.http}/devices/RM-1/readings?from=${new Date(START).toISOString()}&to=${new Date(START + 1000 * HOUR).toISOString()}`,
    )
    const last = body.items.find((r) => Date.parse(r.ts) === START + hour * HOUR)
    if (!last) throw new Error(`no reading stored for hour ${hour}`)
    return last
  }
  const warnings = () => g.logs.flatMap((l) => (Array.isArray(l.warnings) ? (l.warnings as string[]) : []))

  it('leaves a colour whose level is unknown (-2) out of toner, and keeps what its alerts say', async () => {
    const face = healthyMfp()
    face.supplies[1] = toner('cyan', -2)
    face.alerts = [{ severity: 4, code: 1104, description: 'Cyan toner is low' }]
    const r = await pollWith(face)
    expect(r.toner).toEqual({ black: 90, magenta: 70, yellow: 60 })
    expect(r.errors).toEqual([
      { code: 'markerTonerAlmostEmpty', severity: 'warning', text: 'Cyan toner is low' },
    ])
  })

  it('leaves a colour with "some remaining" (-3) out of toner, and keeps what its alerts say', async () => {
    const face = healthyMfp()
    face.supplies[0] = toner('black', -3)
    face.alerts = [{ severity: 4, code: 1104, description: 'Black toner almost empty' }]
    const r = await pollWith(face)
    expect(r.toner).toEqual({ cyan: 80, magenta: 70, yellow: 60 })
    expect(r.errors?.map((e) => e.code)).toEqual(['markerTonerAlmostEmpty'])
  })

  it('leaves a colour whose maximum capacity is 0 out of toner, with a warning', async () => {
    const face = healthyMfp()
    face.supplies[2] = toner('magenta', 40, 0)
    const r = await pollWith(face)
    expect(r.toner).toEqual({ black: 90, cyan: 80, yellow: 60 })
    expect(r.errors).toEqual([])
    expect(warnings()).toContain('magenta toner: maximum capacity 0: left out')
  })

  it('reports a waste box that says only "some remaining" (-3) by its alert: near full', async () => {
    const face = healthyMfp()
    face.supplies[4] = { type: 'wasteToner', description: 'Waste Toner Box', max: -2, level: -3 }
    face.alerts = [{ severity: 4, code: 1107, description: 'Waste toner box nearly full' }]
    const r = await pollWith(face)
    expect(r.wasteBox).toBe('nearFull')
  })

  it('leaves out a level above its maximum and publishes the rest, with a warning', async () => {
    const face = healthyMfp()
    face.supplies[3] = toner('yellow', 1500)
    const r = await pollWith(face)
    expect(r.toner).toEqual({ black: 90, cyan: 80, magenta: 70 })
    expect(r.counters).toEqual({ total: 182340 })
    expect(warnings()).toContain('yellow toner: level 1500 above its maximum 1000: left out')
  })

  it('publishes counters, status and errors of a printer without a supplies table, with a warning', async () => {
    const r = await pollWith(healthyMfp({ without: [PRT_SUPPLIES_ENTRY] }))
    expect(r.toner).toBeUndefined()
    expect(r.wasteBox).toBeUndefined()
    expect(r).toMatchObject({ counters: { total: 182340 }, status: 'ready', errors: [] })
    expect(warnings()).toContain('no prtMarkerSuppliesTable: no toner or waste box')
  })

  it('takes a printer with no alert table as one with no active alert', async () => {
    const r = await pollWith(healthyMfp({ without: [PRT_ALERT_ENTRY] }))
    expect(r.errors).toEqual([])
    expect(r.toner).toEqual({ black: 90, cyan: 80, magenta: 70, yellow: 60 })
  })

  it('publishes the birth again when the printer says something new of itself', async () => {
    await pollWith(healthyMfp())
    const before = await getJson<{ serial?: string; model?: string }>(`${service.http}/devices/RM-1`)
    expect(before.body).toMatchObject({ vendor: 'Kyocera', model: 'TASKalfa 2554ci', serial: 'W2K1234567' })
    const births = g.gateway.stats.published.births
    await pollWith(healthyMfp({ serial: 'W2K7654321' }))
    expect(g.gateway.stats.published.births).toBe(births + 1)
    const after = await getJson<{ serial?: string }>(`${service.http}/devices/RM-1`)
    expect(after.body.serial).toBe('W2K7654321')
    // An unchanged birth is not sent again.
    await pollWith(healthyMfp({ serial: 'W2K7654321' }))
    expect(g.gateway.stats.published.births).toBe(births + 1)
  })

  it('logs a printer that does not answer, publishes nothing for it, and reads it again at the next poll', async () => {
    const silent = tempDir('printwarden-gw-silent-')
    // Nobody answers SNMP there: the poll times out.
    const gone = startGateway({
      broker: service.mqttUrl,
      site: SITE,
      printers: [{ deviceId: 'RM-GONE', host: '127.0.0.1', port: 9, retries: 0, timeout: '300ms' }, printer],
      bufferDir: silent.path,
      start: START + 500 * HOUR,
      id: 'gw-roma-2',
    })
    try {
      await gone.gateway.pollAll()
      await gone.gateway.pollAll()
      await gone.gateway.flush()
      expect(gone.gateway.stats.silent).toBe(2)
      expect(gone.gateway.stats.polls).toBe(4)
      const logged = gone.logs.filter((l) => l.deviceId === 'RM-GONE' && l.level === 40)
      expect(logged).toHaveLength(2)
      expect(String(logged[0]?.msg)).toMatch(/did not answer/)
      const { status } = await getJson(`${service.http}/devices/RM-GONE`)
      expect(status).toBe(404)
    } finally {
      await gone.gateway.stop()
      silent.remove()
    }
  })
})
