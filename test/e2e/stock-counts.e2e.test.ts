/**
 * The twice-yearly stock count goes to every site that holds spare toner, at the half-year's start
 * in the site's own zone and on its own calendar, as an action about the site on its topic.
 * Through MQTT and the API of the real service, in event time.
 */
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import { kill9, type ServiceProcess, startServiceProcess, tempDir } from '../helpers/service-process.ts'

const DAY = 24 * HOUR
const JUNE_20 = Date.UTC(2026, 5, 20, 1)
/** 1 July 2026, 00:00 in Tokyo (UTC+9): the second half-year begins there. */
const H2_TOKYO = Date.UTC(2026, 5, 30, 15)

describe('stock counts on the site’s calendar', () => {
  const data = tempDir()
  let service: ServiceProcess
  let client: MqttClient
  const onSite: { topic: string; action: Action }[] = []

  const put = async (path: string, body: object) => {
    const res = await fetch(`${service.http}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(res.status).toBe(200)
  }
  const asked = () => actions(service.http, '?type=stock-reconciliation')
  /** The clock device reads at each hour from `from` to `to`: event time moves on. */
  const hours = async (from: number, to: number) => {
    const out = []
    for (let t = from; t <= to; t += HOUR)
      out.push(telemetry('utc-site', 'CLOCK-1', { ts: iso(t), status: 'ready' }))
    await publishAll(client, out)
    await settled(service.http)
  }

  beforeAll(async () => {
    service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--clock', 'event', '--sweep-interval', '1h'],
    })
    // Two threshold sites in Tokyo: one with a cartridge shipped and not installed, one without.
    await put('/sites/tokyo', { contact: 'soumu@example.jp', calendar: { zone: 'Asia/Tokyo' } })
    await put('/sites/osaka', { contact: 'osaka@example.jp', calendar: { zone: 'Asia/Tokyo' } })
    await put('/sites/utc-site', { contact: 'clock@example.com' })
    const watcher = await connect(service.mqttUrl)
    watcher.on('message', (topic, payload) =>
      onSite.push({ topic, action: JSON.parse(payload.toString()) as Action }),
    )
    await watcher.subscribeAsync('fleet/v1/+/actions', { qos: 1 })
    client = await connect(service.mqttUrl)
    await publishAll(client, [
      telemetry('utc-site', 'CLOCK-1', { ts: iso(JUNE_20), status: 'ready' }),
      telemetry('tokyo', 'TK-1', { ts: iso(JUNE_20), toner: { black: 50 } }),
      telemetry('osaka', 'OS-1', { ts: iso(JUNE_20), toner: { black: 30 } }),
      // TK-1 is sent a cartridge that it never shows installed: it is on the shelf.
      telemetry('tokyo', 'TK-1', { ts: iso(JUNE_20 + 5 * DAY), toner: { black: 15 } }),
      // OS-1 is sent one and fits it.
      telemetry('osaka', 'OS-1', { ts: iso(JUNE_20 + DAY), toner: { black: 15 } }),
      telemetry('osaka', 'OS-1', { ts: iso(JUNE_20 + 3 * DAY), toner: { black: 98 } }),
    ])
    await settled(service.http)
  })

  afterAll(async () => {
    await client.endAsync()
    await kill9(service)
    data.remove()
  })

  it('shipped the cartridges the stock is reckoned from', async () => {
    expect((await actions(service.http, '?type=reorder')).map((a) => a.deviceId).sort()).toEqual([
      'OS-1',
      'TK-1',
    ])
    const tokyo = await (await fetch(`${service.http}/sites/tokyo/stock`)).json()
    expect(tokyo.items).toEqual([
      { model: null, color: 'black', counted: 0, shipped: 1, extra: 0, installed: 0, expected: 1 },
    ])
  })

  it('asks nothing before the half-year begins in the site’s zone, nor before its first working hour', async () => {
    // 23:00 on 30 June in Tokyo, then 07:00 on 1 July: no one at work before 08:00.
    await hours(H2_TOKYO - HOUR, H2_TOKYO + 7 * HOUR)
    expect(await asked()).toEqual([])
  })

  it('asks the threshold site that holds stock at 08:00 on 1 July in Tokyo, still 30 June in UTC', async () => {
    await hours(H2_TOKYO + 8 * HOUR, H2_TOKYO + 12 * HOUR)
    const [request, ...more] = await asked()
    expect(more).toEqual([])
    expect(request).toMatchObject({
      siteId: 'tokyo',
      status: 'open',
      createdAt: '2026-06-30T23:00:00.000Z',
      details: {
        period: '2026-H2',
        addressee: 'soumu@example.jp',
        expected: [{ model: null, color: 'black', expected: 1 }],
      },
    })
    expect(request).not.toHaveProperty('deviceId')
    expect(await actions(service.http, '?deviceId=TK-1&type=stock-reconciliation')).toEqual([])
    await expect
      .poll(() => onSite.filter((m) => m.action.type === 'stock-reconciliation').map((m) => m.topic))
      .toEqual(['fleet/v1/tokyo/actions'])
  })

  it('takes a count dated in the site’s half-year as its answer', async () => {
    // 1 July 07:30 in Tokyo: 30 June in UTC, but in the half-year asked for.
    const res = await fetch(`${service.http}/sites/tokyo/stock-counts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ts: '2026-06-30T22:30:00Z', items: [{ color: 'black', count: 1 }] }),
    })
    expect(res.status).toBe(201)
    expect((await asked()).map((a) => a.status)).toEqual(['resolved'])
  })
})
