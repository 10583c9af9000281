/**
 * The provider's process end to end, through MQTT and the API of the real service in event time
 * (`--clock event`), at fixed instants of December 2026: orders with an expected delivery and their
 * delivery steps, follow-ups only after expected delivery plus grace, SLA clocks on the support
 * calendar and from the receipt of a fault, contracts that block a ticket and release it, and
 * actions that always say whom they are for.
 *
 * The tests of this file run in order on one service: event time only moves forward.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import {
  actions,
  connect,
  type Published,
  publishAll,
  settled,
  telemetry,
  watchActions,
} from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  postJson,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

const FAULT = [{ code: 'C-2557', severity: 'critical', text: 'Fuser error' }]

/** Torino works 08:30–17:30 Rome time; Tuesday 8 December 2026 is a holiday there. */
const INVENTORY = {
  sites: [
    {
      siteId: 'torino',
      contact: 'l.bianchi@example.com',
      calendar: {
        zone: 'Europe/Rome',
        workingDays: [1, 2, 3, 4, 5],
        workingHours: { start: '08:30', end: '17:30' },
        holidays: ['2026-12-08'],
      },
    },
    // No calendar of its own: the support calendar applies.
    { siteId: 'nocal', contact: 'a.verdi@example.com' },
  ],
  devices: [
    { deviceId: 'ORD-1', siteId: 'torino', label: 'SCM-1001', location: 'Floor 1, reception' },
    { deviceId: 'ORD-2', siteId: 'torino', label: 'SCM-1002', location: 'Floor 2, sales' },
    { deviceId: 'SUP-1', siteId: 'nocal', label: 'SCM-2001', location: 'Floor 3, legal' },
    { deviceId: 'SUSP-1', siteId: 'nocal', label: 'SCM-2002', location: 'Floor 4', contract: 'suspended' },
  ],
}

const at = (iso: string, site: string, device: string, fields: Record<string, unknown>): Published =>
  telemetry(site, device, { ts: iso, ...fields })
const empty = (iso: string, device: string) =>
  at(iso, 'torino', device, { toner: { black: 0 }, status: 'stopped' })

describe('orders, support hours, receipts and contracts, end to end in event time', () => {
  const data = tempDir()
  let service: ServiceProcess
  let client: MqttClient
  let watcher: Awaited<ReturnType<typeof watchActions>>

  beforeAll(async () => {
    writeFileSync(join(data.path, 'inventory.json'), JSON.stringify(INVENTORY))
    service = await startServiceProcess({
      dataDir: data.path,
      extra: [
        '--clock',
        'event',
        '--sweep-interval',
        '1h',
        // The provider works Monday–Friday 09:00–18:00 (the default hours) in Rome.
        '--support-zone',
        'Europe/Rome',
      ],
    })
    client = await connect(service.mqttUrl)
    watcher = await watchActions(service.mqttUrl)
  })

  afterAll(async () => {
    await client?.endAsync()
    await watcher?.client.endAsync()
    if (service) await kill9(service)
    data.remove()
  })

  const send = async (messages: Published[]) => {
    await publishAll(client, messages)
    await settled(service.http)
  }
  const one = async (query: string) => {
    const list = await actions(service.http, query)
    expect(list).toHaveLength(1)
    return list[0] as Action
  }
  let delivered: Action
  let chased: Action

  it('expects a Friday-afternoon order across the weekend and a Tuesday holiday on Thursday, at the end of the working day', async () => {
    // Friday 4 December, 15:00 in Rome: Monday, Wednesday, Thursday; Thursday 17:30 Rome is 16:30 UTC.
    await send([
      at('2026-12-04T14:00:00Z', 'torino', 'ORD-1', { toner: { black: 15 }, status: 'ready' }),
      at('2026-12-04T14:00:00Z', 'torino', 'ORD-2', { toner: { black: 15 }, status: 'ready' }),
    ])
    delivered = await one('?type=reorder&deviceId=ORD-1')
    chased = await one('?type=reorder&deviceId=ORD-2')
    for (const order of [delivered, chased]) {
      expect(order.status).toBe('open')
      expect(order.details.expectedDelivery).toBe('2026-12-10T16:30:00.000Z')
      expect(order.details.delivery).toEqual({ step: 'ordered', ordered: { at: '2026-12-04T14:00:00.000Z' } })
    }
    expect(delivered.details).toMatchObject({
      addressee: 'l.bianchi@example.com',
      label: 'SCM-1001',
      location: 'Floor 1, reception',
    })
  })

  it('takes shipped and then delivered from the ERP, each one message on the actions topic, and refuses steps out of order', async () => {
    await send([empty('2026-12-05T09:00:00Z', 'ORD-1'), empty('2026-12-05T09:00:00Z', 'ORD-2')])
    const url = `${service.http}/actions/${delivered.id}/delivery`
    const early = await postJson<{ error: string; message: string }>(url, { step: 'delivered' })
    expect(early.status).toBe(400)
    expect(early.body.message).toMatch(/not shipped yet/)
    const shipped = await postJson<Action>(url, {
      step: 'shipped',
      carrier: 'BRT',
      trackingNumber: '0123456789',
    })
    expect(shipped.status).toBe(200)
    expect(shipped.body.status).toBe('open')
    expect(shipped.body.details.delivery).toMatchObject({
      step: 'shipped',
      shipped: { at: '2026-12-05T09:00:00.000Z', carrier: 'BRT', trackingNumber: '0123456789' },
    })
    await send([empty('2026-12-09T10:00:00Z', 'ORD-1'), empty('2026-12-09T10:00:00Z', 'ORD-2')])
    const arrived = await postJson<Action>(url, { step: 'delivered' })
    expect(arrived.status).toBe(200)
    expect(arrived.body.details.delivery).toMatchObject({
      step: 'delivered',
      delivered: { at: '2026-12-09T10:00:00.000Z' },
    })

    const again = await postJson<{ message: string }>(url, {
      step: 'shipped',
      carrier: 'BRT',
      trackingNumber: 'x',
    })
    expect(again.status).toBe(400)
    expect(again.body.message).toMatch(/delivered already/)
    expect((await postJson(url, { step: 'lost' })).status).toBe(400)
    expect(
      (await postJson(`${service.http}/actions/no-such-id/delivery`, { step: 'delivered' })).status,
    ).toBe(404)

    const steps = await waitFor(
      () => {
        const mine = watcher.messages.filter((m) => m.id === delivered.id)
        return mine.length >= 3 ? mine : undefined
      },
      10_000,
      'the three messages of the delivered order',
    )
    expect(steps.map((m) => (m.details.delivery as { step: string }).step)).toEqual([
      'ordered',
      'shipped',
      'delivered',
    ])
  })

  it('chases no order before its expected delivery plus a working day of grace, and the undelivered one after it', async () => {
    // Past the expected delivery (Thursday 16:30 UTC), and within the grace (to Friday 16:30 UTC).
    await send([
      empty('2026-12-10T17:00:00Z', 'ORD-1'),
      empty('2026-12-10T17:00:00Z', 'ORD-2'),
      empty('2026-12-11T16:00:00Z', 'ORD-1'),
      empty('2026-12-11T16:00:00Z', 'ORD-2'),
    ])
    expect(await actions(service.http, '?type=delivery-overdue')).toEqual([])
    await send([empty('2026-12-11T17:00:00Z', 'ORD-1'), empty('2026-12-11T17:00:00Z', 'ORD-2')])
    const overdue = await one('?type=delivery-overdue')
    expect(overdue).toMatchObject({ deviceId: 'ORD-2', createdAt: '2026-12-11T17:00:00.000Z' })
    expect(overdue.details).toMatchObject({
      color: 'black',
      expectedDelivery: '2026-12-10T16:30:00.000Z',
      workingDaysOverdue: 1,
      deliveryStep: 'ordered',
      addressee: 'l.bianchi@example.com',
      label: 'SCM-1002',
    })
  })

  it('runs the SLA clocks of a site without a calendar on the support calendar', async () => {
    // Monday 14 December, 08:00 in Rome: support opens at 09:00, so the callback is due at 11:00 Rome.
    await send([at('2026-12-14T07:00:00Z', 'nocal', 'SUP-1', { status: 'error', errors: FAULT })])
    const ticket = (await one('?type=fault&deviceId=SUP-1')).details.ticket as Record<string, unknown>
    expect(ticket.dueDates).toEqual({
      remoteSupport: '2026-12-14T10:00:00.000Z',
      onSite: '2026-12-14T16:00:00.000Z',
      replacement: '2026-12-21T08:00:00.000Z',
    })
  })

  it("starts a replayed fault's clock when the service received it, not at the old reading's time, and says both", async () => {
    // Another device of the site reports live until noon; then a gateway replays a buffered fault of 09:00.
    await send(
      Array.from({ length: 7 }, (_, h) =>
        at(`2026-12-15T${String(6 + h).padStart(2, '0')}:00:00Z`, 'nocal', 'LIVE-1', { status: 'ready' }),
      ),
    )
    await send([
      {
        topic: 'fleet/v1/nocal/REPLAY-1/telemetry',
        payload: JSON.stringify([
          { ts: '2026-12-15T08:00:00Z', status: 'ready' },
          { ts: '2026-12-15T09:00:00Z', status: 'error', errors: FAULT },
        ]),
      },
    ])
    const fault = await one('?type=fault&deviceId=REPLAY-1')
    expect(fault.details.ticket).toMatchObject({
      faultAt: '2026-12-15T09:00:00.000Z',
      learnedAt: '2026-12-15T12:00:00.000Z',
      registeredAt: '2026-12-15T12:00:00.000Z',
      // 13:00 in Rome plus 2 working hours.
      dueDates: { remoteSupport: '2026-12-15T14:00:00.000Z' },
    })
    // The inventory has its site, not the device, and the action says so.
    expect(fault.details).toMatchObject({
      addressee: 'a.verdi@example.com',
      missingFromInventory: ['device'],
    })
  })

  it('registers the fault of a suspended contract blocked, refuses to acknowledge it, and starts its clocks once the contract is active', async () => {
    await send([at('2026-12-16T08:00:00Z', 'nocal', 'SUSP-1', { status: 'error', errors: FAULT })])
    const blocked = await one('?type=fault&deviceId=SUSP-1')
    expect(blocked.details.blocked).toMatchObject({ code: 'contract-suspended' })
    expect(String((blocked.details.blocked as { reason: string }).reason)).toMatch(/suspended \(unpaid\)/)
    expect((blocked.details.ticket as { dueDates: unknown }).dueDates).toEqual({})
    const refused = await postJson<{ message: string }>(`${service.http}/actions/${blocked.id}/ack`)
    expect(refused.status).toBe(400)
    expect(refused.body.message).toMatch(/blocked/)

    const put = await fetch(`${service.http}/devices/SUSP-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ siteId: 'nocal', label: 'SCM-2002', location: 'Floor 4', contract: 'active' }),
    })
    expect(put.status).toBe(200)
    // Event time moves on: the sweep of 09:00 UTC (10:00 in Rome) finds the contract active.
    await send([at('2026-12-16T10:30:00Z', 'nocal', 'SUSP-1', { status: 'error', errors: FAULT })])
    const released = (await getJson<Action>(`${service.http}/actions/${blocked.id}`)).body
    expect(released.details.blocked).toBeUndefined()
    expect(released.details.ticket).toMatchObject({
      clocksStartedAt: '2026-12-16T09:00:00.000Z',
      dueDates: { remoteSupport: '2026-12-16T11:00:00.000Z' },
    })
    const ack = await postJson<Action>(`${service.http}/actions/${blocked.id}/ack`)
    expect(ack.status).toBe(200)
    expect(ack.body.status).toBe('acknowledged')
  })

  it("addresses the replacement-device offer like every other action: the site's contact, the label, the office", async () => {
    // SUP-1's fault is still active a week on: its replacement was due Monday 21 December, 08:00 UTC.
    await send([at('2026-12-21T09:30:00Z', 'nocal', 'SUP-1', { status: 'error', errors: FAULT })])
    const offer = await one('?type=replacement-device&deviceId=SUP-1')
    expect(offer.details).toMatchObject({
      addressee: 'a.verdi@example.com',
      label: 'SCM-2001',
      location: 'Floor 3, legal',
      dueAt: '2026-12-21T08:00:00.000Z',
    })
  })
})
