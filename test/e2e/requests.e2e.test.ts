/**
 * Requests people make, end to end through MQTT and the API of the real service in event time
 * (`--clock event`), at fixed instants of November 2026: service calls with the SLA clocks of a
 * fault on the support calendar (Monday to Friday, 09:00–18:00 UTC here), joined with the faults
 * the device reports; orders for printers nobody monitors and extras beside a reorder; cancelling;
 * and the ready devices a stopped device's ticket names.
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

const CMYK = (black: number) => ({ black, cyan: 70, magenta: 70, yellow: 70 })
const FUSER = [{ code: 'C-2557', severity: 'critical', text: 'Fuser error' }]

const INVENTORY = {
  sites: [
    { siteId: 'roma', contact: 'g.russo@example.com' },
    { siteId: 'bari', contact: 'a.greco@example.com' },
  ],
  devices: [
    { deviceId: 'SILENT', siteId: 'roma', label: 'SCM-3001', location: 'Floor 2, accounting' },
    { deviceId: 'CALL', siteId: 'roma', label: 'SCM-3002', location: 'Floor 3, sales' },
    { deviceId: 'FAULTY', siteId: 'roma', label: 'SCM-3003', location: 'Floor 3, sales' },
    { deviceId: 'DOWN', siteId: 'roma', label: 'SCM-3004', location: 'Floor 2, accounting' },
    { deviceId: 'NEAR', siteId: 'roma', label: 'SCM-3005', location: 'Floor 2, accounting' },
    { deviceId: 'UP3', siteId: 'roma', label: 'SCM-3006', location: 'Floor 3, sales' },
    { deviceId: 'UP1', siteId: 'roma', label: 'SCM-3007', location: 'Floor 1, reception' },
    { deviceId: 'MONO', siteId: 'roma', label: 'SCM-3008', location: 'Floor 2, accounting' },
    { deviceId: 'JAMMED', siteId: 'roma', label: 'SCM-3009', location: 'Floor 2, accounting' },
    { deviceId: 'WATCHED', siteId: 'roma', label: 'SCM-3010', location: 'Floor 4' },
    { deviceId: 'SUSP', siteId: 'roma', label: 'SCM-3011', location: 'Floor 4', contract: 'suspended' },
    { deviceId: 'MANUAL', siteId: 'roma', label: 'SCM-3012', location: 'Floor 5', monitored: false },
    { deviceId: 'ELSEWHERE', siteId: 'bari', label: 'SCM-4001', location: 'Floor 2, accounting' },
  ],
}

/** The devices that report all along: they move event time on while others stay silent. */
const REPORTING = ['CALL', 'FAULTY', 'DOWN', 'NEAR', 'UP3', 'UP1', 'MONO', 'JAMMED', 'WATCHED', 'SUSP']

const reading = (device: string, ts: string, fields: Record<string, unknown> = {}): Published =>
  telemetry(device === 'ELSEWHERE' ? 'bari' : 'roma', device, {
    ts,
    status: 'ready',
    toner: device === 'MONO' ? { black: 80 } : CMYK(80),
    errors: [],
    ...fields,
  })

describe('requests from people, end to end in event time', () => {
  const data = tempDir()
  let service: ServiceProcess
  let client: MqttClient
  let watcher: Awaited<ReturnType<typeof watchActions>>

  beforeAll(async () => {
    writeFileSync(join(data.path, 'inventory.json'), JSON.stringify(INVENTORY))
    service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--clock', 'event', '--sweep-interval', '1h'],
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
  /** Every reporting device at `ts`, with these fields for some. */
  const heartbeat = (ts: string, fields: Record<string, Record<string, unknown>> = {}) =>
    send(REPORTING.map((d) => reading(d, ts, fields[d] ?? {})))
  const post = <T = Action>(path: string, body?: unknown) => postJson<T>(`${service.http}${path}`, body)
  const action = async (id: string) => (await getJson<Action>(`${service.http}/actions/${id}`)).body
  const messagesOf = (id: string) => watcher.messages.filter((m) => m.id === id)

  let silentCall: Action

  it('gives a call on a silent printer the SLA clocks of the support calendar', async () => {
    // Monday 2 November, 10:00 UTC: every device reports; SILENT then says nothing for a week.
    await send([
      reading('SILENT', '2026-11-02T10:00:00Z', { toner: CMYK(35) }),
      reading('ELSEWHERE', '2026-11-02T10:00:00Z'),
    ])
    await heartbeat('2026-11-02T10:00:00Z')
    // Monday 9 November, 16:00: SILENT is silent for more than 5 days.
    await heartbeat('2026-11-09T16:00:00Z')
    expect(await actions(service.http, '?type=missed-reading&deviceId=SILENT')).toHaveLength(1)

    const res = await post('/devices/SILENT/service-requests', {
      description: 'The display is dark and nothing prints from the accounting office',
    })
    expect(res.status).toBe(201)
    silentCall = res.body
    expect(silentCall).toMatchObject({
      type: 'service-request',
      deviceId: 'SILENT',
      siteId: 'roma',
      status: 'open',
      rule: 'service-request',
      createdAt: '2026-11-09T16:00:00.000Z',
    })
    expect(silentCall.details).toMatchObject({
      description: 'The display is dark and nothing prints from the accounting office',
      stopped: false,
      addressee: 'g.russo@example.com',
      label: 'SCM-3001',
      location: 'Floor 2, accounting',
    })
    // Two working hours from Monday 16:00 end at 18:00; five working days are next Monday 16:00.
    // Degraded, not stopped: no engineer's visit is due.
    expect((silentCall.details.ticket as { dueDates: unknown }).dueDates).toEqual({
      remoteSupport: '2026-11-09T18:00:00.000Z',
      replacement: '2026-11-16T16:00:00.000Z',
    })
    // Published on the device's actions topic, as every action.
    await waitFor(() => (messagesOf(silentCall.id).length > 0 ? true : undefined), 10_000, 'its message')
  })

  it('records a missed call-back as a breach, and offers a replacement device after 5 working days', async () => {
    await heartbeat('2026-11-10T12:00:00Z')
    const breached = await action(silentCall.id)
    expect(
      (breached.details.ticket as { breaches: { clock: string }[] }).breaches.map((b) => b.clock),
    ).toEqual(['remoteSupport'])
    expect(await actions(service.http, '?type=replacement-device&deviceId=SILENT')).toEqual([])
    // Friday 13th and the weekend pass; Monday 16 November 17:00 is after the fifth working day.
    await heartbeat('2026-11-13T12:00:00Z')
    expect(await actions(service.http, '?type=replacement-device&deviceId=SILENT')).toEqual([])
    await heartbeat('2026-11-16T17:00:00Z')
    const [offer] = await actions(service.http, '?type=replacement-device&deviceId=SILENT')
    expect(offer?.details).toMatchObject({ ticket: silentCall.id, dueAt: '2026-11-16T16:00:00.000Z' })
  })

  let call: Action

  it('joins a critical error reported during an open call to that call, with the on-site clock', async () => {
    const res = await post('/devices/CALL/service-requests', { description: 'Pages come out streaked' })
    expect(res.status).toBe(201)
    call = res.body
    expect((call.details.ticket as { severity: string }).severity).toBe('warning')
    // Tuesday 17 November, 10:00: the device reports the fuser error and stops.
    await heartbeat('2026-11-17T10:00:00Z', { CALL: { status: 'error', errors: FUSER } })
    expect(await actions(service.http, '?type=fault&deviceId=CALL')).toEqual([])
    const joined = await action(call.id)
    const ticket = joined.details.ticket as {
      severity: string
      dueDates: Record<string, string>
      joined: unknown[]
    }
    expect(ticket.severity).toBe('critical')
    expect(ticket.joined).toEqual([{ code: 'C-2557', severity: 'critical', at: '2026-11-17T10:00:00.000Z' }])
    // Eight working hours from Tuesday 10:00 end at 18:00, the end of Tuesday's working day.
    expect(ticket.dueDates.onSite).toBe('2026-11-17T18:00:00.000Z')
    // Down: the ticket names somewhere else to print, the same office (sales) first.
    const elsewhere = (joined.details.alternatives as { deviceId: string }[]).map((a) => a.deviceId)
    expect(elsewhere.slice(0, 2)).toEqual(['FAULTY', 'UP3'])
    // The error goes on reading after reading, and joins once; the call is one action still.
    await heartbeat('2026-11-17T11:00:00Z', { CALL: { status: 'error', errors: FUSER } })
    expect(await actions(service.http, '?type=fault&deviceId=CALL')).toEqual([])
    expect(((await action(call.id)).details.ticket as { joined: unknown[] }).joined).toHaveLength(1)
  })

  it('joins a call on a device with an open fault ticket to that ticket', async () => {
    await heartbeat('2026-11-17T12:00:00Z', { FAULTY: { status: 'error', errors: FUSER } })
    const [fault] = await actions(service.http, '?type=fault&deviceId=FAULTY')
    expect(fault).toBeDefined()
    const res = await post('/devices/FAULTY/service-requests', {
      description: 'The printer in sales shows C-2557',
      stopped: true,
    })
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(fault?.id)
    expect((res.body.details.ticket as { calls: unknown[] }).calls).toEqual([
      {
        at: '2026-11-17T12:00:00.000Z',
        by: 'anonymous',
        description: 'The printer in sales shows C-2557',
        stopped: true,
      },
    ])
    expect(await actions(service.http, '?type=service-request&deviceId=FAULTY')).toEqual([])
  })

  it('blocks a call on a device whose contract is suspended', async () => {
    const res = await post('/devices/SUSP/service-requests', {
      description: 'Paper jam in tray 2',
      stopped: true,
    })
    expect(res.status).toBe(201)
    expect(res.body.details.blocked).toMatchObject({ code: 'contract-suspended' })
    expect((res.body.details.ticket as { dueDates: unknown }).dueDates).toEqual({})
    const ack = await post<{ message: string }>(`/actions/${res.body.id}/ack`)
    expect(ack.status).toBe(400)
    expect(ack.body.message).toMatch(/suspended/)
  })

  let manual: Action

  it('takes an order for a printer nobody monitors, with its expected delivery and delivery steps', async () => {
    // Tuesday 17 November, 12:00 is an afternoon: 3 working days, at the end of Friday's working day.
    const res = await post('/devices/MANUAL/orders', {
      item: 'toner',
      color: 'black',
      quantity: 1,
      reason: 'The panel asks for black toner',
    })
    expect(res.status).toBe(201)
    manual = res.body
    expect(manual).toMatchObject({
      type: 'reorder',
      deviceId: 'MANUAL',
      status: 'open',
      rule: 'order-request',
    })
    expect(manual.details).toMatchObject({
      color: 'black',
      quantity: 1,
      reason: 'The panel asks for black toner',
      extra: false,
      monitored: false,
      label: 'SCM-3012',
      location: 'Floor 5',
      expectedDelivery: '2026-11-20T18:00:00.000Z',
      delivery: { step: 'ordered', ordered: { at: '2026-11-17T12:00:00.000Z' } },
    })
    const shipped = await post(`/actions/${manual.id}/delivery`, {
      step: 'shipped',
      carrier: 'BRT',
      trackingNumber: '0987654321',
    })
    expect(shipped.status).toBe(200)
    const delivered = await post(`/actions/${manual.id}/delivery`, { step: 'delivered' })
    expect((delivered.body.details.delivery as { step: string }).step).toBe('delivered')
    // Nothing shows it fitted on a printer that reports nothing: it stays until a person says so.
    await heartbeat('2026-11-18T09:00:00Z')
    expect((await action(manual.id)).status).toBe('open')
    expect((await post(`/actions/${manual.id}/resolve`)).body.status).toBe('resolved')
  })

  it('takes an order for a silent printer, resolved when its new cartridge is seen', async () => {
    const res = await post('/devices/SILENT/orders', {
      item: 'toner',
      color: 'black',
      quantity: 1,
      reason: 'low',
    })
    expect(res.status).toBe(201)
    expect(res.body.details.monitored).toBe(false)
    await post(`/actions/${res.body.id}/delivery`, { step: 'shipped', carrier: 'BRT', trackingNumber: '1' })
    await post(`/actions/${res.body.id}/delivery`, { step: 'delivered' })
    // The printer is back, with a new black cartridge (35 → 100).
    await send([reading('SILENT', '2026-11-18T10:00:00Z', { toner: CMYK(100) })])
    expect((await action(res.body.id)).status).toBe('resolved')
  })

  let reorder: Action

  it('refuses a second order for a colour with an open reorder, naming it, and takes it as an extra', async () => {
    await heartbeat('2026-11-18T11:00:00Z', { WATCHED: { toner: CMYK(15) }, JAMMED: { status: 'stopped' } })
    ;[reorder] = (await actions(service.http, '?type=reorder&deviceId=WATCHED')) as [Action]
    expect(reorder.rule).toBe('toner-reorder')
    const before = await actions(service.http)
    const second = await post<{ message: string }>('/devices/WATCHED/orders', {
      item: 'toner',
      color: 'black',
      quantity: 1,
      reason: 'we are almost out',
    })
    expect(second.status).toBe(400)
    expect(second.body.message).toContain(reorder.id)
    expect(await actions(service.http)).toEqual(before)
    const extra = await post('/devices/WATCHED/orders', {
      item: 'toner',
      color: 'black',
      quantity: 2,
      reason: 'a spare for the shelf',
      extra: true,
    })
    expect(extra.status).toBe(201)
    expect(extra.body.details).toMatchObject({ extra: true, quantity: 2, monitored: true })
    const stock = await getJson<{ items: { color: string; shipped: number; extra: number }[] }>(
      `${service.http}/sites/roma/stock`,
    )
    // The site's black cartridges sent: SILENT's, MANUAL's, the reorder and the 2 extras.
    expect(stock.body.items.find((i) => i.color === 'black')).toMatchObject({ shipped: 5, extra: 2 })
  })

  it('cancels an order not yet shipped: resolved as cancelled, by whom and why, and in no stock', async () => {
    const cyan = await post('/devices/WATCHED/orders', {
      item: 'toner',
      color: 'cyan',
      quantity: 1,
      reason: 'streaks',
    })
    expect(cyan.status).toBe(201)
    const cancelled = await post(`/actions/${cyan.body.id}/cancel`, { reason: 'ordered by mistake' })
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.status).toBe('resolved')
    expect(cancelled.body.details).toMatchObject({
      resolution: 'cancelled',
      cancelled: { at: '2026-11-18T11:00:00.000Z', by: 'anonymous', reason: 'ordered by mistake' },
    })
    await waitFor(
      () => (messagesOf(cyan.body.id).some((m) => m.status === 'resolved') ? true : undefined),
      10_000,
      'the cancelled order on MQTT',
    )
    const stock = await getJson<{ items: { color: string; shipped: number }[] }>(
      `${service.http}/sites/roma/stock`,
    )
    expect(stock.body.items.find((i) => i.color === 'cyan')).toBeUndefined()
    // A cancelled order's cartridge is not estimated from either.
    const billing = await getJson<{ cartridges?: Record<string, number> }>(
      `${service.http}/devices/WATCHED/billing?period=2026-11`,
    )
    expect(billing.body.cartridges ?? {}).not.toHaveProperty('cyan')
  })

  it('refuses to cancel an order once it is shipped, and changes nothing', async () => {
    await post(`/actions/${reorder.id}/delivery`, { step: 'shipped', carrier: 'GLS', trackingNumber: 'X1' })
    const before = await action(reorder.id)
    const res = await post<{ message: string }>(`/actions/${reorder.id}/cancel`, { reason: 'too late' })
    expect(res.status).toBe(400)
    expect(res.body.message).toMatch(/shipped/)
    expect(await action(reorder.id)).toEqual(before)
  })

  it("names the ready devices of a stopped device's site that do its work, nearest office first", async () => {
    // Wednesday 18 November, 12:00: DOWN (colour, accounting, floor 2) stops with a fuser error.
    // JAMMED (same office) is stopped too, MONO prints black only, ELSEWHERE is at another site,
    // SILENT reported 2 hours ago and is ready, CALL and FAULTY have faults.
    await heartbeat('2026-11-18T12:00:00Z', {
      DOWN: { status: 'error', errors: FUSER },
      JAMMED: { status: 'stopped' },
      CALL: { status: 'error', errors: FUSER },
      FAULTY: { status: 'error', errors: FUSER },
    })
    const [fault] = await actions(service.http, '?type=fault&deviceId=DOWN')
    expect(fault).toBeDefined()
    const names = ((fault as Action).details.alternatives as { deviceId: string; location: string }[]).map(
      (a) => [a.deviceId, a.location],
    )
    expect(names).toEqual([
      ['NEAR', 'Floor 2, accounting'],
      ['SILENT', 'Floor 2, accounting'],
      ['UP1', 'Floor 1, reception'],
      ['UP3', 'Floor 3, sales'],
      ['SUSP', 'Floor 4'],
      ['WATCHED', 'Floor 4'],
    ])
  })
})
