/**
 * A gateway's state on its status topic, seen on a plain aedes broker over TCP (the service on this
 * branch does not take the status topic yet): online and retained with its devices when it
 * connects, and the retained offline last will when it dies.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { createServer as createTlsServer } from 'node:tls'
import { Aedes } from 'aedes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePki } from '../helpers/access.ts'
import { connect } from '../helpers/fleet.ts'
import { startGateway } from '../helpers/gateway.ts'
import { ROOT, tempDir, waitFor } from '../helpers/service-process.ts'
import { type Snmpd, startSnmpd } from '../helpers/snmpd.ts'
import { healthyMfp, SYSTEM } from './faces.ts'

const TOPIC = 'fleet/v1/torino/gateways/gw-torino/status'

describe("a gateway's state", () => {
  const dir = tempDir('printwarden-gw-status-')
  let broker: Aedes
  let server: Server
  let url: string
  let snmpd: Snmpd

  beforeAll(async () => {
    broker = await Aedes.createBroker()
    server = createServer(broker.handle)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
    snmpd = await startSnmpd(healthyMfp(), { system: SYSTEM })
  }, 30_000)
  afterAll(async () => {
    await snmpd?.stop()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    dir.remove()
  })

  it('is online, retained and naming its devices, while it runs, and offline by its last will once it is killed', async () => {
    const printers = join(dir.path, 'printers.json')
    writeFileSync(
      printers,
      JSON.stringify([
        { deviceId: 'TO-1', host: '127.0.0.1', port: snmpd.port },
        { deviceId: 'TO-2', host: '127.0.0.1', port: snmpd.port },
      ]),
    )
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'gateway/cli.ts'),
        '--broker',
        url,
        '--site',
        'torino',
        '--username',
        'gw-torino',
        '--password',
        'a-token',
        '--printers',
        printers,
        '--interval',
        '1h',
        '--buffer-dir',
        join(dir.path, 'data'),
      ],
      { cwd: ROOT, stdio: 'ignore' },
    )
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const seen: { payload: Record<string, unknown>; retain: boolean }[] = []
    const watch = async () => {
      const c = await connect(url)
      c.on('message', (_t, payload, packet) =>
        seen.push({
          payload: JSON.parse(payload.toString()) as Record<string, unknown>,
          retain: packet.retain,
        }),
      )
      await c.subscribeAsync(TOPIC, { qos: 1 })
      return c
    }
    const first = await watch()
    await waitFor(() => (seen.some((s) => s.payload.state === 'online') ? true : undefined), 20_000, 'online')
    await first.endAsync()
    // A client that comes later gets the retained online state.
    seen.length = 0
    const late = await watch()
    const online = await waitFor(
      () => seen.find((s) => s.payload.state === 'online'),
      10_000,
      'retained online',
    )
    expect(online.retain).toBe(true)
    expect(online.payload).toMatchObject({
      devices: ['TO-1', 'TO-2'],
      software: expect.stringMatching(/^printwarden-gateway \d/),
    })
    expect(typeof online.payload.ts).toBe('string')
    child.kill('SIGKILL')
    await exited
    const will = await waitFor(() => seen.find((s) => s.payload.state === 'offline'), 60_000, 'the last will')
    expect(will.payload).toEqual({ state: 'offline' })
    await late.endAsync()
  }, 90_000)
})

describe('a gateway over TLS', () => {
  it('connects to an mqtts:// broker whose certificate its --ca signed, and publishes its state there', async () => {
    const dir = tempDir('printwarden-gw-tls-')
    // A CA, and a server certificate for 127.0.0.1 that it signs (openssl, as an operator would).
    const pki = makePki()
    const broker = await Aedes.createBroker()
    const server = createTlsServer(
      { key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) },
      broker.handle,
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    const port = (server.address() as AddressInfo).port
    const states: Record<string, unknown>[] = []
    broker.on('publish', (packet) => {
      if (packet.topic === 'fleet/v1/genova/gateways/gw-genova/status')
        states.push(JSON.parse(packet.payload.toString()) as Record<string, unknown>)
    })
    const g = startGateway({
      broker: `mqtts://127.0.0.1:${port}`,
      site: 'genova',
      id: 'gw-genova',
      printers: [],
      bufferDir: join(dir.path, 'data'),
      start: Date.parse('2026-04-06T08:00:00Z'),
      flags: { ca: pki.ca },
    })
    try {
      const online = await waitFor(() => states.find((s) => s.state === 'online'), 20_000, 'online over TLS')
      expect(online).toMatchObject({ state: 'online', ts: '2026-04-06T08:00:00.000Z', devices: [] })
    } finally {
      await g.gateway.stop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      dir.remove()
      pki.remove()
    }
    expect(states.map((s) => s.state)).toEqual(['online', 'offline'])
  }, 60_000)
})
