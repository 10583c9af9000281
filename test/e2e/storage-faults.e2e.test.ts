/**
 * The disk under the data directory fails: it fills while the service runs, or it is mounted
 * read-only. The service stops acknowledging (no PUBACK, /health 503), says why with a coded error
 * that names the path, and once space returns takes the readings again: nothing acknowledged is
 * lost, nothing is stored twice. The disks are small tmpfs mounts of the test's own (it runs as root).
 */
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, type Published, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import { mountTmpfs, removeFile, type SmallDisk } from '../helpers/mounts.ts'
import {
  getJson,
  kill9,
  ROOT,
  runUntilExit,
  type ServiceProcess,
  startServiceProcess,
  stopGracefully,
  waitFor,
} from '../helpers/service-process.ts'

const start = Date.UTC(2026, 10, 3)
const disks: SmallDisk[] = []
const services: ServiceProcess[] = []
afterAll(async () => {
  // A service left by a failed test holds files open: it goes first, or the disk cannot be unmounted.
  for (const s of services) await kill9(s)
  for (const d of disks) d.unmount()
})

/** Publishes at QoS 1: true once the PUBACK came, false if the broker closed the connection instead. */
function publishOrClose(client: MqttClient, m: Published): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => resolve(false)
    client.once('close', onClose)
    client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
      client.off('close', onClose)
      resolve(!err)
    })
  })
}

interface Health {
  status: string
  problems?: string[]
}

describe('a disk that fills while the service runs', () => {
  it('stops acknowledging readings, says so on /health and in the log with the path, and takes them again once space returns, losing none acknowledged', async () => {
    // Room for a WAL of 1,000 pages (SQLite checkpoints there) and more.
    const disk = mountTmpfs(16 * 1024)
    disks.push(disk)
    const dataDir = join(disk.path, 'data')
    const service = await startServiceProcess({ dataDir, extra: ['--init'] })
    services.push(service)
    const stream = Array.from({ length: 400 }, (_, i) =>
      telemetry('full-site', 'FULL-1', {
        ts: new Date(start + i * 60_000).toISOString(),
        seq: i,
        toner: { black: 90 },
        status: 'ready',
      }),
    )
    const first = await connect(service.mqttUrl)
    first.on('error', () => {})
    await publishAll(first, stream.slice(0, 20))
    const acked = new Set(Array.from({ length: 20 }, (_, i) => i))

    const filler = disk.fill()
    let refusedAt = -1
    for (let i = 20; i < stream.length; i++) {
      if (!(await publishOrClose(first, stream[i] as Published))) {
        refusedAt = i
        break
      }
      acked.add(i)
    }
    first.end(true)
    // It stopped acknowledging before the stream ended.
    expect(refusedAt).toBeGreaterThan(0)
    const full = await getJson<Health>(`${service.http}/health`)
    expect(full.status).toBe(503)
    expect(full.body.problems?.join(' ')).toContain('is full')
    const logged = service.logs.find((l) => l.code === 'PW_ERR_STORAGE')
    expect(JSON.stringify(logged)).toContain(join(dataDir, 'printwarden.db'))

    removeFile(filler)
    await waitFor(
      async () => ((await getJson(`${service.http}/health`)).status === 200 ? true : undefined),
      20_000,
      '/health to answer 200 once space returned',
    )
    // The gateway sends again what was not acknowledged (and, as gateways do, a few that were).
    const second = await connect(service.mqttUrl)
    await publishAll(second, stream.slice(refusedAt - 5))
    await second.endAsync()
    await settled(service.http)
    const { body } = await getJson<{ items: { seq: number }[] }>(
      `${service.http}/devices/FULL-1/readings?limit=10000`,
    )
    const seqs = body.items.map((r) => r.seq)
    expect(seqs).toEqual(stream.map((_, i) => i))
    for (const i of acked) expect(seqs).toContain(i)
    expect(await stopGracefully(service)).toBe(0)
  })
})

describe('a data directory on a read-only file system', () => {
  it('stops the start with one line that names the directory and says it cannot be written', async () => {
    const disk = mountTmpfs(1024)
    disks.push(disk)
    const dataDir = join(disk.path, 'data')
    const made = await startServiceProcess({ dataDir, extra: ['--init'] })
    expect(await stopGracefully(made)).toBe(0)
    disk.remountReadOnly()
    const run = await runUntilExit([
      '--data-dir',
      dataDir,
      '--rules-dir',
      join(ROOT, 'rules'),
      '--mqtt-port',
      '0',
      '--ws-port',
      '0',
      '--http-port',
      '0',
    ])
    disk.remountReadWrite()
    expect(run.code).toBe(1)
    const lines = run.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('PW_ERR_STORAGE')
    expect(lines[0]).toContain(dataDir)
    expect(lines[0]).toContain('read-only')
  })
})
