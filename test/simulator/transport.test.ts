/**
 * The simulator's gateway connection against the real service as a child process, killed with
 * kill -9 and started again on the same data directory and port while the gateways publish: a
 * gateway keeps every reading until it is acknowledged, as the contract expects of gateways.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { GatewayLink } from '../../simulator/transport.ts'
import { HOUR, iso } from '../helpers/fleet.ts'
import {
  freePort,
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

describe('a gateway link whose broker is killed and started again', () => {
  const data = tempDir()
  let service: ServiceProcess | undefined
  afterAll(async () => {
    if (service) await kill9(service)
    data.remove()
  })

  it('sends again what was not acknowledged when the connection closed, and gives up on nothing', async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()]
    const start = () =>
      startServiceProcess({
        dataDir: data.path,
        portsFromEnv: true,
        extra: ['--mqtt-port', String(mqttPort), '--ws-port', 'off', '--http-port', String(httpPort)],
      })
    service = await start()
    const gateways = 5
    const perDevice = 400
    const links = Array.from(
      { length: gateways },
      (_, g) =>
        new GatewayLink(
          {
            url: `mqtt://127.0.0.1:${mqttPort}`,
            clientPrefix: 'transport-test',
            topicRoot: 'fleet/v1',
            window: 32,
          },
          `site-${g}`,
          `gw-${g}`,
          [`LINK-${g}`],
        ),
    )
    for (const l of links) l.connect()
    const t0 = Date.now() - 30 * 24 * HOUR
    let published = 0
    const publishing = Promise.all(
      links.map(async (link, g) => {
        for (let i = 0; i < perDevice; i++) {
          const payload = JSON.stringify({ ts: iso(t0 + i * 60_000), seq: i, status: 'ready' })
          const wait = link.publish(`fleet/v1/site-${g}/LINK-${g}/telemetry`, payload, false, 1)
          if (wait) await wait
          published++
        }
      }),
    )
    // Two kills while the gateways are in the middle of their streams.
    for (const share of [0.3, 0.6]) {
      await waitFor(
        () => (published >= share * gateways * perDevice ? true : undefined),
        60_000,
        'publishing',
      )
      await kill9(service)
      service = await start()
    }
    await publishing
    await Promise.all(links.map((l) => l.drain()))

    expect(links.map((l) => l.publishErrors)).toEqual(Array(gateways).fill(0))
    expect(links.map((l) => l.acknowledgedReadings)).toEqual(Array(gateways).fill(perDevice))
    const http = service.http
    for (let g = 0; g < gateways; g++) {
      const { body } = await getJson<{ items: unknown[] }>(`${http}/devices/LINK-${g}/readings?from=${t0}`)
      expect(body.items).toHaveLength(perDevice)
    }
    await Promise.all(links.map((l) => l.close()))
  }, 120_000)
})
