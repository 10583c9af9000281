/**
 * On topics an account is granted, the embedded broker behaves as a plain MQTT 3.1.1 broker,
 * checked with a real client (mqtt.js); and token changes take effect without a restart.
 */
import { createConnection } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AccountBook } from '../../src/access/accounts.ts'
import { type AccessService, startWithAccounts } from '../helpers/access.ts'
import { waitFor } from '../helpers/service-process.ts'

const str = (v: string) => {
  const b = Buffer.from(v)
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b])
}

/** An MQTT 3.1.1 client written by hand: for what mqtt.js will not do (withhold acks, an empty client ID). */
function rawClient(port: number) {
  const socket = createConnection(port, '127.0.0.1')
  let data = Buffer.alloc(0)
  socket.on('data', (d: Buffer) => {
    data = Buffer.concat([data, d])
  })
  const packet = (first: number, body: Buffer) => Buffer.concat([Buffer.from([first, body.length]), body])
  const until = (what: string, test: () => boolean) => waitFor(() => (test() ? true : undefined), 5000, what)
  return {
    /** CONNECT with CleanSession 0; resolves with the CONNACK's return code. */
    async connect(clientId: string, username: string, password: string): Promise<number> {
      socket.write(
        packet(
          0x10,
          Buffer.concat([
            str('MQTT'),
            Buffer.from([4, 0xc0, 0, 60]),
            str(clientId),
            str(username),
            str(password),
          ]),
        ),
      )
      await until('a CONNACK', () => data.length >= 4)
      return data[3] as number
    },
    async subscribe(topic: string, qos: number): Promise<void> {
      const before = data.length
      socket.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), str(topic), Buffer.from([qos])])))
      await until('a SUBACK', () => data.subarray(before).includes(0x90))
    },
    seen: (text: string) => data.includes(Buffer.from(text)),
    destroy: () => socket.destroy(),
  }
}

describe('the broker on granted topics', () => {
  let s: AccessService
  const open: MqttClient[] = []
  const connect = async (name: string, options: IClientOptions = {}) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.service.mqttPort}`, {
      username: name,
      password: s.tokens[name] as string,
      reconnectPeriod: 0,
      protocolVersion: 4,
      ...options,
    })
    open.push(c)
    return c
  }
  const received = (c: MqttClient) => {
    const messages: { topic: string; payload: string; retain: boolean; qos: number }[] = []
    c.on('message', (topic, payload, packet) =>
      messages.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }),
    )
    return messages
  }

  beforeAll(async () => {
    s = await startWithAccounts([
      { name: 'admin', role: 'admin' },
      { name: 'lab', role: 'monitor', grants: ['lab/#', '$lab/#'] },
      { name: 'lab2', role: 'monitor', grants: ['#', '$lab/#'] },
    ])
  })
  afterAll(async () => {
    for (const c of open) c.end(true)
    await s?.stop()
  })

  it('keeps a retained message for later subscribers', async () => {
    const pub = await connect('lab')
    await pub.publishAsync('lab/retained', 'kept', { qos: 1, retain: true })
    const sub = await connect('lab')
    const got = received(sub)
    await sub.subscribeAsync('lab/retained', { qos: 1 })
    await waitFor(() => (got.length > 0 ? true : undefined), 5000, 'the retained message')
    expect(got[0]).toMatchObject({ topic: 'lab/retained', payload: 'kept', retain: true })
  })

  it("publishes a client's will when its connection is lost", async () => {
    const sub = await connect('lab')
    const got = received(sub)
    await sub.subscribeAsync('lab/wills/+', { qos: 1 })
    const dying = await connect('lab', {
      will: { topic: 'lab/wills/a', payload: Buffer.from('gone'), qos: 1, retain: false },
    })
    dying.stream.destroy()
    await waitFor(() => (got.length > 0 ? true : undefined), 5000, 'the will')
    expect(got[0]).toMatchObject({ topic: 'lab/wills/a', payload: 'gone' })
  })

  it('sends QoS 1 and QoS 2 messages again, to a persistent session, when they were not acknowledged before the connection was lost', async () => {
    // The first session is written by hand, so that it can leave the messages unacknowledged.
    const raw = rawClient(s.service.mqttPort)
    await raw.connect('redelivery', 'lab', s.tokens.lab as string)
    await raw.subscribe('lab/redeliver/+', 2)
    const pub = await connect('lab')
    await pub.publishAsync('lab/redeliver/one', 'q1', { qos: 1 })
    await pub.publishAsync('lab/redeliver/two', 'q2', { qos: 2 })
    await waitFor(() => (raw.seen('q1') && raw.seen('q2') ? true : undefined), 5000, 'both, unacknowledged')
    raw.destroy()
    const again = await connect('lab', { clientId: 'redelivery', clean: false })
    const got = received(again)
    await waitFor(() => (got.length >= 2 ? true : undefined), 5000, 'the redelivery')
    expect(got.map((m) => `${m.payload}@${m.qos}`).sort()).toEqual(['q1@1', 'q2@2'])
  })

  it('queues QoS 1 messages for a persistent session while it is offline', async () => {
    const sub = await connect('lab', { clientId: 'offline-queue', clean: false })
    await sub.subscribeAsync('lab/queue', { qos: 1 })
    await sub.endAsync()
    const pub = await connect('lab')
    for (const n of [1, 2, 3]) await pub.publishAsync('lab/queue', `m${n}`, { qos: 1 })
    const back = await connect('lab', { clientId: 'offline-queue', clean: false })
    const got = received(back)
    await waitFor(() => (got.length >= 3 ? true : undefined), 5000, 'the queued messages')
    expect(got.map((m) => m.payload)).toEqual(['m1', 'm2', 'm3'])
  })

  it('delivers a message matching overlapping subscriptions once, at the highest QoS granted', async () => {
    const sub = await connect('lab')
    const got = received(sub)
    await sub.subscribeAsync({ 'lab/over/#': { qos: 0 }, 'lab/over/+': { qos: 1 } })
    const pub = await connect('lab')
    await pub.publishAsync('lab/over/x', 'both', { qos: 1 })
    await pub.publishAsync('lab/marker', 'end', { qos: 1 })
    await sub.subscribeAsync('lab/marker2', { qos: 1 })
    await pub.publishAsync('lab/over/y', 'second', { qos: 1 })
    await waitFor(
      () => (got.some((m) => m.payload === 'second') ? true : undefined),
      5000,
      'the second message',
    )
    expect(got.filter((m) => m.payload === 'both')).toHaveLength(1)
  })

  it('does not match topics starting with $ with #', async () => {
    const all = await connect('lab2')
    const everything = received(all)
    await all.subscribeAsync('#', { qos: 1 })
    const dollar = await connect('lab2')
    const dollars = received(dollar)
    await dollar.subscribeAsync('$lab/#', { qos: 1 })
    const pub = await connect('lab')
    await pub.publishAsync('$lab/hidden', 'dollar', { qos: 1 })
    await pub.publishAsync('lab/visible', 'plain', { qos: 1 })
    await waitFor(
      () => (dollars.length > 0 && everything.some((m) => m.payload === 'plain') ? true : undefined),
      5000,
      'both',
    )
    expect(everything.map((m) => m.topic)).not.toContain('$lab/hidden')
    expect(dollars[0]?.topic).toBe('$lab/hidden')
  })

  it('answers 0x80 to a subscription outside the grants, and keeps the connection', async () => {
    const c = await connect('lab')
    // mqtt.js turns a SUBACK holding 0x80 into an error that carries the packet.
    const suback = await c.subscribeAsync({ 'elsewhere/#': { qos: 1 }, 'lab/ok': { qos: 1 } }).then(
      () => null,
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
    )
    expect(suback).toEqual([128, 1])
    expect(c.connected).toBe(true)
  })

  it('acknowledges a refused PUBLISH without forwarding it, and keeps the connection', async () => {
    const watcher = await connect('admin')
    const got = received(watcher)
    await watcher.subscribeAsync('elsewhere/#', { qos: 1 })
    await watcher.subscribeAsync('lab/after', { qos: 1 })
    const c = await connect('lab')
    await c.publishAsync('elsewhere/x', 'refused', { qos: 1, retain: true })
    await c.publishAsync('lab/after', 'taken', { qos: 1 })
    await waitFor(() => (got.length > 0 ? true : undefined), 5000, 'the message after')
    expect(got.map((m) => m.payload)).toEqual(['taken'])
    expect(c.connected).toBe(true)
  })

  it('refuses an empty client ID with a persistent session (MQTT 3.1.1 3.1.3-8) with CONNACK 2', async () => {
    // mqtt.js will not send such a CONNECT, so it is written by hand.
    const raw = rawClient(s.service.mqttPort)
    const code = await raw.connect('', 'lab', s.tokens.lab as string)
    raw.destroy()
    expect(code).toBe(2)
  })
})

describe('token changes without a restart', () => {
  let s: AccessService
  beforeAll(async () => {
    s = await startWithAccounts([
      { name: 'admin', role: 'admin' },
      { name: 'gw', role: 'gateway', sites: ['milano'] },
      { name: 'gw-gone', role: 'gateway', sites: ['milano'] },
    ])
  })
  afterAll(async () => {
    await s?.stop()
  })
  const mqttAs = (name: string, token: string) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${s.service.mqttPort}`, {
      username: name,
      password: token,
      reconnectPeriod: 0,
    })

  it('takes a rotated token on MQTT and the API at once, and drops the old one', async () => {
    const old = s.tokens.gw as string
    const client = await mqttAs('gw', old)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    const r = await s.service.app.inject({
      method: 'POST',
      url: '/accounts/gw/rotate',
      headers: s.bearer('admin'),
    })
    expect(r.statusCode).toBe(200)
    const fresh = (r.json() as { token: string }).token
    await closed
    await expect(mqttAs('gw', old)).rejects.toThrow(/bad user ?name or password/i)
    const again = await mqttAs('gw', fresh)
    expect(again.connected).toBe(true)
    await again.endAsync()
  })

  it('takes a token rotated by the accounts command (the file) on the API without a restart', async () => {
    const cli = new AccountBook(s.dataDir)
    const { token } = await cli.rotate('admin')
    await waitFor(
      async () =>
        (await s.service.app.inject({ url: '/accounts', headers: s.bearer('admin') })).statusCode === 401
          ? true
          : undefined,
      10_000,
      'the old admin token to stop working',
    )
    const r = await s.service.app.inject({ url: '/accounts', headers: { authorization: `Bearer ${token}` } })
    expect(r.statusCode).toBe(200)
    s.tokens.admin = token
  })

  it('disconnects a removed gateway account', async () => {
    const client = await mqttAs('gw-gone', s.tokens['gw-gone'] as string)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    await new AccountBook(s.dataDir).remove('gw-gone')
    await closed
    await expect(mqttAs('gw-gone', s.tokens['gw-gone'] as string)).rejects.toThrow(
      /bad user ?name or password/i,
    )
  })
})
