/**
 * Access on MQTT, checked with clients the project does not contain: Debian's mosquitto_pub and
 * mosquitto_sub, and a CA and certificates made with the openssl command.
 */
import { readFileSync } from 'node:fs'
import { get as httpsGet } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AccessService, makePki, type Pki, run, startWithAccounts } from '../helpers/access.ts'
import { waitFor } from '../helpers/service-process.ts'

const reading = JSON.stringify({ ts: '2026-11-20T08:00:00Z', toner: { black: 64 } })

describe('MQTT access with mosquitto clients', () => {
  let s: AccessService
  let pki: Pki
  const port = () => String(s.service.mqttPort)
  const as = (name: string) => ['-h', '127.0.0.1', '-p', port(), '-u', name, '-P', s.tokens[name] as string]
  const stats = async () =>
    (await s.service.app.inject({ url: '/stats', headers: s.bearer('admin') })).json() as {
      ingest: { rejected: Record<string, number> }
    }
  const device = async (id: string) =>
    (await s.service.app.inject({ url: `/devices/${id}`, headers: s.bearer('admin') })).statusCode

  beforeAll(async () => {
    pki = makePki()
    s = await startWithAccounts(
      [
        { name: 'admin', role: 'admin' },
        { name: 'gw-milano', role: 'gateway', sites: ['milano'] },
        { name: 'gw-roma', role: 'gateway', sites: ['roma'] },
        { name: 'lab', role: 'monitor', grants: ['lab/#'] },
      ],
      {
        flags: {
          tlsCert: pki.serverCert,
          tlsKey: pki.serverKey,
          tlsCa: pki.ca,
          mqttsPort: '0',
          wssPort: '0',
        },
      },
    )
  })
  afterAll(async () => {
    await s?.stop()
    pki?.remove()
  })

  it('refuses a wrong token with CONNACK 4, bad user name or password', async () => {
    const r = await run('mosquitto_pub', [
      ...as('gw-milano').slice(0, 6),
      '-P',
      'pw_0000000000000000_wrong',
      '-t',
      'x',
      '-m',
      'y',
    ])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/bad user name or password/i)
  })

  it('refuses a client with no user name once an account exists', async () => {
    const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port(), '-t', 'x', '-m', 'y'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/not authori[sz]ed/i)
  })

  it("takes a gateway's reading for a device of its own site", async () => {
    const r = await run('mosquitto_pub', [
      ...as('gw-milano'),
      '-q',
      '1',
      '-t',
      'fleet/v1/milano/MI-1/telemetry',
      '-m',
      reading,
    ])
    expect(r.code).toBe(0)
    await waitFor(async () => ((await device('MI-1')) === 200 ? true : undefined), 10_000, 'MI-1 stored')
  })

  it("refuses, without closing the connection, a gateway's reading for another site's device", async () => {
    const before = (await stats()).ingest.rejected['not-authorized'] ?? 0
    const r = await run('mosquitto_pub', [
      ...as('gw-milano'),
      '-q',
      '1',
      '-t',
      'fleet/v1/roma/RM-1/telemetry',
      '-m',
      reading,
    ])
    expect(r.code).toBe(0)
    expect((await stats()).ingest.rejected['not-authorized']).toBe(before + 1)
    expect(await device('RM-1')).toBe(404)
  })

  it('refuses a gateway publishing the status of another gateway', async () => {
    const before = (await stats()).ingest.rejected['not-authorized'] ?? 0
    const r = await run('mosquitto_pub', [
      ...as('gw-milano'),
      '-q',
      '1',
      '-r',
      '-t',
      'fleet/v1/milano/gateways/gw-roma/status',
      '-m',
      '{"state":"offline"}',
    ])
    expect(r.code).toBe(0)
    expect((await stats()).ingest.rejected['not-authorized']).toBe(before + 1)
  })

  it('answers 0x80 to a gateway subscribing to # or to the actions of another site', async () => {
    for (const topic of ['#', 'fleet/v1/roma/+/actions', 'fleet/v1/#']) {
      const r = await run('mosquitto_sub', [...as('gw-milano'), '-t', topic, '-C', '1', '-W', '5'])
      expect(r.stderr).toMatch(/denied/i)
    }
  })

  it('lets a gateway subscribe to the actions of its own site', async () => {
    // -W ends it after a second without a message: what matters is that the subscription was granted.
    const r = await run('mosquitto_sub', [
      ...as('gw-milano'),
      '-t',
      'fleet/v1/milano/+/actions',
      '-C',
      '1',
      '-W',
      '1',
      '-d',
    ])
    // The granted QoS (0), not 128.
    expect(r.stdout).toMatch(/Subscribed \(mid: \d+\): 0\n/)
  })

  it('refuses a known device published under another site, whoever sends it (wrong-site)', async () => {
    await run('mosquitto_pub', [
      ...as('gw-milano'),
      '-q',
      '1',
      '-t',
      'fleet/v1/milano/MI-9/telemetry',
      '-m',
      reading,
    ])
    await waitFor(async () => ((await device('MI-9')) === 200 ? true : undefined), 10_000, 'MI-9 stored')
    const before = (await stats()).ingest.rejected['wrong-site'] ?? 0
    const r = await run('mosquitto_pub', [
      ...as('admin'),
      '-q',
      '1',
      '-t',
      'fleet/v1/evil-site/MI-9/telemetry',
      '-m',
      reading,
    ])
    expect(r.code).toBe(0)
    expect((await stats()).ingest.rejected['wrong-site']).toBe(before + 1)
    const view = (
      await s.service.app.inject({ url: '/devices/MI-9', headers: s.bearer('admin') })
    ).json() as {
      siteId: string
    }
    expect(view.siteId).toBe('milano')
  })

  it('behaves as a plain broker on a granted pattern', async () => {
    const pub = await run('mosquitto_pub', [
      ...as('lab'),
      '-q',
      '1',
      '-r',
      '-t',
      'lab/bench/1',
      '-m',
      'hello',
    ])
    expect(pub.code).toBe(0)
    const sub = await run('mosquitto_sub', [...as('lab'), '-t', 'lab/#', '-C', '1', '-W', '5'])
    expect(sub.stdout.trim()).toBe('hello')
  })

  it('connects over mqtts:// with a token, trusting the CA made for the test', async () => {
    const r = await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(s.service.mqttsPort),
      '--cafile',
      pki.ca,
      '-u',
      'gw-milano',
      '-P',
      s.tokens['gw-milano'] as string,
      '-q',
      '1',
      '-t',
      'fleet/v1/milano/MI-TLS/telemetry',
      '-m',
      reading,
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    await waitFor(async () => ((await device('MI-TLS')) === 200 ? true : undefined), 10_000, 'MI-TLS stored')
  })

  it('signs a client certificate in as the account its common name names', async () => {
    const cert = pki.client('gw-roma')
    const tls = [
      '-h',
      '127.0.0.1',
      '-p',
      String(s.service.mqttsPort),
      '--cafile',
      pki.ca,
      '--cert',
      cert.cert,
      '--key',
      cert.key,
    ]
    const own = await run('mosquitto_pub', [
      ...tls,
      '-q',
      '1',
      '-t',
      'fleet/v1/roma/RM-CERT/telemetry',
      '-m',
      reading,
    ])
    expect(own.code).toBe(0)
    await waitFor(
      async () => ((await device('RM-CERT')) === 200 ? true : undefined),
      10_000,
      'RM-CERT stored',
    )
    // As gw-roma, not as anyone: milano's devices stay refused.
    const before = (await stats()).ingest.rejected['not-authorized'] ?? 0
    await run('mosquitto_pub', [...tls, '-q', '1', '-t', 'fleet/v1/milano/MI-CERT/telemetry', '-m', reading])
    expect((await stats()).ingest.rejected['not-authorized']).toBe(before + 1)
  })

  it('serves the API over HTTPS with the certificate, trusting the CA made for the test', async () => {
    const status = (path: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        httpsGet(
          { host: '127.0.0.1', port: s.service.httpPort, path, ca: readFileSync(pki.ca), headers },
          (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          },
        ).on('error', reject)
      })
    expect(await status('/health')).toBe(200)
    expect(await status('/devices')).toBe(401)
    expect(await status('/devices', s.bearer('admin'))).toBe(200)
  })

  it('refuses a certificate whose common name is no account, without a token', async () => {
    const cert = pki.client('nobody')
    const r = await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(s.service.mqttsPort),
      '--cafile',
      pki.ca,
      '--cert',
      cert.cert,
      '--key',
      cert.key,
      '-t',
      'x',
      '-m',
      'y',
    ])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/not authori[sz]ed/i)
  })
})
