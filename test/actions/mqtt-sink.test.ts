/**
 * The MQTT action sink behind the real outbox relay, over a real SQLite store and the real aedes
 * broker, with an mqtt.js subscriber: its sends are pipelined, and the order holds.
 */
import { connectAsync } from 'mqtt'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { mqttActionSink } from '../../src/actions/mqtt-sink.ts'
import { type ActionSink, OutboxRelay } from '../../src/actions/outbox-relay.ts'
import { Broker } from '../../src/broker/broker.ts'
import type { Action } from '../../src/contract/schemas.ts'
import type { ActionCandidate } from '../../src/domain/ledger.ts'
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { waitFor } from '../helpers/service-process.ts'
import { tempStore } from '../helpers/store.ts'

const T0 = Date.UTC(2026, 10, 20, 8)
const silent = pino({ level: 'silent' })
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** `n` reorders, each of its own device, created in one commit as the processor does. */
async function createOrders(store: SqliteStore, n: number): Promise<void> {
  const create: ActionCandidate[] = Array.from({ length: n }, (_, i) => ({
    rule: 'toner-reorder',
    type: 'reorder',
    deviceId: `SCM-${String(i).padStart(4, '0')}`,
    siteId: 'milano-hq',
    subject: 'toner:black',
    episode: 'c1',
    details: { color: 'black', level: 19 },
    at: T0,
  }))
  expect(
    await store.commit({ states: [], ledger: { create, resolve: [], resolveAtOnce: new Set() }, at: T0 }),
  ).toBe(n)
}

describe('the MQTT action sink', () => {
  it('publishes a burst of actions on their topics in the order of the outbox', async () => {
    const broker = new Broker({
      log: silent,
      host: '127.0.0.1',
      mqttPort: 0,
      wsPort: -1,
      gate: async () => true,
    })
    await broker.start()
    cleanups.push(() => broker.stop())
    const subscriber = await connectAsync(`mqtt://127.0.0.1:${broker.mqttPort}`, { reconnectPeriod: 0 })
    cleanups.push(() => subscriber.endAsync())
    const received: { topic: string; action: Action }[] = []
    subscriber.on('message', (topic, payload) =>
      received.push({ topic, action: JSON.parse(payload.toString()) as Action }),
    )
    await subscriber.subscribeAsync('fleet/v1/+/+/actions', { qos: 1 })

    const store = await tempStore(cleanups, 'pw-mqtt-sink-')
    const sink = mqttActionSink(broker, 'fleet/v1')
    expect(sink.pipelined).toBe(true)
    const N = 1200 // more than one outbox batch
    await createOrders(store, N)
    const relay = new OutboxRelay(store, [sink], silent)
    await relay.start()
    cleanups.push(() => relay.stop())

    await waitFor(async () => (received.length >= N ? true : undefined), 20_000, 'every action published')
    const devices = received.map((r) => r.action.deviceId)
    expect(devices).toEqual([...devices].sort())
    expect(new Set(devices).size).toBe(N)
    for (const r of received) expect(r.topic).toBe(`fleet/v1/milano-hq/${r.action.deviceId}/actions`)
    await waitFor(
      async () => ((await relay.status())[0]?.pending === 0 ? true : undefined),
      5000,
      'the cursor at the end',
    )
  })

  it('stops a pipelined batch at the first send that fails, and sends from there on the retry', async () => {
    const store = await tempStore(cleanups, 'pw-mqtt-sink-')
    await createOrders(store, 10)
    const seen: string[] = []
    let failed = false
    const sink: ActionSink = {
      name: 'flaky',
      pipelined: true,
      send: async (a) => {
        seen.push(a.deviceId as string)
        // The fifth fails once; the later ones of the batch are sent anyway, and sent again.
        if (a.deviceId === 'SCM-0004' && !failed) {
          failed = true
          throw new Error('the broker said no')
        }
      },
    }
    const relay = new OutboxRelay(store, [sink], silent, { initialMs: 10, maxMs: 10 })
    await relay.start()
    cleanups.push(() => relay.stop())
    await waitFor(
      async () => ((await relay.status())[0]?.pending === 0 ? true : undefined),
      5000,
      'the retry to catch up',
    )
    const ids = Array.from({ length: 10 }, (_, i) => `SCM-${String(i).padStart(4, '0')}`)
    // The first batch in full, then again from the one that failed: at least once, in order.
    expect(seen).toEqual([...ids, ...ids.slice(4)])
    const [status] = await relay.status()
    expect(status).toMatchObject({ failures: 0, failuresTotal: 1 })
  })
})
