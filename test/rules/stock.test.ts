/**
 * Spare stock at a site that keeps a spare kit: each cartridge change uses a spare and ships its
 * replenishment, the expected stock follows, and twice a year the site is asked to count it.
 * Through MQTT and the API of the real service, in event time.
 */
import type { MqttClient } from 'mqtt'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Action, StockView } from '../../src/contract/schemas.ts'
import type { Service } from '../../src/main.ts'
import { eventTimeService } from '../helpers/in-process.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const JUNE_20 = Date.UTC(2026, 5, 20, 9)
const MODEL = 'TASKalfa 2554ci'

describe('spare stock and its count', () => {
  const running = eventTimeService()
  let service: Service
  let client: MqttClient
  const published: Action[] = []
  const topics: string[] = []

  beforeAll(async () => {
    ;({ service, client } = running)
    await client.subscribeAsync(['fleet/v1/+/+/actions', 'fleet/v1/+/actions'], { qos: 1 })
    client.on('message', (topic, payload) => {
      published.push(JSON.parse(payload.toString()) as Action)
      topics.push(topic)
    })
    const put = (url: string, payload: object) => service.app.inject({ method: 'PUT', url, payload })
    await put('/sites/kit-site', { contact: 'facility@example.com', stockMode: 'spare-kit' })
    await put('/sites/plain-site', { contact: 'office@example.com' })
    for (const id of ['KIT-2', 'KIT-1']) await put(`/devices/${id}`, { siteId: 'kit-site', model: MODEL })
    await put('/devices/PLAIN-1', { siteId: 'plain-site', model: MODEL })
  })

  const read = async (site: string, device: string, ts: number, black: number) => {
    await client.publishAsync(
      `fleet/v1/${site}/${device}/telemetry`,
      JSON.stringify({ ts, toner: { black } }),
      {
        qos: 1,
      },
    )
  }
  const stock = async (site = 'kit-site') =>
    (await service.app.inject(`/sites/${site}/stock`)).json<StockView>()
  const actions = async (query: string) =>
    (await service.app.inject(`/actions?${query}`)).json<{ items: Action[] }>().items

  it('takes a spare for each cartridge change and ships its replacement: the expected stock stays', async () => {
    await read('kit-site', 'KIT-1', JUNE_20, 30)
    await read('kit-site', 'KIT-2', JUNE_20, 70)
    await read('plain-site', 'PLAIN-1', JUNE_20, 50)
    await read('kit-site', 'KIT-1', JUNE_20 + DAY, 2)
    await read('kit-site', 'KIT-1', JUNE_20 + 2 * DAY, 98) // the spare goes in
    await service.processor.idle()
    const [order, ...more] = await actions('siteId=kit-site&type=reorder')
    expect(more).toEqual([])
    expect(order?.details).toMatchObject({ color: 'black', model: MODEL })
    expect(await stock()).toEqual({
      siteId: 'kit-site',
      stockMode: 'spare-kit',
      countedAt: null,
      items: [{ model: MODEL, color: 'black', counted: 0, shipped: 1, extra: 0, installed: 1, expected: 0 }],
    })
  })

  it('asks a spare-kit site, once, to count in the new half-year, with what it should find', async () => {
    // Event time moves into July, and on through a few more sweeps.
    for (const h of [0, 1, 5, 30]) await read('kit-site', 'KIT-2', Date.UTC(2026, 6, 1) + h * HOUR, 69)
    await read('plain-site', 'PLAIN-1', Date.UTC(2026, 6, 2), 49)
    await service.processor.idle()
    const asked = await actions('type=stock-reconciliation')
    expect(asked).toHaveLength(1)
    // About the site: no device, and not listed under any of its devices.
    expect(asked[0]).not.toHaveProperty('deviceId')
    expect(await actions('deviceId=KIT-1&type=stock-reconciliation')).toEqual([])
    expect(asked[0]).toMatchObject({
      siteId: 'kit-site',
      status: 'open',
      rule: 'stock-reconciliation',
      details: {
        period: '2026-H2',
        lastCountedAt: null,
        expected: [{ model: MODEL, color: 'black', expected: 0 }],
        addressee: 'facility@example.com',
      },
    })
    await expect
      .poll(() => published.filter((a) => a.type === 'stock-reconciliation').map((a) => a.status))
      .toEqual(['open'])
    expect(topics[published.findIndex((a) => a.type === 'stock-reconciliation')]).toBe(
      'fleet/v1/kit-site/actions',
    )
  })

  it('refuses a count that is in the future, names an item twice, or is of an unknown site', async () => {
    const post = (site: string, payload: object) =>
      service.app.inject({ method: 'POST', url: `/sites/${site}/stock-counts`, payload })
    const future = await post('kit-site', { ts: '2027-01-01T00:00:00Z', items: [] })
    expect(future.statusCode).toBe(400)
    expect(future.json().message).toMatch(/future/)
    const twice = await post('kit-site', {
      items: [
        { color: 'black', model: MODEL, count: 1 },
        { color: 'black', model: MODEL, count: 2 },
      ],
    })
    expect(twice.statusCode).toBe(400)
    expect(twice.json().message).toMatch(/items\/1.*counted twice/)
    expect((await post('kit-site', { items: [{ color: 'black', count: -1 }] })).statusCode).toBe(400)
    const noSuchDay = await post('kit-site', { ts: '2026-02-30T09:00:00Z', items: [] })
    expect(noSuchDay.statusCode).toBe(400)
    expect(noSuchDay.json().message).toMatch(/not a date/)
    // A count made in June is taken, but it does not answer the request for the second half-year.
    const june = await post('kit-site', {
      ts: '2026-06-25T10:00:00Z',
      items: [{ color: 'black', model: MODEL, count: 5 }],
    })
    expect(june.statusCode).toBe(201)
    expect(june.json<StockView>().countedAt).toBe('2026-06-25T10:00:00.000Z')
    expect((await post('nowhere', { items: [] })).statusCode).toBe(404)
    expect((await actions('type=stock-reconciliation'))[0]?.status).toBe('open')
  })

  it('takes the count as the new base, resolves the request, and counts from there', async () => {
    const counted = await service.app.inject({
      method: 'POST',
      url: '/sites/kit-site/stock-counts',
      payload: { items: [{ color: 'black', model: MODEL, count: 2 }] },
    })
    expect(counted.statusCode).toBe(201)
    expect(counted.json<StockView>().items).toEqual([
      { model: MODEL, color: 'black', counted: 2, shipped: 0, extra: 0, installed: 0, expected: 2 },
    ])
    expect((await actions('type=stock-reconciliation'))[0]?.status).toBe('resolved')
    const older = await service.app.inject({
      method: 'POST',
      url: '/sites/kit-site/stock-counts',
      payload: { ts: '2026-07-01T08:00:00Z', items: [] },
    })
    expect(older.statusCode).toBe(400)
    expect(older.json().message).toMatch(/a later count exists/)
    await expect
      .poll(() => published.filter((a) => a.type === 'stock-reconciliation').map((a) => a.status))
      .toEqual(['open', 'resolved'])
    // KIT-2 runs out and takes a spare: one in, one shipped.
    await read('kit-site', 'KIT-2', Date.UTC(2026, 6, 3), 1)
    await read('kit-site', 'KIT-2', Date.UTC(2026, 6, 4), 97)
    await service.processor.idle()
    expect((await stock()).items).toEqual([
      { model: MODEL, color: 'black', counted: 2, shipped: 1, extra: 0, installed: 1, expected: 2 },
    ])
    // Not asked again this half-year.
    await read('kit-site', 'KIT-2', Date.UTC(2026, 6, 20), 90)
    await service.processor.idle()
    expect(await actions('type=stock-reconciliation')).toHaveLength(1)
  })

  it("takes a device's new birth message into the next decision", async () => {
    // PLAIN-2 is not in the inventory: what it says of itself is all that is known.
    await read('plain-site', 'PLAIN-2', Date.UTC(2026, 6, 21), 60)
    await service.processor.idle()
    await client.publishAsync(
      'fleet/v1/plain-site/PLAIN-2/birth',
      JSON.stringify({ model: 'bizhub C300i' }),
      {
        qos: 1,
        retain: true,
      },
    )
    await read('plain-site', 'PLAIN-2', Date.UTC(2026, 6, 22), 15)
    await service.processor.idle()
    const [order] = await actions('deviceId=PLAIN-2&type=reorder')
    expect(order?.details).toMatchObject({ color: 'black', model: 'bizhub C300i' })
  })

  it('never asks a site that orders at a threshold', async () => {
    expect(await actions('siteId=plain-site&type=stock-reconciliation')).toEqual([])
    expect((await stock('plain-site')).stockMode).toBe('threshold')
  })
})
