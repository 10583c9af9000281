/**
 * Odd values and refusals that used to be invisible, against the real service: retained telemetry,
 * topic names the broker refuses, request bodies of the wrong type, and limits beyond 10,000. Each
 * refusal is counted by its reason in /stats and logged; the valid readings around it are all kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

const start = Date.UTC(2026, 10, 4)
let n = 0
const valid = () => telemetry('odd-site', 'ODD-1', { ts: iso(start + n++ * 60_000), status: 'ready' })

interface Stats {
  ingest: { rejected: Record<string, number>; readingsStored: number }
}

describe('odd values against the running service', () => {
  const data = tempDir()
  let service: ServiceProcess
  const rejected = async (reason: string) =>
    (await getJson<Stats>(`${service.http}/stats`)).body.ingest.rejected[reason]
  const logged = (reason: string) =>
    service.logs.filter((l) => l.msg === 'message rejected' && l.reason === reason)

  beforeAll(async () => {
    service = await startServiceProcess({ dataDir: data.path })
  })
  afterAll(async () => {
    await kill9(service)
    data.remove()
  })

  it('refuses a retained telemetry message, counts and logs it, and a later subscriber gets no copy of it', async () => {
    const client = await connect(service.mqttUrl)
    const reading = valid()
    await publishAll(client, [valid()])
    await client.publishAsync(reading.topic, reading.payload, { qos: 1, retain: true })
    await publishAll(client, [valid()])
    expect(await rejected('retained-telemetry')).toBe(1)
    expect(logged('retained-telemetry')[0]).toMatchObject({ topic: reading.topic })
    // A subscriber that comes later gets the retained messages of the topic at once, if any: none.
    const later = await connect(service.mqttUrl)
    const got: string[] = []
    later.on('message', (topic) => got.push(topic))
    await later.subscribeAsync('fleet/v1/odd-site/ODD-1/#', { qos: 1 })
    // A message published after the subscription arrives after any retained one would have.
    const marker = 'fleet/v1/odd-site/ODD-1/birth'
    await client.publishAsync(marker, JSON.stringify({ vendor: 'HP' }), { qos: 1 })
    await waitFor(() => (got.includes(marker) ? true : undefined), 10_000, 'the marker to arrive')
    expect(got).toEqual([marker])
    await settled(service.http)
    const { body } = await getJson<{ items: unknown[] }>(`${service.http}/devices/ODD-1/readings`)
    expect(body.items).toHaveLength(2)
    await client.endAsync()
    await later.endAsync()
  })

  it('counts and logs a topic name with + or #, or deeper than 100 levels, which the broker refuses by closing the connection', async () => {
    const before = (await rejected('bad-topic-name')) ?? 0
    const topics = [
      'fleet/v1/odd-site/+/telemetry',
      'fleet/v1/odd-site/ODD-1/#',
      `fleet/v1/${'x/'.repeat(100)}telemetry`,
    ]
    for (const topic of topics) {
      const client = await connect(service.mqttUrl)
      client.on('error', () => {})
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
      // mqtt.js checks only its own side; the stream carries what the broker must refuse.
      client.stream.write(publishPacket(topic, '{}'))
      await closed
      client.end(true)
    }
    await waitFor(
      async () => ((await rejected('bad-topic-name')) === before + 3 ? true : undefined),
      10_000,
      'three bad-topic-name refusals in /stats',
    )
    // The log lines come through the service's stdout, a little after the counters.
    const lines = await waitFor(
      () => (logged('bad-topic-name').length >= 3 ? logged('bad-topic-name') : undefined),
      10_000,
      'three bad-topic-name log lines',
    )
    expect(lines.map((l) => l.detail)).toEqual([
      '+ is not allowed in PUBLISH',
      '# is not allowed in PUBLISH',
      'topic has too many levels',
    ])
    // The service goes on: a valid reading after them is stored.
    const client = await connect(service.mqttUrl)
    await publishAll(client, [valid()])
    await client.endAsync()
  })

  it('answers 400 to a body whose field has the wrong type, rather than storing it converted', async () => {
    const res = await fetch(`${service.http}/sites/odd-site`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contact: 5 }),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { message: string }).message).toContain('contact')
    const ok = await fetch(`${service.http}/sites/odd-site`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contact: 'fleet@example.com' }),
    })
    expect(ok.status).toBe(200)
  })

  it('answers 400 to a limit beyond 10,000, 200 to 10,000, and every action without a limit', async () => {
    expect((await getJson(`${service.http}/actions?limit=99999999999999999999`)).status).toBe(400)
    expect((await getJson(`${service.http}/actions?limit=10001`)).status).toBe(400)
    expect((await getJson(`${service.http}/devices/ODD-1/readings?limit=10001`)).status).toBe(400)
    expect((await getJson(`${service.http}/actions?limit=10000`)).status).toBe(200)
    expect((await getJson(`${service.http}/actions?limit=5`)).status).toBe(200)
    expect((await getJson(`${service.http}/actions`)).status).toBe(200)
  })
})

/** A raw MQTT 3.1.1 PUBLISH at QoS 0 (MQTT-3.3): what a broken gateway could send. */
function publishPacket(topic: string, payload: string): Buffer {
  const t = Buffer.from(topic)
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, Buffer.from(payload)])
  const length: number[] = []
  let x = body.length
  do {
    let byte = x % 128
    x = Math.floor(x / 128)
    if (x > 0) byte |= 0x80
    length.push(byte)
  } while (x > 0)
  return Buffer.concat([Buffer.from([0x30, ...length]), body])
}
