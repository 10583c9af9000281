/**
 * Gateways on the contract's status topic: an outage longer than 2 hours gets one `gateway-offline`
 * action about the site, resolved when the gateway is back; the missed readings of its devices say
 * the gateway was offline. Through MQTT and the API of the real service, in event time.
 */
import type { MqttClient } from 'mqtt'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action, GatewayView } from '../../src/contract/schemas.ts'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

const T0 = Date.UTC(2026, 3, 6, 8)
const DAY = 24 * HOUR
const status = (site: string, gateway: string) => `fleet/v1/${site}/gateways/${gateway}/status`

/** A gateway's connection with the contract's last will. */
function gatewayClient(url: string, site: string, gateway: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    reconnectPeriod: 0,
    clientId: `gw-${gateway}`,
    will: { topic: status(site, gateway), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
  })
}

describe('gateways', () => {
  const data = tempDir()
  let service: ServiceProcess
  let hq: MqttClient
  const onSite: { topic: string; action: Action }[] = []

  /** The HQ device reads every hour from `from` to `to`: event time moves on. */
  const hqHours = async (from: number, to: number) => {
    const out = []
    for (let t = from; t <= to; t += HOUR) out.push(telemetry('hq', 'HQ-1', { ts: iso(t), status: 'ready' }))
    await publishAll(hq, out)
    await settled(service.http)
  }
  const gatewayActions = () => actions(service.http, '?type=gateway-offline')

  beforeAll(async () => {
    service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--clock', 'event', '--sweep-interval', '1h'],
    })
    const watcher = await connect(service.mqttUrl)
    watcher.on('message', (topic, payload) =>
      onSite.push({ topic, action: JSON.parse(payload.toString()) as Action }),
    )
    await watcher.subscribeAsync('fleet/v1/+/actions', { qos: 1 })
    hq = await connect(service.mqttUrl)
    await hqHours(T0, T0)
  })

  afterAll(async () => {
    await hq.endAsync()
    await kill9(service)
    data.remove()
  })

  it('makes one gateway-offline about the site once its will is 2 hours old, not before', async () => {
    // gw-branch names its device; gw-quiet names none, and is known by what it publishes for.
    const branch = await gatewayClient(service.mqttUrl, 'branch', 'gw-branch')
    await branch.publishAsync(
      status('branch', 'gw-branch'),
      JSON.stringify({
        state: 'online',
        ts: iso(T0),
        devices: ['BR-1'],
        software: 'printwarden-gateway 1.0.0',
      }),
      { qos: 1, retain: true },
    )
    const quiet = await gatewayClient(service.mqttUrl, 'branch', 'gw-quiet')
    await quiet.publishAsync(status('branch', 'gw-quiet'), JSON.stringify({ state: 'online' }), {
      qos: 1,
      retain: true,
    })
    await publishAll(branch, [telemetry('branch', 'BR-1', { ts: iso(T0), status: 'ready' })])
    await publishAll(quiet, [telemetry('branch', 'QT-1', { ts: iso(T0), status: 'ready' })])
    await hqHours(T0 + HOUR, T0 + HOUR)
    // The network goes: no DISCONNECT, so the broker publishes each will, received at event time T0 + 1 h.
    branch.stream.destroy()
    quiet.stream.destroy()
    const gateways = await waitFor(async () => {
      const { body } = await getJson<{ items: GatewayView[] }>(`${service.http}/sites/branch/gateways`)
      return body.items.every((g) => g.state === 'offline') ? body.items : undefined
    })
    expect(gateways).toEqual([
      {
        siteId: 'branch',
        gatewayId: 'gw-branch',
        state: 'offline',
        since: iso(T0 + HOUR),
        devices: ['BR-1'],
        publishedFor: ['BR-1'],
        software: 'printwarden-gateway 1.0.0',
      },
      {
        siteId: 'branch',
        gatewayId: 'gw-quiet',
        state: 'offline',
        since: iso(T0 + HOUR),
        devices: null,
        publishedFor: ['QT-1'],
        software: null,
      },
    ])
    await hqHours(T0 + 2 * HOUR, T0 + 3 * HOUR)
    expect(await gatewayActions()).toEqual([])
    await hqHours(T0 + 4 * HOUR, T0 + 8 * HOUR)
    const made = await gatewayActions()
    expect(made.map((a) => [a.details.gatewayId, a.status, a.createdAt]).sort()).toEqual([
      ['gw-branch', 'open', iso(T0 + 4 * HOUR)],
      ['gw-quiet', 'open', iso(T0 + 4 * HOUR)],
    ])
    for (const a of made) {
      expect(a).not.toHaveProperty('deviceId')
      expect(a.siteId).toBe('branch')
      expect(a.details.offlineSince).toBe(iso(T0 + HOUR))
    }
    expect(made.find((a) => a.details.gatewayId === 'gw-branch')?.details.devices).toEqual(['BR-1'])
    expect(made.find((a) => a.details.gatewayId === 'gw-quiet')?.details.devices).toEqual(['QT-1'])
    await expect
      .poll(() => onSite.filter((m) => m.action.type === 'gateway-offline').map((m) => m.topic))
      .toEqual(['fleet/v1/branch/actions', 'fleet/v1/branch/actions'])
  })

  it("says in a device's missed-reading that its gateway was offline", async () => {
    for (let day = 1; day <= 6; day++) await hqHours(T0 + day * DAY, T0 + day * DAY)
    const missed = await actions(service.http, '?type=missed-reading')
    expect(missed.map((a) => a.deviceId).sort()).toEqual(['BR-1', 'QT-1'])
    expect(missed.find((a) => a.deviceId === 'BR-1')?.details.gatewayOffline).toEqual({
      gatewayId: 'gw-branch',
      since: iso(T0 + HOUR),
    })
    expect(missed.find((a) => a.deviceId === 'QT-1')?.details.gatewayOffline).toEqual({
      gatewayId: 'gw-quiet',
      since: iso(T0 + HOUR),
    })
    // Still one per outage, however many sweeps passed.
    expect(await gatewayActions()).toHaveLength(2)
  })

  it('resolves the outage when the gateway is online again', async () => {
    const back = T0 + 6 * DAY + HOUR
    const branch = await gatewayClient(service.mqttUrl, 'branch', 'gw-branch')
    await branch.publishAsync(
      status('branch', 'gw-branch'),
      JSON.stringify({ state: 'online', ts: iso(back), devices: ['BR-1'] }),
      { qos: 1, retain: true },
    )
    await publishAll(branch, [telemetry('branch', 'BR-1', { ts: iso(back), status: 'ready' })])
    await hqHours(back + HOUR, back + 2 * HOUR)
    const after = await gatewayActions()
    expect(after.map((a) => [a.details.gatewayId, a.status]).sort()).toEqual([
      ['gw-branch', 'resolved'],
      ['gw-quiet', 'open'],
    ])
    await expect
      .poll(() =>
        onSite
          .filter((m) => m.action.type === 'gateway-offline' && m.action.details.gatewayId === 'gw-branch')
          .map((m) => m.action.status),
      )
      .toEqual(['open', 'resolved'])
    await branch.endAsync()
  })

  it('refuses a gateway state that breaks the contract, and a message on a site actions topic, counting each', async () => {
    const stats = async () =>
      (await getJson<{ ingest: { rejected: Record<string, number> } }>(`${service.http}/stats`)).body.ingest
        .rejected
    const before = await stats()
    await hq.publishAsync(status('hq', 'gw-hq'), JSON.stringify({ state: 'sleeping' }), {
      qos: 1,
      retain: true,
    })
    await hq.publishAsync('fleet/v1/hq/actions', JSON.stringify({ type: 'reorder' }), { qos: 1 })
    const after = await stats()
    expect((after['invalid-payload'] ?? 0) - (before['invalid-payload'] ?? 0)).toBe(1)
    expect((after['read-only-topic'] ?? 0) - (before['read-only-topic'] ?? 0)).toBe(1)
    const { body } = await getJson<{ items: GatewayView[] }>(`${service.http}/sites/hq/gateways`)
    expect(body.items).toEqual([])
  })

  it('refuses readings under the reserved device IDs actions and gateways', async () => {
    const before = (await getJson<{ ingest: { rejected: Record<string, number> } }>(`${service.http}/stats`))
      .body
    await publishAll(hq, [
      telemetry('hq', 'actions', { ts: iso(T0 + 7 * DAY), status: 'ready' }),
      telemetry('hq', 'gateways', { ts: iso(T0 + 7 * DAY), status: 'ready' }),
    ])
    const after = (await getJson<{ ingest: { rejected: Record<string, number> } }>(`${service.http}/stats`))
      .body
    expect(
      (after.ingest.rejected['unknown-topic'] ?? 0) - (before.ingest.rejected['unknown-topic'] ?? 0),
    ).toBe(2)
    const put = await fetch(`${service.http}/devices/gateways`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ siteId: 'hq' }),
    })
    expect(put.status).toBe(400)
    expect(((await put.json()) as { message: string }).message).toMatch(/reserved/)
    const devices = (await getJson<{ items: { deviceId: string }[] }>(`${service.http}/devices`)).body.items
    expect(devices.map((d) => d.deviceId).sort()).toEqual(['BR-1', 'HQ-1', 'QT-1'])
  })
})
