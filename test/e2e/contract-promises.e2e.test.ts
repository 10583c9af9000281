/**
 * Promises of CONTRACT.md that the other end-to-end suites leave unchecked: the actions topic's
 * QoS and addressing, the action object's shape, rejected messages reaching no rule, duplicates per
 * device, one action per silence and per error code, one message per status change, retained
 * births, and the API's 404s. The real service as a child process, a real MQTT client over TCP.
 */
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import { actions, connect, HOUR, iso, publishAll, settled, sweepsPass, telemetry } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

const DAY = 24 * HOUR
const now = Date.now()
const fuser = { code: 'C-2557', severity: 'critical', text: 'Fuser error' }
const laser = { code: 'C-6000', severity: 'critical' }

interface Received {
  topic: string
  qos: number
  action: Action
}

describe('contract promises, end to end', () => {
  const data = tempDir()
  let service: ServiceProcess
  let client: MqttClient
  let watcher: MqttClient
  const received: Received[] = []
  const start = () => startServiceProcess({ dataDir: data.path, extra: ['--sweep-interval', '200ms'] })

  beforeAll(async () => {
    service = await start()
    client = await connect(service.mqttUrl)
    watcher = await connect(service.mqttUrl)
    watcher.on('message', (topic, payload, packet) =>
      received.push({ topic, qos: packet.qos, action: JSON.parse(payload.toString()) as Action }),
    )
    await watcher.subscribeAsync('fleet/v1/+/+/actions', { qos: 1 })
  })
  afterAll(async () => {
    await client?.endAsync(true)
    await watcher?.endAsync(true)
    if (service) await kill9(service)
    data.remove()
  })

  const messagesOf = (id: string) => received.filter((m) => m.action.id === id)

  it('publishes each action at QoS 1 on the topic of its own site and device, in the shape of the API', async () => {
    await publishAll(client, [telemetry('shape-site', 'SHAPE-1', { ts: iso(now), toner: { black: 12 } })])
    await settled(service.http)
    const [order] = await actions(service.http, '?deviceId=SHAPE-1')
    expect(order).toBeDefined()
    expect(Object.keys(order as Action).sort()).toEqual(
      ['createdAt', 'details', 'deviceId', 'id', 'rule', 'siteId', 'status', 'type', 'updatedAt'].sort(),
    )
    expect(order).toMatchObject({
      type: 'reorder',
      deviceId: 'SHAPE-1',
      siteId: 'shape-site',
      status: 'open',
    })
    for (const t of [order?.createdAt, order?.updatedAt]) expect(new Date(t as string).toISOString()).toBe(t)
    await waitFor(
      async () => (messagesOf(order?.id as string).length > 0 ? true : undefined),
      5000,
      'its message',
    )
    const [message] = messagesOf(order?.id as string)
    expect(message?.qos).toBe(1)
    expect(message?.topic).toBe('fleet/v1/shape-site/SHAPE-1/actions')
    expect(message?.action).toEqual(order)
  })

  it('sends exactly one message for each status change a person makes, and answers 200 with the action', async () => {
    const [order] = await actions(service.http, '?deviceId=SHAPE-1')
    const id = order?.id as string
    const ack = await fetch(`${service.http}/actions/${id}/ack`, { method: 'POST' })
    expect(ack.status).toBe(200)
    expect(((await ack.json()) as Action).status).toBe('acknowledged')
    const resolve = await fetch(`${service.http}/actions/${id}/resolve`, { method: 'POST' })
    expect(resolve.status).toBe(200)
    expect(((await resolve.json()) as Action).status).toBe('resolved')
    await waitFor(async () => (messagesOf(id).length >= 3 ? true : undefined), 5000, 'three messages')
    // A later change goes out through the same outbox, in order: once its message is here, any
    // message of this action that should not come would have come before it.
    await publishAll(client, [
      telemetry('shape-site', 'WITNESS-1', { ts: iso(now - HOUR), toner: { black: 5 } }),
    ])
    const witness = await waitFor(
      async () => (await actions(service.http, '?deviceId=WITNESS-1'))[0],
      5000,
      'the witness order',
    )
    await waitFor(async () => (messagesOf(witness.id).length > 0 ? true : undefined), 5000, 'its message')
    expect(messagesOf(id).map((m) => m.action.status)).toEqual(['open', 'acknowledged', 'resolved'])
  })

  it('lets no rejected message reach a rule, and takes the good one after it', async () => {
    await publishAll(client, [
      // Both would order toner if they were taken.
      telemetry('bad-site', 'BAD-1', { ts: iso(now + HOUR), toner: { black: 5 } }),
      telemetry('bad-site', 'BAD-2', { ts: iso(now), toner: { black: 5, cyan: 'x' } }),
      telemetry('bad-site', 'GOOD-1', { ts: iso(now), toner: { black: 5 } }),
    ])
    await settled(service.http)
    const bySite = await actions(service.http, '?siteId=bad-site')
    expect(bySite.map((a) => [a.deviceId, a.type])).toEqual([['GOOD-1', 'reorder']])
    // Each is logged with its own topic and reason.
    const logged = service.logs.filter((l) => l.msg === 'message rejected')
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          topic: 'fleet/v1/bad-site/BAD-1/telemetry',
          reason: 'future-timestamp',
        }),
        expect.objectContaining({ topic: 'fleet/v1/bad-site/BAD-2/telemetry', reason: 'invalid-payload' }),
      ]),
    )
  })

  it('drops a duplicate seq only on the same device: another device may use the same seq', async () => {
    await publishAll(client, [
      telemetry('seq-site', 'SEQ-1', { ts: iso(now - 2 * HOUR), seq: 7, status: 'ready' }),
      telemetry('seq-site', 'SEQ-2', { ts: iso(now - 2 * HOUR), seq: 7, status: 'ready' }),
      telemetry('seq-site', 'SEQ-1', { ts: iso(now - HOUR), seq: 7, status: 'printing' }),
    ])
    await settled(service.http)
    const count = async (device: string) =>
      (await getJson<{ items: unknown[] }>(`${service.http}/devices/${device}/readings`)).body.items.length
    expect([await count('SEQ-1'), await count('SEQ-2')]).toEqual([1, 1])
  })

  it('opens one fault per device and error code: two codes at once, and one code on two devices', async () => {
    await publishAll(client, [
      telemetry('fault-site', 'FLT-1', { ts: iso(now - 3 * HOUR), errors: [fuser, laser] }),
      telemetry('fault-site', 'FLT-2', { ts: iso(now - 3 * HOUR), errors: [fuser] }),
      telemetry('fault-site', 'FLT-1', { ts: iso(now - 2 * HOUR), errors: [fuser, laser] }),
    ])
    await settled(service.http)
    const faults = await actions(service.http, '?type=fault&siteId=fault-site')
    expect(faults.map((a) => `${a.deviceId} ${a.details.code}`).sort()).toEqual([
      'FLT-1 C-2557',
      'FLT-1 C-6000',
      'FLT-2 C-2557',
    ])
  })

  it('chases each silence once: a device silent again after it resumed gets a second missed-reading', async () => {
    await publishAll(client, [
      telemetry('quiet-site', 'QUIET-1', { ts: iso(now - 12 * DAY), status: 'ready' }),
    ])
    const missed = async () => actions(service.http, '?type=missed-reading&deviceId=QUIET-1')
    await waitFor(async () => ((await missed()).length === 1 ? true : undefined), 10_000, 'the first silence')
    // It speaks again six days ago: the first silence is over, and a second one has begun.
    await publishAll(client, [
      telemetry('quiet-site', 'QUIET-1', { ts: iso(now - 6 * DAY), status: 'ready' }),
    ])
    await waitFor(
      async () => ((await missed()).length === 2 ? true : undefined),
      10_000,
      'the second silence',
    )
    await sweepsPass(service.http, 3)
    const both = await missed()
    expect(both.map((a) => a.status).sort()).toEqual(['open', 'resolved'])
  })

  it('answers 404 for an unknown action to resolve, and for the readings of an unknown device', async () => {
    const resolve = await fetch(`${service.http}/actions/no-such-action/resolve`, { method: 'POST' })
    expect(resolve.status).toBe(404)
    expect(((await resolve.json()) as { message: string }).message).toMatch(/no-such-action/)
    expect((await getJson(`${service.http}/devices/NO-SUCH-DEVICE/readings`)).status).toBe(404)
  })

  it('keeps a birth retained for later subscribers, and knows the vendor after a restart without it being sent again', async () => {
    const birth = { vendor: 'Kyocera', model: 'TASKalfa 2554ci' }
    await publishAll(
      client,
      [{ topic: 'fleet/v1/birth-site/BIRTH-1/birth', payload: JSON.stringify(birth) }],
      true,
    )
    await publishAll(client, [telemetry('birth-site', 'BIRTH-1', { ts: iso(now), status: 'ready' })])
    const late = await connect(service.mqttUrl)
    const retained = new Promise<string>((resolve) => late.on('message', (_t, p) => resolve(p.toString())))
    await late.subscribeAsync('fleet/v1/birth-site/BIRTH-1/birth', { qos: 1 })
    expect(JSON.parse(await retained)).toEqual(birth)
    await late.endAsync(true)
    await settled(service.http)
    await client.endAsync(true)
    await watcher.endAsync(true)
    await kill9(service)
    service = await start()
    client = await connect(service.mqttUrl)
    watcher = await connect(service.mqttUrl)
    expect((await getJson<{ vendor?: string }>(`${service.http}/devices/BIRTH-1`)).body.vendor).toBe(
      'Kyocera',
    )
  })
})
