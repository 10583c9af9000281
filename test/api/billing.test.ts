/**
 * What to bill a device for a month: the pages its counters tell, or, where it sent none, an
 * estimate from the toner delivered to it, marked as one. Readings over MQTT, answers from the API.
 */
import type { MqttClient } from 'mqtt'
import { beforeAll, describe, expect, it } from 'vitest'
import type { BillingView } from '../../src/contract/schemas.ts'
import type { Service } from '../../src/main.ts'
import { eventTimeService } from '../helpers/in-process.ts'

const DAY = 86_400_000
const OCT = Date.UTC(2026, 9, 1, 9)
const YIELDS = { black: 7200, cyan: 6000, magenta: 6000, yellow: 6000 }

describe('the pages of a billing period', () => {
  const running = eventTimeService()
  let service: Service
  let client: MqttClient

  beforeAll(async () => {
    ;({ service, client } = running)
    for (const id of ['BILL-1', 'BILL-2'])
      await service.app.inject({
        method: 'PUT',
        url: `/devices/${id}`,
        payload: { siteId: 'b', yields: YIELDS },
      })
    const read = (device: string, ts: number, fields: object) =>
      client.publishAsync(`fleet/v1/b/${device}/telemetry`, JSON.stringify({ ts, ...fields }), { qos: 1 })
    // BILL-1 sends its counters: the last of September, then October's.
    await read('BILL-1', OCT - 2 * DAY, { counters: { total: 10_000, mono: 8_000, color: 2_000 } })
    await read('BILL-1', OCT + 10 * DAY, { counters: { total: 12_500, mono: 9_900, color: 2_600 } })
    await read('BILL-1', OCT + 29 * DAY, { counters: { total: 14_000, mono: 11_000, color: 3_000 } })
    // BILL-2 sends none, and goes through two black cartridges and a cyan one in October.
    await read('BILL-2', OCT, { toner: { black: 40, cyan: 30 } })
    await read('BILL-2', OCT + 5 * DAY, { toner: { black: 15, cyan: 12 } })
    await read('BILL-2', OCT + 8 * DAY, { toner: { black: 99, cyan: 100 } })
    await read('BILL-2', OCT + 25 * DAY, { toner: { black: 10, cyan: 80 } })
    // BILL-3: no counters, no yields.
    await read('BILL-3', OCT, { toner: { black: 5 } })
    await read('BILL-3', Date.UTC(2026, 10, 3), { toner: { black: 4 } })
    await service.processor.idle()
  })

  const billing = async (device: string, period?: string) => {
    const res = await service.app.inject(
      `/devices/${device}/billing${period === undefined ? '' : `?period=${period}`}`,
    )
    return { status: res.statusCode, body: res.json<BillingView & { message?: string }>() }
  }

  it('counts the pages from the last counters before the month to the last in it', async () => {
    const { status, body } = await billing('BILL-1', '2026-10')
    expect(status).toBe(200)
    expect(body).toEqual({
      deviceId: 'BILL-1',
      period: '2026-10',
      periodStart: '2026-10-01T00:00:00.000Z',
      periodEnd: '2026-11-01T00:00:00.000Z',
      source: 'counters',
      estimated: false,
      pages: { total: 4_000, mono: 3_000, color: 1_000 },
      from: {
        ts: new Date(OCT - 2 * DAY).toISOString(),
        counters: { total: 10_000, mono: 8_000, color: 2_000 },
      },
      to: {
        ts: new Date(OCT + 29 * DAY).toISOString(),
        counters: { total: 14_000, mono: 11_000, color: 3_000 },
      },
    })
  })

  it('estimates the pages of a device without counters from the cartridges ordered, and says so', async () => {
    const { body } = await billing('BILL-2', '2026-10')
    expect(body).toMatchObject({
      source: 'toner-delivered',
      estimated: true,
      cartridges: { black: 2, cyan: 1 },
      pages: { total: 2 * 7200, color: 6000 },
    })
    expect(body.note).toMatch(/estimated/)
  })

  it('says when neither counters nor yields can tell, and takes the last month by default', async () => {
    const { body } = await billing('BILL-3')
    expect(body).toMatchObject({ period: '2026-10', source: 'none', estimated: false, pages: null })
    expect(body.note).toMatch(/no yield in the inventory/)
  })

  it('answers 400 for a period that is no month, and 404 for an unknown device', async () => {
    const bad = await billing('BILL-1', '2026-13')
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/2026-13 is not a month/)
    expect((await billing('BILL-1', 'october')).status).toBe(400)
    expect((await billing('NOBODY', '2026-10')).status).toBe(404)
  })
})
