/**
 * Bad input of every kind in CONTRACT.md is rejected and counted by reason, and the valid readings
 * sent before and after each one are all processed, on the same connection.
 */

import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RejectReasons } from '../../src/errors.ts'
import { actions, connect, HOUR, iso, settled, telemetry } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

const base = Date.now() - 2 * HOUR
let n = 0
/** A valid reading of the same device, one minute after the previous one. */
const valid = () => telemetry('bad-site', 'BAD-1', { ts: iso(base + n++ * 60_000), toner: { black: 50 - n } })

const bad: {
  what: string
  topic: string
  payload: string | Buffer
  reason: (typeof RejectReasons)[number]
}[] = [
  { what: 'not JSON', topic: 'fleet/v1/bad-site/BAD-1/telemetry', payload: '{"ts": ', reason: 'not-json' },
  {
    what: 'wrong types',
    topic: 'fleet/v1/bad-site/BAD-1/telemetry',
    payload: JSON.stringify({ ts: iso(base), toner: { black: 'low' } }),
    reason: 'invalid-payload',
  },
  {
    what: 'a level above 100',
    topic: 'fleet/v1/bad-site/BAD-1/telemetry',
    payload: JSON.stringify({ ts: iso(base), toner: { black: 101 } }),
    reason: 'invalid-payload',
  },
  {
    what: 'a negative counter',
    topic: 'fleet/v1/bad-site/BAD-1/telemetry',
    payload: JSON.stringify({ ts: iso(base), counters: { total: -5 } }),
    reason: 'invalid-payload',
  },
  {
    what: 'a timestamp an hour ahead',
    topic: 'fleet/v1/bad-site/BAD-1/telemetry',
    payload: JSON.stringify({ ts: iso(Date.now() + HOUR), status: 'ready' }),
    reason: 'future-timestamp',
  },
  {
    what: 'an unknown topic',
    topic: 'fleet/v1/bad-site/BAD-1/telemetry/extra',
    payload: JSON.stringify({ ts: iso(base), status: 'ready' }),
    reason: 'unknown-topic',
  },
  { what: 'another root', topic: 'printers/BAD-1', payload: '{}', reason: 'unknown-topic' },
  {
    what: 'a 1 MiB payload',
    topic: 'fleet/v1/bad-site/BAD-1/telemetry',
    payload: Buffer.alloc(1024 * 1024, 0x20),
    reason: 'too-large',
  },
  {
    what: 'a publish on the actions topic',
    topic: 'fleet/v1/bad-site/BAD-1/actions',
    payload: '{}',
    reason: 'read-only-topic',
  },
  {
    what: 'a bad birth',
    topic: 'fleet/v1/bad-site/BAD-1/birth',
    payload: JSON.stringify({ vendor: 42 }),
    reason: 'invalid-payload',
  },
]

describe('bad input', () => {
  const data = tempDir()
  let service: ServiceProcess
  let client: MqttClient
  let closes = 0

  beforeAll(async () => {
    service = await startServiceProcess({ dataDir: data.path })
    client = await connect(service.mqttUrl)
    client.on('close', () => closes++)
  })
  afterAll(async () => {
    await client?.endAsync()
    if (service) await kill9(service)
    data.remove()
  })

  it('rejects each kind with its reason, and processes every valid reading before and after it', async () => {
    const first = valid()
    const sentValid = [first]
    await client.publishAsync(first.topic, first.payload, { qos: 1 })
    for (const b of bad) {
      await client.publishAsync(b.topic, b.payload, { qos: 1 })
      const next = valid()
      sentValid.push(next)
      await client.publishAsync(next.topic, next.payload, { qos: 0 })
    }
    await settled(service.http)
    expect(closes).toBe(0)

    const { body: stats } = await getJson<{
      ingest: { rejected: Record<string, number>; rejectedTotal: number; readingsStored: number }
    }>(`${service.http}/stats`)
    const expected: Record<string, number> = Object.fromEntries(RejectReasons.map((r) => [r, 0]))
    for (const b of bad) expected[b.reason] = (expected[b.reason] ?? 0) + 1
    expect(stats.ingest.rejected).toEqual(expected)
    expect(stats.ingest.rejectedTotal).toBe(bad.length)
    expect(stats.ingest.readingsStored).toBe(sentValid.length)

    const { body } = await getJson<{ items: { toner: { black: number } }[] }>(
      `${service.http}/devices/BAD-1/readings`,
    )
    expect(body.items.map((r) => r.toner.black)).toEqual(
      sentValid.map((m) => JSON.parse(m.payload).toner.black),
    )
    const logged = service.logs.filter((l) => l.msg === 'message rejected')
    expect(logged).toHaveLength(bad.length)
    expect(logged.every((l) => typeof l.topic === 'string' && typeof l.reason === 'string')).toBe(true)
  })

  it('never forwards or retains a rejected message', async () => {
    const listener = await connect(service.mqttUrl)
    const seen: string[] = []
    listener.on('message', (topic) => seen.push(topic))
    await listener.subscribeAsync('fleet/v1/#', { qos: 1 })
    await client.publishAsync('fleet/v1/bad-site/BAD-2/birth', '{not json', { qos: 1, retain: true })
    const good = valid()
    await client.publishAsync(good.topic, good.payload, { qos: 1 })
    // Messages of one publisher are forwarded in order: once the good one is here, the rejected
    // one before it would have been too.
    await waitFor(() => (seen.includes(good.topic) ? true : undefined), 10_000, 'the good reading')
    expect(seen).toEqual([good.topic])
    await listener.endAsync()

    const late = await connect(service.mqttUrl)
    const retained: string[] = []
    late.on('message', (topic) => retained.push(topic))
    await late.subscribeAsync('fleet/v1/bad-site/+/birth', { qos: 1 })
    // Retained messages come with the subscription, before anything published after it.
    const marker = 'fleet/v1/bad-site/BAD-3/birth'
    await client.publishAsync(marker, JSON.stringify({ vendor: 'HP' }), { qos: 1 })
    await waitFor(() => (retained.includes(marker) ? true : undefined), 10_000, 'the marker birth')
    expect(retained).toEqual([marker])
    await late.endAsync()
    expect(await actions(service.http, '?deviceId=BAD-2')).toEqual([])
  })
})
