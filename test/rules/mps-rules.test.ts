import type { MqttClient } from 'mqtt'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import type { Service } from '../../src/main.ts'
import { eventTimeService } from '../helpers/in-process.ts'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 5, 1, 8)

describe('the shipped MPS rules', () => {
  const running = eventTimeService()
  let service: Service
  let client: MqttClient

  beforeAll(async () => {
    ;({ service, client } = running)
  })

  const send = async (device: string, readings: { h: number; [k: string]: unknown }[]) => {
    for (const { h, ...fields } of readings) {
      await client.publishAsync(
        `fleet/v1/mps/${device}/telemetry`,
        JSON.stringify({ ts: T0 + h * HOUR, ...fields }),
        { qos: 1 },
      )
    }
    await service.processor.idle()
    return (await service.app.inject(`/actions?deviceId=${device}`)).json<{ items: Action[] }>().items
  }
  const types = (list: Action[]) => list.map((a) => a.type).sort()

  it('tells the site about a cartridge shaken twice, once, and orders nothing more for it', async () => {
    const list = await send('SHAKE-1', [
      { h: 0, toner: { cyan: 19 } },
      { h: 1, toner: { cyan: 26 } },
      { h: 2, toner: { cyan: 18 } },
      { h: 3, toner: { cyan: 25 } },
      { h: 4, toner: { cyan: 17 } },
      { h: 5, toner: { cyan: 24 } },
    ])
    expect(types(list)).toEqual(['reorder', 'toner-shake'])
    expect(list.find((a) => a.type === 'toner-shake')?.details).toMatchObject({ color: 'cyan', bumps: 2 })
  })

  it('reports toner thrown away when a cartridge is replaced above 5%, and not at 5%', async () => {
    const early = await send('EARLY-1', [
      { h: 0, toner: { magenta: 40 } },
      { h: 1, toner: { magenta: 100 } },
    ])
    expect(early.map((a) => [a.type, a.details.thrownAway])).toEqual([['early-replacement', 40]])
    const spent = await send('EARLY-2', [
      { h: 0, toner: { magenta: 5 } },
      { h: 1, toner: { magenta: 100 } },
    ])
    expect(types(spent)).toEqual(['reorder'])
  })

  it('orders no waste box for a device whose box ships with the toner, but tells the site to fit the spare', async () => {
    await service.app.inject({
      method: 'PUT',
      url: '/devices/KYO-1',
      payload: { siteId: 'mps', vendor: 'Kyocera', wasteBoxShipsWithToner: true },
    })
    expect(types(await send('KYO-1', [{ h: 0, wasteBox: 'nearFull' }]))).toEqual(['waste-box-advisory'])
    expect(types(await send('OTHER-1', [{ h: 0, wasteBox: 'nearFull' }]))).toEqual(['waste-box'])
  })

  it('chases a toner order only once its expected delivery plus a working day of grace has passed, with the colour empty, once', async () => {
    // Tuesday 08:00 UTC (after the tests above, so event time is there), before noon: expected at
    // the end of Thursday, 18:00 on the support calendar; a working day of grace ends Friday 18:00.
    const before = await send('LATE-1', [
      { h: 24, toner: { black: 12 }, status: 'ready' },
      { h: 54, toner: { black: 0 }, status: 'stopped' },
      { h: 83, toner: { black: 0 }, status: 'stopped' },
      { h: 105, toner: { black: 0 }, status: 'stopped' },
    ])
    expect(types(before)).toEqual(['reorder'])
    expect(before[0]?.details.expectedDelivery).toBe('2026-06-04T18:00:00.000Z')
    const after = await send('LATE-1', [
      { h: 107, toner: { black: 0 }, status: 'stopped' },
      { h: 114, toner: { black: 0 }, status: 'stopped' },
    ])
    expect(types(after)).toEqual(['delivery-overdue', 'reorder'])
    expect(after.find((a) => a.type === 'delivery-overdue')?.details).toMatchObject({
      color: 'black',
      expectedDelivery: '2026-06-04T18:00:00.000Z',
      workingDaysOverdue: 1,
      deliveryStep: 'ordered',
    })
    const delivered = await send('LATE-1', [{ h: 115, toner: { black: 100 }, status: 'ready' }])
    expect(delivered.map((a) => `${a.type}:${a.status}`).sort()).toEqual([
      'delivery-overdue:resolved',
      'reorder:resolved',
    ])
  })

  it('asks for a meter reading of a device that sent no counters in a month, and takes one typed in', async () => {
    const oct = Date.UTC(2026, 9, 10)
    const hour = (h: number) => oct + h * HOUR
    const publish = async (device: string, h: number, fields: Record<string, unknown>) =>
      client.publishAsync(`fleet/v1/mps/${device}/telemetry`, JSON.stringify({ ts: hour(h), ...fields }), {
        qos: 1,
      })
    await publish('METER-1', 0, { toner: { black: 80 } }) // no counters, all month
    await publish('METER-2', 0, { toner: { black: 80 }, counters: { total: 1000 } })
    // Into November: the next readings move event time past the end of October.
    await publish('METER-1', 24 * 23, { toner: { black: 78 } })
    await publish('METER-2', 24 * 23, { toner: { black: 78 } })
    await service.processor.idle()
    // (The devices of the tests above, silent since June, owe October's too.)
    const asked = (await service.app.inject('/actions?type=meter-request')).json<{ items: Action[] }>().items
    expect(
      asked.filter((a) => a.deviceId?.startsWith('METER')).map((a) => [a.deviceId, a.details.period]),
    ).toEqual([['METER-1', '2026-10']])

    const bad = await service.app.inject({
      method: 'POST',
      url: '/devices/METER-1/meter-readings',
      payload: { ts: hour(24 * 23 + 1) },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().message).toMatch(/counters/)
    expect(
      (
        await service.app.inject({
          method: 'POST',
          url: '/devices/NOPE-9/meter-readings',
          payload: { ts: hour(1), counters: { total: 1 } },
        })
      ).statusCode,
    ).toBe(404)
    const typed = await service.app.inject({
      method: 'POST',
      url: '/devices/METER-1/meter-readings',
      payload: { ts: new Date(hour(24 * 23 + 2)).toISOString(), counters: { total: 52_100, mono: 50_000 } },
    })
    expect(typed.statusCode).toBe(201)
    expect(typed.json()).toEqual({
      ts: new Date(hour(24 * 23 + 2)).toISOString(),
      counters: { total: 52_100, mono: 50_000 },
    })
    await service.processor.idle()
    const [request] = (await service.app.inject('/actions?type=meter-request')).json<{ items: Action[] }>()
      .items
    expect(request?.status).toBe('resolved')
    expect((await service.app.inject('/devices/METER-1')).json().counters).toEqual({
      total: 52_100,
      mono: 50_000,
    })
  })

  it('orders before 20% when the cartridge would run out soon after an order placed now arrives', async () => {
    // Monday 2 November 2026, 09:00 UTC: 10 points a day gone.
    const monday = Date.UTC(2026, 10, 2, 9)
    const day = 24 * HOUR
    const at = async (t: number, black: number) =>
      client.publishAsync('fleet/v1/mps/PRED-1/telemetry', JSON.stringify({ ts: t, toner: { black } }), {
        qos: 1,
      })
    await at(monday, 50)
    await at(monday + day, 40) // 4 days left, delivery in 2: no order yet
    await service.processor.idle()
    expect((await service.app.inject('/actions?deviceId=PRED-1')).json<{ items: Action[] }>().items).toEqual(
      [],
    )
    // 12.5 points a day now: empty in 2 days, Friday 09:00; ordered this Wednesday morning, it would
    // arrive Friday 08:00, with less than the day's margin left.
    await at(monday + 2 * day, 25)
    await service.processor.idle()
    const [order] = (await service.app.inject('/actions?deviceId=PRED-1')).json<{ items: Action[] }>().items
    expect(order).toMatchObject({ type: 'reorder', details: { color: 'black', level: 25 } })
  })

  it('replenishes a spare-kit site when a cartridge change uses the spare, and not at a threshold', async () => {
    await service.app.inject({
      method: 'PUT',
      url: '/sites/kit',
      payload: { contact: 'kit@example.com', stockMode: 'spare-kit' },
    })
    const publish = async (h: number, black: number) =>
      client.publishAsync(
        'fleet/v1/kit/KIT-1/telemetry',
        JSON.stringify({ ts: T0 + h * HOUR, toner: { black } }),
        { qos: 1 },
      )
    await publish(0, 12)
    await publish(1, 3)
    await service.processor.idle()
    expect((await service.app.inject('/actions?deviceId=KIT-1')).json<{ items: Action[] }>().items).toEqual(
      [],
    )
    await publish(2, 100)
    await service.processor.idle()
    const list = (await service.app.inject('/actions?deviceId=KIT-1')).json<{ items: Action[] }>().items
    expect(list.map((a) => [a.type, a.details.level, a.details.addressee])).toEqual([
      ['reorder', 100, 'kit@example.com'],
    ])
  })
})
