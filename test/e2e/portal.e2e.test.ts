/**
 * The customer portal's model: customers owning sites, device groups, the monthly print-volume
 * report by device, group, site and customer (JSON and CSV, estimates marked), and a device's
 * history of tickets and orders. Through MQTT and the API of the real service, in event time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
} from '../helpers/service-process.ts'

const DAY = 24 * HOUR
const SEP_30 = Date.UTC(2026, 8, 30, 12)
const OCT_1 = Date.UTC(2026, 9, 1, 9)

interface Row {
  key: string | null
  pages: { total: number; mono: number; color: number }
  estimated: boolean
  devices: number
  estimatedDevices: number
}

describe('the customer portal', () => {
  const data = tempDir()
  let service: ServiceProcess

  const send = async (method: string, path: string, body?: object) => {
    const res = await fetch(`${service.http}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? null : JSON.parse(text) }
  }
  const report = async (by: string) => {
    const { status, body } = await getJson<{ rows: Row[]; total: Row['pages']; estimated: boolean }>(
      `${service.http}/reports/print-volume?period=2026-10&by=${by}`,
    )
    expect(status).toBe(200)
    return body
  }
  const csv = async (by: string) => {
    const res = await fetch(`${service.http}/reports/print-volume?period=2026-10&by=${by}`, {
      headers: { accept: 'text/csv' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/)
    return (await res.text()).trimEnd().split('\r\n')
  }

  beforeAll(async () => {
    service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--clock', 'event', '--sweep-interval', '1h'],
    })
    for (const [id, name] of [
      ['acme', 'ACME S.p.A.'],
      ['globex', 'Globex'],
    ])
      expect((await send('PUT', `/customers/${id}`, { name })).status).toBe(200)
    for (const [site, customer] of [
      ['acme-hq', 'acme'],
      ['acme-branch', 'acme'],
      ['globex-1', 'globex'],
    ])
      expect(
        (await send('PUT', `/sites/${site}`, { contact: `fleet@${site}.example`, customer })).status,
      ).toBe(200)
    const client = await connect(service.mqttUrl)
    await publishAll(
      client,
      [
        {
          topic: 'fleet/v1/globex-1/G1/birth',
          payload: JSON.stringify({ vendor: 'Kyocera', model: 'ECOSYS M3145dn' }),
        },
      ],
      true,
    )
    await publishAll(client, [
      telemetry('acme-hq', 'A1', { ts: iso(SEP_30), counters: { total: 1000, mono: 800, color: 200 } }),
      telemetry('acme-branch', 'A2', { ts: iso(SEP_30), counters: { total: 500, mono: 500 } }),
      telemetry('globex-1', 'G1', { ts: iso(OCT_1), toner: { black: 50 } }),
      telemetry('acme-branch', 'A2', { ts: iso(OCT_1 + 19 * DAY), counters: { total: 1500, mono: 1500 } }),
      // G1 sends no counters: its pages are estimated from the cartridge ordered for it.
      telemetry('globex-1', 'G1', {
        ts: iso(OCT_1 + 9 * DAY),
        toner: { black: 15 },
        errors: [{ code: 'C6000', severity: 'critical', text: 'Fuser heater failure' }],
      }),
      telemetry('acme-hq', 'A1', {
        ts: iso(OCT_1 + 30 * DAY),
        counters: { total: 3000, mono: 2200, color: 800 },
      }),
    ])
    await client.endAsync()
    await settled(service.http)
    expect((await send('PUT', '/groups/finance', { name: 'Finance', customerId: 'acme' })).status).toBe(200)
    expect((await send('PUT', '/groups/floor-2', { name: 'Floor 2' })).status).toBe(200)
    for (const [group, device] of [
      ['finance', 'A1'],
      ['finance', 'A2'],
      ['floor-2', 'A1'],
    ])
      expect((await send('PUT', `/groups/${group}/devices/${device}`)).status).toBe(200)
  })

  afterAll(async () => {
    await kill9(service)
    data.remove()
  })

  it('keeps customers owning sites, and groups with a device in any number of them', async () => {
    const acme = await send('GET', '/customers/acme')
    expect(acme.body.sites.map((s: { siteId: string }) => s.siteId)).toEqual(['acme-branch', 'acme-hq'])
    const groups = await send('GET', '/groups')
    expect(groups.body.items).toEqual([
      { groupId: 'finance', name: 'Finance', customerId: 'acme', devices: ['A1', 'A2'] },
      { groupId: 'floor-2', name: 'Floor 2', devices: ['A1'] },
    ])
  })

  it('refuses what cannot be, with the reason, and 404s for what does not exist', async () => {
    const foreign = await send('PUT', '/groups/finance/devices/G1')
    expect(foreign.status).toBe(400)
    expect(foreign.body.message).toMatch(/G1 is at site globex-1, not a site of customer acme/)
    const noCustomer = await send('PUT', '/groups/x', { name: 'X', customerId: 'initech' })
    expect(noCustomer.status).toBe(400)
    expect(noCustomer.body.message).toMatch(/no customer initech/)
    const owning = await send('DELETE', '/customers/acme')
    expect(owning.status).toBe(400)
    expect(owning.body.message).toMatch(/still owns sites: acme-branch, acme-hq/)
    expect((await send('PUT', '/groups/nope/devices/A1')).status).toBe(404)
    expect((await send('PUT', '/groups/finance/devices/NOBODY')).status).toBe(404)
    expect((await send('DELETE', '/groups/floor-2/devices/A2')).status).toBe(404)
    expect((await send('GET', '/customers/initech')).status).toBe(404)
    expect((await send('GET', '/reports/print-volume?period=2026-13')).status).toBe(400)
    expect((await send('GET', '/reports/print-volume?period=2026-10&by=floor')).status).toBe(400)
    expect((await send('PUT', '/groups/floor-2', { name: '' })).status).toBe(400)
  })

  it('reports the month by device, from counters, with the estimate marked', async () => {
    const r = await report('device')
    expect(r.rows.map((x) => [x.key, x.pages.total, x.estimated])).toEqual([
      ['A1', 2000, false],
      ['A2', 1000, false],
      ['G1', 12_500, true],
    ])
    expect(r.rows[0]?.pages).toEqual({ total: 2000, mono: 1400, color: 600 })
    expect(r.total.total).toBe(15_500)
    expect(r.estimated).toBe(true)
    expect(await csv('device')).toEqual([
      'period,by,key,name,total,mono,color,estimated,devices,estimatedDevices,unknownDevices',
      '2026-10,device,A1,,2000,1400,600,false,1,0,0',
      '2026-10,device,A2,,1000,1000,0,false,1,0,0',
      '2026-10,device,G1,,12500,0,0,true,1,1,0',
    ])
  })

  it('reports it by group, a device counting in each of its groups', async () => {
    const r = await report('group')
    expect(r.rows.map((x) => [x.key, x.pages.total, x.devices, x.estimated])).toEqual([
      ['finance', 3000, 2, false],
      ['floor-2', 2000, 1, false],
      [null, 12_500, 1, true],
    ])
    expect(r.total.total).toBe(15_500)
    expect((await csv('group')).slice(1)).toEqual([
      '2026-10,group,finance,Finance,3000,2400,600,false,2,0,0',
      '2026-10,group,floor-2,Floor 2,2000,1400,600,false,1,0,0',
      '2026-10,group,,,12500,0,0,true,1,1,0',
    ])
  })

  it('reports it by site and by customer', async () => {
    expect((await report('site')).rows.map((x) => [x.key, x.pages.total, x.estimated])).toEqual([
      ['acme-branch', 1000, false],
      ['acme-hq', 2000, false],
      ['globex-1', 12_500, true],
    ])
    expect((await csv('site')).slice(1)).toEqual([
      '2026-10,site,acme-branch,,1000,1000,0,false,1,0,0',
      '2026-10,site,acme-hq,,2000,1400,600,false,1,0,0',
      '2026-10,site,globex-1,,12500,0,0,true,1,1,0',
    ])
    expect(
      (await report('customer')).rows.map((x) => [x.key, x.pages.total, x.devices, x.estimated]),
    ).toEqual([
      ['acme', 3000, 2, false],
      ['globex', 12_500, 1, true],
    ])
    expect((await csv('customer')).slice(1)).toEqual([
      '2026-10,customer,acme,ACME S.p.A.,3000,2400,600,false,2,0,0',
      // An estimate from the toner delivered tells the pages, not which were colour: 0 mono, 0 colour.
      '2026-10,customer,globex,Globex,12500,0,0,true,1,1,0',
    ])
  })

  it("gives a device's history of tickets with their SLA clocks and orders", async () => {
    const { status, body } = await getJson<{
      tickets: { type: string; ticket: { state: string } }[]
      orders: { type: string; delivery: unknown; details: { color: string } }[]
    }>(`${service.http}/devices/G1/history`)
    expect(status).toBe(200)
    const [fault] = await actions(service.http, '?deviceId=G1&type=fault')
    expect(body.tickets.map((t) => t.type)).toEqual(['fault'])
    expect(body.tickets[0]?.ticket).toEqual(fault?.details.ticket)
    // The order with its delivery steps: ordered, and nothing reported by the carrier yet.
    const [order] = await actions(service.http, '?deviceId=G1&type=reorder')
    expect(body.orders.map((o) => [o.type, o.details.color, o.delivery])).toEqual([
      ['reorder', 'black', order?.details.delivery],
    ])
    expect(order?.details.delivery).toMatchObject({ step: 'ordered' })
    expect((await getJson(`${service.http}/devices/NOBODY/history`)).status).toBe(404)
  })
})
