/**
 * CONTRACT.md end to end: the real service as a child process, a real MQTT client over TCP, the
 * HTTP API; then kill -9, a restart on the same data directory and a replay of every reading.
 *
 * In event time, from a fixed instant: what the rules decide depends on the calendar (a month's
 * end asks for meter readings, working hours move SLA clocks), so the test's days are its own and
 * never today's.
 */
import { isDeepStrictEqual } from 'node:util'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import {
  actions,
  connect,
  HOUR,
  iso,
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
  stopGracefully,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

const SITE = 'milano-hq'
// A Friday noon in the middle of a month: the whole story (six days) stays within March.
const now = Date.parse('2026-03-20T12:00:00Z')
const t = (hoursAgo: number) => iso(now - hoursAgo * HOUR)
const EVENT_TIME = ['--clock', 'event', '--sweep-interval', '1h']

// One device through every core rule, in time order.
const deviceA: Published[] = [
  { black: 50, cyan: 60 },
  { black: 19 }, // reorder black
  { black: 25 }, // shaken: +6 is the same cartridge
  { black: 18 }, // still the same cartridge: no second order
  { black: 97 }, // new cartridge: the order is resolved
].map((toner, i) => telemetry(SITE, 'SCM-A', { ts: t(48 - i), seq: i, toner }))
const deviceAWaste: Published[] = [
  telemetry(SITE, 'SCM-A', { ts: t(40), seq: 10, wasteBox: 'nearFull' }),
  telemetry(SITE, 'SCM-A', { ts: t(39), seq: 11, wasteBox: 90 }),
  telemetry(SITE, 'SCM-A', { ts: t(38), seq: 12, wasteBox: 'ok' }),
]
const fuser = { code: 'C-2557', severity: 'critical', text: 'Fuser error' }
const deviceAFaults: Published[] = [
  telemetry(SITE, 'SCM-A', { ts: t(30), seq: 20, errors: [fuser], status: 'error' }),
  telemetry(SITE, 'SCM-A', { ts: t(29), seq: 21, errors: [fuser, { code: 'J-1', severity: 'warning' }] }),
  telemetry(SITE, 'SCM-A', { ts: t(28), seq: 22, errors: [], status: 'ready' }),
  telemetry(SITE, 'SCM-A', { ts: t(27), seq: 23, errors: [fuser] }),
]
// A device last heard 6 days ago; then a heartbeat of another device moves event time past its
// fifth day of silence.
const silentB = telemetry(SITE, 'SCM-B', { ts: t(24 * 6), counters: { total: 1000 } })
const heartbeatA = telemetry(SITE, 'SCM-A', { ts: t(20), seq: 30 })
const resumedB = telemetry(SITE, 'SCM-B', { ts: t(1), counters: { total: 1200 } })
// A gateway replaying after an outage: one array, in order.
const replayC = telemetry('torino', 'SCM-C', [
  { ts: t(10), toner: { cyan: 40 } },
  { ts: t(9), toner: { cyan: 10 } },
  { ts: t(8), toner: { cyan: 9 } },
])
const births: Published[] = [
  {
    topic: `fleet/v1/${SITE}/SCM-A/birth`,
    payload: JSON.stringify({ vendor: 'Kyocera', model: 'TASKalfa 2554ci' }),
  },
  { topic: 'fleet/v1/torino/SCM-C/birth', payload: JSON.stringify({ vendor: 'Konica Minolta' }) },
]
const allReadings = [...deviceA, ...deviceAWaste, ...deviceAFaults, silentB, heartbeatA, replayC, resumedB]

const find = (list: Action[], type: string, deviceId: string, extra: (a: Action) => boolean = () => true) =>
  list.filter((a) => a.type === type && a.deviceId === deviceId && extra(a))

describe('the service, end to end', () => {
  const data = tempDir()
  let service: ServiceProcess
  let publisher: MqttClient
  let watcher: Awaited<ReturnType<typeof watchActions>>
  let before: Action[]

  beforeAll(async () => {
    service = await startServiceProcess({ dataDir: data.path, extra: EVENT_TIME })
    publisher = await connect(service.mqttUrl)
    watcher = await watchActions(service.mqttUrl)
  })
  afterAll(async () => {
    await publisher?.endAsync()
    await watcher?.client.endAsync()
    if (service && service.child.exitCode === null) await kill9(service)
    data.remove()
  })

  it('answers GET /health with status ok', async () => {
    expect(await getJson(`${service.http}/health`)).toEqual({ status: 200, body: { status: 'ok' } })
  })

  it('orders toner once per cartridge, and resolves the order when a new cartridge is seen', async () => {
    await publishAll(publisher, births, true)
    await publishAll(publisher, deviceA)
    await settled(service.http)
    const reorders = find(await actions(service.http), 'reorder', 'SCM-A')
    expect(reorders).toHaveLength(1)
    expect(reorders[0]).toMatchObject({
      siteId: SITE,
      rule: 'toner-reorder',
      status: 'resolved',
      details: { color: 'black', level: 19 },
    })
  })

  it('orders a waste box for nearFull, once per box, resolved by a report of ok', async () => {
    await publishAll(publisher, deviceAWaste)
    await settled(service.http)
    const waste = find(await actions(service.http), 'waste-box', 'SCM-A')
    expect(waste).toHaveLength(1)
    expect(waste[0]?.status).toBe('resolved')
  })

  it('opens one fault per error code while it stays active, resolves it when it clears, and opens a new one when it returns', async () => {
    await publishAll(publisher, deviceAFaults)
    await settled(service.http)
    const faults = find(await actions(service.http), 'fault', 'SCM-A')
    expect(faults).toHaveLength(2)
    expect(faults.every((f) => f.details.code === 'C-2557')).toBe(true)
    // newest first
    expect(faults.map((f) => f.status)).toEqual(['open', 'resolved'])
    expect(find(await actions(service.http), 'fault', 'SCM-A', (a) => a.details.code === 'J-1')).toHaveLength(
      0,
    )
  })

  it('chases a device silent for more than 5 days, and resolves the chase when readings resume', async () => {
    await publishAll(publisher, [silentB, heartbeatA])
    await settled(service.http)
    const chase = find(await actions(service.http), 'missed-reading', 'SCM-B')
    expect(chase).toHaveLength(1)
    expect(chase[0]?.status).toBe('open')
    // Found at the first hourly sweep past 120 hours of silence.
    expect(chase[0]?.createdAt).toBe(t(23))
    await publishAll(publisher, [resumedB])
    await settled(service.http)
    const after = find(await actions(service.http), 'missed-reading', 'SCM-B')
    expect(after).toHaveLength(1)
    expect(after[0]?.status).toBe('resolved')
  })

  it('takes a replayed array of readings in order, each at its own time', async () => {
    await publishAll(publisher, [replayC])
    await settled(service.http)
    const reorders = find(await actions(service.http), 'reorder', 'SCM-C')
    expect(reorders).toHaveLength(1)
    expect(reorders[0]?.details).toMatchObject({ color: 'cyan', level: 10, delivery: { step: 'ordered' } })
    const { body } = await getJson<{ items: { ts: string }[] }>(`${service.http}/devices/SCM-C/readings`)
    expect(body.items.map((r) => r.ts)).toEqual([t(10), t(9), t(8)])
  })

  it('publishes one message on the actions topic for each creation and each change, and never one twice', async () => {
    const all = await actions(service.http)
    const sentOf = (id: string) => watcher.messages.filter((m) => m.id === id)
    await waitFor(
      () => (all.every((a) => isDeepStrictEqual(sentOf(a.id).at(-1), a)) ? true : undefined),
      5000,
      'every action message',
    )
    expect(watcher.messages.filter((m) => !all.some((a) => a.id === m.id))).toEqual([])
    for (const a of all) {
      const sent = sentOf(a.id)
      expect(sent[0]?.status).toBe('open')
      expect(sent.at(-1)).toEqual(a)
      // Every status it went through, once each and in order.
      expect([...new Set(sent.map((m) => m.status))]).toEqual(
        a.status === 'resolved' ? ['open', 'resolved'] : ['open'],
      )
      // A message stands for a change: a second one with the same status says something new in its
      // details (a ticket's SLA breach), never the same again.
      const said = sent.map((m) => `${m.status} ${JSON.stringify(m.details)}`)
      expect(new Set(said).size).toBe(said.length)
    }
    // On this timeline the fault still open (since 09:00 Thursday) misses its remote-support and its
    // on-site clocks before Friday: two breaches, two changes of its details, so two messages more
    // than the changes of status.
    const statusChanges = all.reduce((n, a) => n + (a.status === 'resolved' ? 2 : 1), 0)
    expect(watcher.messages).toHaveLength(statusChanges + 2)
    const [fault] = find(all, 'fault', 'SCM-A', (a) => a.status === 'open')
    if (!fault) throw new Error('no open fault')
    expect((fault.details.ticket as { breaches: { clock: string }[] }).breaches.map((b) => b.clock)).toEqual([
      'remoteSupport',
      'onSite',
    ])
  })

  it('filters actions by type, device, site and status', async () => {
    const all = await actions(service.http)
    // The six of the walk-through, and the advisory that the black cartridge was replaced at 18%.
    expect(all.length).toBe(7)
    expect(find(all, 'early-replacement', 'SCM-A')[0]?.details).toMatchObject({
      color: 'black',
      thrownAway: 18,
    })
    const faults = await actions(service.http, '?type=fault')
    expect(faults.map((a) => a.id)).toEqual(all.filter((a) => a.type === 'fault').map((a) => a.id))
    expect(faults.length).toBeGreaterThan(0)
    expect((await actions(service.http, '?siteId=torino')).map((a) => a.deviceId)).toEqual(['SCM-C'])
    expect((await actions(service.http, '?deviceId=SCM-B&status=resolved')).map((a) => a.type)).toEqual([
      'missed-reading',
    ])
    const open = await actions(service.http, '?status=open')
    expect(open.map((a) => a.type).sort()).toEqual(['early-replacement', 'fault', 'reorder'])
    const created = all.map((a) => a.createdAt)
    expect([...created].sort().reverse()).toEqual(created)
  })

  it('moves an action from open to acknowledged to resolved, and announces each change', async () => {
    const [fault] = await actions(service.http, '?type=fault&status=open')
    if (!fault) throw new Error('no open fault')
    const acked = await postJson<Action>(`${service.http}/actions/${fault.id}/ack`)
    expect(acked.status).toBe(200)
    expect(acked.body.status).toBe('acknowledged')
    expect((await getJson<Action>(`${service.http}/actions/${fault.id}`)).body.status).toBe('acknowledged')
    await waitFor(
      () => watcher.messages.find((m) => m.id === fault.id && m.status === 'acknowledged'),
      5000,
      'the ack message',
    )
    const resolved = await postJson<Action>(`${service.http}/actions/${fault.id}/resolve`)
    expect(resolved.body.status).toBe('resolved')
    const again = await postJson<{ error: string; message: string }>(
      `${service.http}/actions/${fault.id}/ack`,
    )
    expect(again.status).toBe(400)
    expect(again.body.message).toMatch(/resolved/)
    // Resolving it again changes nothing and is not an error.
    expect((await postJson<Action>(`${service.http}/actions/${fault.id}/resolve`)).body.updatedAt).toBe(
      resolved.body.updatedAt,
    )
  })

  it('answers 404 for an unknown action or device, and 400 naming the problem for a bad request', async () => {
    expect((await getJson(`${service.http}/actions/no-such-id`)).status).toBe(404)
    expect((await postJson(`${service.http}/actions/no-such-id/ack`)).status).toBe(404)
    expect((await getJson(`${service.http}/devices/NOPE-1`)).status).toBe(404)
    const bad = await getJson<{ message: string }>(`${service.http}/actions?status=closed`)
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/status/)
    const range = await getJson<{ message: string }>(
      `${service.http}/devices/SCM-A/readings?from=${t(1)}&to=${t(2)}`,
    )
    expect(range.status).toBe(400)
    expect(range.body.message).toMatch(/from/)
    expect((await getJson(`${service.http}/devices/SCM-A/readings?from=yesterday`)).status).toBe(400)
  })

  it('shows devices with their latest state and their description', async () => {
    const { body } = await getJson<{ items: Record<string, unknown>[] }>(`${service.http}/devices`)
    expect(body.items.map((d) => d.deviceId)).toEqual(['SCM-A', 'SCM-B', 'SCM-C'])
    const a = (await getJson<Record<string, unknown>>(`${service.http}/devices/SCM-A`)).body
    expect(a).toMatchObject({
      deviceId: 'SCM-A',
      siteId: SITE,
      vendor: 'Kyocera',
      model: 'TASKalfa 2554ci',
      toner: { black: 97, cyan: 60 },
      wasteBox: 'ok',
      status: 'ready',
      lastReadingAt: t(20),
    })
    expect(a.errors).toEqual([{ ...fuser, since: t(27) }])
    const readings = await getJson<{ items: unknown[] }>(
      `${service.http}/devices/SCM-A/readings?from=${t(48)}&to=${t(38)}`,
    )
    expect(readings.body.items).toHaveLength(8)
  })

  it('after kill -9 and a restart on the same data, a replay of every reading creates nothing twice', async () => {
    await settled(service.http)
    before = await actions(service.http)
    await watcher.client.endAsync()
    await publisher.endAsync()
    await kill9(service)

    service = await startServiceProcess({ dataDir: data.path, extra: EVENT_TIME })
    publisher = await connect(service.mqttUrl)
    watcher = await watchActions(service.mqttUrl)
    await publishAll(publisher, births, true)
    await publishAll(publisher, allReadings)
    await settled(service.http)
    const after = await actions(service.http)
    expect(after).toEqual(before)
    expect(watcher.messages).toEqual([])
    const { body } = await getJson<{ ingest: { duplicates: number; readingsStored: number } }>(
      `${service.http}/stats`,
    )
    expect(body.ingest.readingsStored).toBe(0)
    expect(body.ingest.duplicates).toBe(
      allReadings.reduce((n, m) => n + (m.payload.startsWith('[') ? 3 : 1), 0),
    )
  })

  it('stops cleanly on SIGTERM', async () => {
    await publisher.endAsync()
    await watcher.client.endAsync()
    expect(await stopGracefully(service)).toBe(0)
    expect(service.logs.some((l) => l.msg === 'printwarden stopped')).toBe(true)
  })
})
