/**
 * Broker outages: the readings the gateway takes while the service is down stay on disk, survive a
 * restart of the gateway, and are replayed in order as arrays once the service is back; a full
 * buffer drops its oldest readings and counts them.
 */
import { type AddressInfo, createServer } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import type { Printer } from '../../gateway/printers.ts'
import { settled } from '../helpers/fleet.ts'
import { startGateway } from '../helpers/gateway.ts'
import {
  getJson,
  kill9,
  startServiceProcess,
  stopGracefully,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'
import { type Snmpd, startSnmpd } from '../helpers/snmpd.ts'
import { healthyMfp, SYSTEM } from './faces.ts'

const SITE = 'napoli'
const START = Date.parse('2026-03-02T08:00:00Z')
const HOUR = 3_600_000

async function freeTcpPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function storedSeqs(http: string, device: string): Promise<number[]> {
  const { body } = await getJson<{ items: { ts: string; seq?: number }[] }>(
    `${http}/devices/${device}/readings?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z`,
  )
  return body.items.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts)).map((r) => r.seq as number)
}

describe('broker outages', () => {
  let snmpd: Snmpd | null = null
  afterAll(async () => {
    await snmpd?.stop()
  })

  async function service(dataDir: string, port: number) {
    return startServiceProcess({
      dataDir,
      extra: ['--clock', 'event', '--mqtt-port', String(port)],
    })
  }

  it('keeps the readings of several polls with the broker down, across a gateway restart, and replays them in order as one array', async () => {
    snmpd ??= await startSnmpd(healthyMfp(), { system: SYSTEM })
    const data = tempDir('printwarden-gw-outage-')
    const buffer = tempDir('printwarden-gw-outage-buf-')
    const port = await freeTcpPort()
    const broker = `mqtt://127.0.0.1:${port}`
    const printers: Printer[] = [{ deviceId: 'NA-1', host: '127.0.0.1', port: snmpd.port }]
    let s = await service(data.path, port)
    let g = startGateway({ broker, site: SITE, printers, bufferDir: buffer.path, start: START })
    try {
      await g.gateway.pollAll()
      await g.gateway.flush()
      await settled(s.http)
      expect(await storedSeqs(s.http, 'NA-1')).toEqual([1])

      await stopGracefully(s)
      for (let h = 1; h <= 3; h++) {
        g.clock.set(START + h * HOUR)
        await g.gateway.pollAll()
      }
      expect(g.gateway.pending).toBe(3)
      // The gateway restarts while the broker is still away: nothing it kept is lost.
      await g.gateway.stop()
      g = startGateway({ broker, site: SITE, printers, bufferDir: buffer.path, start: START + 4 * HOUR })
      expect(g.gateway.pending).toBe(3)
      await g.gateway.pollAll()
      g.clock.set(START + 5 * HOUR)
      await g.gateway.pollAll()
      expect(g.gateway.pending).toBe(5)

      s = await service(data.path, port)
      await g.gateway.flush()
      await settled(s.http)
      expect(await storedSeqs(s.http, 'NA-1')).toEqual([1, 2, 3, 4, 5, 6])
      expect(g.gateway.stats.published).toMatchObject({ readings: 5, messages: 1, arrays: 1 })
      const replayed = g.logs.find((l) => l.msg === 'replayed buffered readings')
      expect(replayed).toMatchObject({ readings: 5, messages: 1 })
    } finally {
      await g.gateway.stop()
      await kill9(s).catch(() => undefined)
      data.remove()
      buffer.remove()
    }
  }, 90_000)

  it('drops the oldest readings when the buffer is full, counts them, and replays the newest', async () => {
    snmpd ??= await startSnmpd(healthyMfp(), { system: SYSTEM })
    const data = tempDir('printwarden-gw-full-')
    const buffer = tempDir('printwarden-gw-full-buf-')
    const port = await freeTcpPort()
    const broker = `mqtt://127.0.0.1:${port}`
    const printers: Printer[] = [{ deviceId: 'NA-2', host: '127.0.0.1', port: snmpd.port }]
    const g = startGateway({
      broker,
      site: SITE,
      printers,
      bufferDir: buffer.path,
      start: START,
      flags: { bufferMax: '3' },
    })
    let s: Awaited<ReturnType<typeof service>> | null = null
    try {
      for (let h = 0; h < 5; h++) {
        g.clock.set(START + h * HOUR)
        await g.gateway.pollAll()
      }
      expect(g.gateway.pending).toBe(3)
      expect(g.gateway.stats.dropped).toBe(2)
      expect(
        g.logs.filter((l) => l.msg === 'the buffer is full: the oldest readings were dropped'),
      ).toHaveLength(2)
      s = await service(data.path, port)
      const http = s.http
      await g.gateway.flush()
      await settled(http)
      const seqs = await waitFor(async () => {
        const list = await storedSeqs(http, 'NA-2')
        return list.length === 3 ? list : undefined
      })
      expect(seqs).toEqual([3, 4, 5])
    } finally {
      await g.gateway.stop()
      if (s) await kill9(s)
      data.remove()
      buffer.remove()
    }
  }, 90_000)
})
