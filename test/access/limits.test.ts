/**
 * The broker's limits, enforced before memory is spent, each refusal counted in /stats; and the
 * secure default (no account: loopback only).
 */
import { createConnection } from 'node:net'
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PacketScanner } from '../../src/access/guard.ts'
import { isLoopback } from '../../src/access/secure-default.ts'
import { buildConfig } from '../../src/config/config.ts'
import { startService } from '../../src/main.ts'
import { type AccessService, startWithAccounts } from '../helpers/access.ts'
import { tempDir, waitFor } from '../helpers/service-process.ts'

/** An MQTT fixed header: a type byte and the remaining length as MQTT 3.1.1 2.2.3 encodes it. */
function header(type: number, remaining: number): Buffer {
  const bytes = [type]
  let n = remaining
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    bytes.push(byte)
  } while (n > 0)
  return Buffer.from(bytes)
}

describe('the packet scanner', () => {
  it('passes packets within the limit, across chunk boundaries', () => {
    const scanner = new PacketScanner(1000)
    const packet = Buffer.concat([header(0x30, 600), Buffer.alloc(600)])
    const stream = Buffer.concat([packet, packet, header(0xc0, 0)])
    expect(
      [stream.subarray(0, 3), stream.subarray(3, 700), stream.subarray(700)].map((c) => scanner.scan(c)),
    ).toEqual(['ok', 'ok', 'ok'])
  })

  it('refuses a packet at its fixed header when it announces more than the limit', () => {
    const scanner = new PacketScanner(1000)
    expect(scanner.scan(Buffer.concat([header(0x30, 10), Buffer.alloc(10)]))).toBe('ok')
    expect(scanner.scan(header(0x30, 250 * 1024 * 1024))).toEqual({ tooLarge: 250 * 1024 * 1024 })
  })

  it('refuses a remaining length longer than four bytes', () => {
    expect(
      new PacketScanner(Number.MAX_SAFE_INTEGER).scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff])),
    ).toEqual({
      tooLarge: Number.POSITIVE_INFINITY,
    })
  })
})

describe('the broker limits', () => {
  let s: AccessService
  const refused = async () =>
    (await s.service.app.inject({ url: '/stats', headers: s.bearer('admin') })).json() as {
      access: { refused: Record<string, number> }
      ingest: { rejected: Record<string, number> }
    }
  const mqttAs = (name: string, clientId?: string) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${s.service.mqttPort}`, {
      username: name,
      password: s.tokens[name] as string,
      reconnectPeriod: 0,
      ...(clientId ? { clientId } : {}),
    })

  beforeAll(async () => {
    s = await startWithAccounts(
      [
        { name: 'admin', role: 'admin' },
        { name: 'gw', role: 'gateway', sites: ['milano'] },
        { name: 'flappy', role: 'monitor', grants: ['x/#'] },
      ],
      {
        flags: {
          maxConnections: '6',
          maxConnectionsPerAccount: '5',
          connectTimeoutMs: '500ms',
          publishRate: '0.01',
          publishBurst: '3',
        },
      },
    )
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('closes a connection whose packet announces 250 MiB at its header, before any body', async () => {
    const before = (await refused()).access.refused['packet-too-large'] as number
    const socket = createConnection(s.service.mqttPort, '127.0.0.1')
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.write(header(0x10, 250 * 1024 * 1024))
    await closed
    expect((await refused()).access.refused['packet-too-large']).toBe(before + 1)
  })

  it('closes a connection that sends no CONNECT before the deadline', async () => {
    const before = (await refused()).access.refused['connect-timeout'] as number
    const socket = createConnection(s.service.mqttPort, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('close', () => resolve()))
    expect((await refused()).access.refused['connect-timeout']).toBe(before + 1)
  })

  it("refuses a gateway's publishes beyond its rate, and counts them", async () => {
    const c = await mqttAs('gw')
    const before = (await refused()).ingest.rejected['rate-limited'] as number
    const reading = JSON.stringify({ ts: '2026-11-20T08:00:00Z', toner: { black: 50 } })
    for (let i = 0; i < 5; i++) await c.publishAsync(`fleet/v1/milano/R-${i}/telemetry`, reading, { qos: 1 })
    expect((await refused()).ingest.rejected['rate-limited']).toBe(before + 2)
    expect(c.connected).toBe(true)
    await c.endAsync()
  })

  it('refuses a client ID that takes over another too often', async () => {
    let code: number | undefined
    for (let i = 0; i < 8 && code === undefined; i++) {
      await mqttAs('flappy', 'flapping-id').then(
        () => undefined,
        (err: { code?: number }) => {
          code = err.code
        },
      )
    }
    expect(code).toBe(2)
    expect((await refused()).access.refused.flapping).toBeGreaterThan(0)
  })

  it('closes connections beyond the limit at once', async () => {
    const sockets = Array.from({ length: 10 }, () => createConnection(s.service.mqttPort, '127.0.0.1'))
    await waitFor(
      async () =>
        ((await refused()).access.refused['too-many-connections'] as number) > 0 ? true : undefined,
      5000,
      'a refused connection',
    )
    for (const socket of sockets) socket.destroy()
    expect((await refused()).access.refused['too-many-connections']).toBeGreaterThan(0)
  })
})

describe('secure by default', () => {
  it('tells loopback addresses from the others', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost', '[::1]'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ])
    expect(['0.0.0.0', '::', '10.0.0.5', '192.168.1.1'].map(isLoopback)).toEqual([false, false, false, false])
  })

  it('refuses a non-loopback --host while no account exists, saying how to make the first one', async () => {
    const data = tempDir()
    try {
      const config = buildConfig({
        flags: { dataDir: data.path, host: '0.0.0.0', mqttPort: '0', wsPort: '0', httpPort: '0' },
      })
      await expect(startService(config, { log: pino({ level: 'silent' }) })).rejects.toThrow(
        /npm run accounts -- add admin --role admin/,
      )
    } finally {
      data.remove()
    }
  })
})
