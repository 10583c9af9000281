/**
 * The rows of CONTRACT.md that the main walk-through leaves out: late readings, duplicates by seq
 * alone and by ts alone, waste box percentages, heartbeats, devices with no birth, GET /rules, and
 * the options read from PRINTWARDEN_* environment variables.
 */
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

const now = Date.now()
const t = (hoursAgo: number) => iso(now - hoursAgo * HOUR)

interface Stats {
  ingest: { duplicates: number; readingsStored: number; rejected: Record<string, number> }
  processing: { lateReadings: number }
}

describe('contract rows, against a service configured through the environment', () => {
  const data = tempDir()
  let service: ServiceProcess
  let client: MqttClient
  const stats = async () => (await getJson<Stats>(`${service.http}/stats`)).body

  beforeAll(async () => {
    service = await startServiceProcess({
      dataDir: data.path,
      portsFromEnv: true,
      env: {
        PRINTWARDEN_MQTT_PORT: '0',
        PRINTWARDEN_WS_PORT: '0',
        PRINTWARDEN_HTTP_PORT: '0',
        PRINTWARDEN_TOPIC_ROOT: 'acme/v1',
        PRINTWARDEN_SWEEP_INTERVAL: '200ms',
      },
    })
    client = await connect(service.mqttUrl)
  })
  afterAll(async () => {
    await client?.endAsync()
    if (service) await kill9(service)
    data.remove()
  })

  const on = (device: string, reading: unknown) => {
    const m = telemetry('rows', device, reading)
    return { ...m, topic: m.topic.replace('fleet/v1', 'acme/v1') }
  }

  it('takes the topic root and the ports from PRINTWARDEN_* variables, and logs the ports it took', async () => {
    const running = service.logs.find((l) => l.msg === 'printwarden is running')
    expect(running).toMatchObject({
      mqttPort: expect.any(Number),
      httpPort: expect.any(Number),
      wsPort: expect.any(Number),
    })
    expect(running?.mqttPort).not.toBe(1883)
    await client.publishAsync(
      'fleet/v1/rows/ROW-0/telemetry',
      JSON.stringify({ ts: t(1), status: 'ready' }),
      { qos: 1 },
    )
    expect((await stats()).ingest.rejected['unknown-topic']).toBe(1)
  })

  it('stores late readings at their own time, and decides nothing on them', async () => {
    // Live readings first, then a gateway replays older ones it had buffered, with a low level.
    await publishAll(client, [
      on('ROW-LATE', { ts: t(2), toner: { black: 80 } }),
      on('ROW-LATE', { ts: t(1), toner: { black: 78 } }),
    ])
    await publishAll(client, [
      on('ROW-LATE', [
        { ts: t(30), toner: { black: 12 } },
        { ts: t(20), toner: { black: 90 } },
        { ts: t(10), toner: { black: 85 } },
      ]),
    ])
    await settled(service.http)
    const { body } = await getJson<{ items: { ts: string; toner: { black: number } }[] }>(
      `${service.http}/devices/ROW-LATE/readings`,
    )
    expect(body.items.map((r) => [r.ts, r.toner.black])).toEqual([
      [t(30), 12],
      [t(20), 90],
      [t(10), 85],
      [t(2), 80],
      [t(1), 78],
    ])
    expect(await actions(service.http, '?deviceId=ROW-LATE')).toEqual([])
    expect((await stats()).processing.lateReadings).toBe(3)
    expect((await getJson<{ toner: unknown }>(`${service.http}/devices/ROW-LATE`)).body.toner).toEqual({
      black: 78,
    })
  })

  it('drops a duplicate by device and seq alone, and by device and ts alone', async () => {
    const before = await stats()
    await publishAll(client, [
      on('ROW-DUP', { ts: t(5), seq: 7, toner: { black: 50 } }),
      on('ROW-DUP', { ts: t(4), seq: 7, toner: { black: 10 } }), // same seq, another time
      on('ROW-DUP', { ts: t(5), seq: 8, toner: { black: 10 } }), // same time, another seq
      on('ROW-DUP', { ts: t(3), toner: { black: 49 } }),
    ])
    await settled(service.http)
    const after = await stats()
    expect(after.ingest.duplicates - before.ingest.duplicates).toBe(2)
    expect(after.ingest.readingsStored - before.ingest.readingsStored).toBe(2)
    expect(await actions(service.http, '?deviceId=ROW-DUP')).toEqual([])
  })

  it('orders a waste box at a fill of 90% and over, and sees a new box only under 50%', async () => {
    await publishAll(client, [
      on('ROW-WASTE', { ts: t(9), wasteBox: 92 }),
      on('ROW-WASTE', { ts: t(8), wasteBox: 70 }),
    ])
    await settled(service.http)
    expect(
      (await actions(service.http, '?deviceId=ROW-WASTE')).map((a) => [a.type, a.status, a.details]),
    ).toEqual([['waste-box', 'open', expect.objectContaining({ fill: 92, delivery: expect.any(Object) })]])
    await publishAll(client, [
      on('ROW-WASTE', { ts: t(7), wasteBox: 95 }),
      on('ROW-WASTE', { ts: t(6), wasteBox: 30 }),
    ])
    await settled(service.http)
    expect((await actions(service.http, '?deviceId=ROW-WASTE')).map((a) => a.status)).toEqual(['resolved'])
  })

  it('tracks a device that sent no birth, with its vendor unknown, and takes a heartbeat of ts and seq alone', async () => {
    await publishAll(client, [on('ROW-NOBIRTH', { ts: t(24 * 7), seq: 1 })])
    const chase = await waitFor(
      async () => (await actions(service.http, '?deviceId=ROW-NOBIRTH&type=missed-reading'))[0],
      10_000,
      'a missed reading',
    )
    const { body } = await getJson<Record<string, unknown>>(`${service.http}/devices/ROW-NOBIRTH`)
    expect(body.vendor).toBeUndefined()
    expect(body.lastReadingAt).toBe(t(24 * 7))
    await publishAll(client, [on('ROW-NOBIRTH', { ts: t(0.1), seq: 2 })])
    await settled(service.http)
    expect((await getJson<{ status: string }>(`${service.http}/actions/${chase.id}`)).body.status).toBe(
      'resolved',
    )
  })

  it('lists the rules it runs on GET /rules', async () => {
    const { body } = await getJson<{
      rules: { name: string; file: string; event: { type: string } }[]
      failures: unknown[]
    }>(`${service.http}/rules`)
    expect(body.failures).toEqual([])
    // The four action types of the contract, among those of the shipped rule files.
    expect(body.rules.map((r) => r.event.type)).toEqual(
      expect.arrayContaining(['fault', 'missed-reading', 'reorder', 'waste-box']),
    )
  })

  it('reads empty filters as no filter, and answers 404 for an unknown id of any length', async () => {
    const all = await actions(service.http)
    expect(await actions(service.http, '?type=&deviceId=&siteId=&status=')).toEqual(all)
    expect((await getJson(`${service.http}/actions/${'x'.repeat(100)}`)).status).toBe(404)
  })
})
