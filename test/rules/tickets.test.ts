import type { MqttClient } from 'mqtt'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import type { Service } from '../../src/main.ts'
import { eventTimeService } from '../helpers/in-process.ts'

const HOUR = 3_600_000
// Monday 2026-11-16, 16:00 in Rome (15:00 UTC): one working hour left that day.
const MONDAY_4PM = Date.UTC(2026, 10, 16, 15)
const fuser = { code: 'C-2557', severity: 'critical', text: 'Fuser error' }

interface TicketView {
  stage: string
  blocked?: { code: string; reason: string }
  dueDates: Record<string, string>
  breaches: { clock: string; dueAt: string }[]
}

describe('service tickets', () => {
  const running = eventTimeService()
  let service: Service
  let client: MqttClient

  beforeAll(async () => {
    ;({ service, client } = running)
    const calendar = {
      zone: 'Europe/Rome',
      workingDays: [1, 2, 3, 4, 5],
      workingHours: { start: '08:00', end: '17:00' },
      holidays: ['2026-11-20'],
    }
    await service.app.inject({
      method: 'PUT',
      url: '/sites/roma',
      payload: { contact: 'it@example.it', calendar },
    })
    await service.app.inject({
      method: 'PUT',
      url: '/devices/TK-1',
      payload: { siteId: 'roma', contract: 'active' },
    })
    await service.app.inject({
      method: 'PUT',
      url: '/devices/TK-2',
      payload: { siteId: 'roma', contract: 'inactive' },
    })
  })

  /** Hourly readings of the device, the error still active, from one hour to another. */
  const hours = async (device: string, from: number, to: number, errors = [fuser]) => {
    for (let h = from; h <= to; h++) {
      await client.publishAsync(
        `fleet/v1/roma/${device}/telemetry`,
        JSON.stringify({ ts: MONDAY_4PM + h * HOUR, errors }),
        { qos: 1 },
      )
    }
    await service.processor.idle()
  }
  const actionsOf = async (device: string) =>
    (await service.app.inject(`/actions?deviceId=${device}`)).json<{ items: Action[] }>().items
  const ticketOf = (a: Action | undefined) => a?.details.ticket as TicketView

  it("opens a fault as a ticket, with due dates on the site's working hours", async () => {
    await hours('TK-1', 0, 0)
    const [fault] = await actionsOf('TK-1')
    expect(fault?.type).toBe('fault')
    expect(ticketOf(fault)).toMatchObject({
      stage: 'registered',
      dueDates: {
        // 2 working hours: 16:00–17:00 on Monday, 08:00–09:00 on Tuesday (Rome).
        remoteSupport: '2026-11-17T08:00:00.000Z',
        // 8 working hours: the Monday hour, then 7 on Tuesday: 15:00 (Rome).
        onSite: '2026-11-17T14:00:00.000Z',
        // 5 working days, Friday 20 November a holiday: Tuesday 24 November, 16:00 (Rome).
        replacement: '2026-11-24T15:00:00.000Z',
      },
      breaches: [],
    })
  })

  it('records a breach once when the callback clock runs out, and moves on when support calls', async () => {
    await hours('TK-1', 1, 20)
    const fault = (await actionsOf('TK-1')).find((a) => a.type === 'fault')
    expect(ticketOf(fault).breaches.map((b) => b.clock)).toEqual(['remoteSupport'])
    const called = await service.app.inject({
      method: 'POST',
      url: `/actions/${fault?.id}/ticket`,
      payload: { type: 'remote-support-called' },
    })
    expect(called.statusCode).toBe(200)
    expect(ticketOf(called.json<Action>()).stage).toBe('remote-support')
    await hours('TK-1', 21, 22)
    const again = (await actionsOf('TK-1')).find((a) => a.type === 'fault')
    expect(ticketOf(again).breaches.map((b) => b.clock)).toEqual(['remoteSupport'])
  })

  it('refuses a ticket event that does not exist, and one for an action that is no ticket', async () => {
    const fault = (await actionsOf('TK-1')).find((a) => a.type === 'fault')
    const bad = await service.app.inject({
      method: 'POST',
      url: `/actions/${fault?.id}/ticket`,
      payload: { type: 'fixed' },
    })
    expect(bad.statusCode).toBe(400)
    await client.publishAsync(
      'fleet/v1/roma/TK-3/telemetry',
      JSON.stringify({ ts: MONDAY_4PM, toner: { black: 3 } }),
      { qos: 1 },
    )
    await service.processor.idle()
    const [order] = await actionsOf('TK-3')
    const notATicket = await service.app.inject({
      method: 'POST',
      url: `/actions/${order?.id}/ticket`,
      payload: { type: 'closed' },
    })
    expect(notATicket.statusCode).toBe(400)
    expect(notATicket.json().message).toMatch(/not a service ticket/)
  })

  it('asks for a replacement device when the device is not restored within 5 working days', async () => {
    await hours('TK-1', 23, 24 * 8 + 2)
    const all = await actionsOf('TK-1')
    const replacement = all.filter((a) => a.type === 'replacement-device')
    expect(replacement).toHaveLength(1)
    expect(replacement[0]?.details).toMatchObject({ dueAt: '2026-11-24T15:00:00.000Z' })
    expect(
      ticketOf(all.find((a) => a.type === 'fault'))
        .breaches.map((b) => b.clock)
        .sort(),
    ).toEqual(['onSite', 'remoteSupport', 'replacement'])
  })

  it('marks the ticket of a device whose contract is inactive as blocked, with the reason, and runs no clock', async () => {
    await hours('TK-2', 0, 24 * 8)
    const [fault, ...others] = await actionsOf('TK-2')
    expect(others).toEqual([])
    const ticket = ticketOf(fault)
    expect(ticket.blocked?.reason).toMatch(/contract/)
    expect(ticket.dueDates).toEqual({})
    expect(ticket.breaches).toEqual([])
  })
})

describe('a warning that keeps coming back', () => {
  const running = eventTimeService()

  it('opens one ticket when it comes back 3 times in 7 days, cleared each time, and resolves it after a quiet week', async () => {
    const { service, client } = running
    const jam = { code: 'J-0511', severity: 'warning', text: 'Paper jam, tray 2' }
    const at = (h: number, errors: object[]) =>
      client.publishAsync(
        'fleet/v1/roma/RJ-1/telemetry',
        JSON.stringify({ ts: MONDAY_4PM + h * HOUR, status: 'ready', errors }),
        { qos: 1 },
      )
    const faults = async () =>
      (await service.app.inject('/actions?deviceId=RJ-1&type=fault')).json<{ items: Action[] }>().items
    // A jam cleared within the hour, on Monday, Tuesday and Thursday: never a lasting warning.
    for (const day of [0, 1]) {
      await at(day * 24, [jam])
      await at(day * 24 + 1, [])
    }
    await service.processor.idle()
    expect(await faults()).toEqual([])
    await at(3 * 24, [jam])
    await at(3 * 24 + 1, [])
    // And twice more: the same run of recurrences, no second ticket.
    await at(4 * 24, [jam])
    await at(4 * 24 + 1, [])
    await at(5 * 24, [jam])
    await service.processor.idle()
    const [ticket, ...more] = await faults()
    expect(more).toEqual([])
    expect(ticket).toMatchObject({
      rule: 'recurring-warning',
      status: 'open',
      details: { code: 'J-0511', severity: 'warning', times: 3, since: new Date(MONDAY_4PM).toISOString() },
    })
    expect(ticket?.details.ticket).toMatchObject({ stage: 'registered' })
    // Cleared, and not back for a week: the run is over.
    await at(5 * 24 + 1, [])
    await at(12 * 24 + 2, [])
    await service.processor.idle()
    const [after] = await faults()
    expect(after?.status).toBe('resolved')
    // A single jam later starts a new run, which needs 3 times again.
    await at(13 * 24, [jam])
    await service.processor.idle()
    expect(await faults()).toHaveLength(1)
  })

  it('opens no ticket for supply warnings, lasting or recurring: the reorder takes care of them', async () => {
    const { service, client } = running
    const empty = { code: 'TONER-EMPTY-BLACK', severity: 'warning', text: 'black toner empty' }
    const at = (h: number, errors: object[], black: number) =>
      client.publishAsync(
        'fleet/v1/roma/SUP-1/telemetry',
        JSON.stringify({ ts: MONDAY_4PM + h * HOUR, status: 'stopped', toner: { black }, errors }),
        { qos: 1 },
      )
    // Empty for 6 hours, three times in a week.
    for (const day of [0, 1, 2]) for (let h = 0; h <= 6; h++) await at(day * 24 + h, h < 6 ? [empty] : [], 0)
    await service.processor.idle()
    const types = (await service.app.inject('/actions?deviceId=SUP-1'))
      .json<{ items: Action[] }>()
      .items.map((a) => a.type)
    expect(types).toContain('reorder')
    expect(types).not.toContain('fault')
  })
})
