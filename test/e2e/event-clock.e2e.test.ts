/**
 * --clock event: "now" follows the newest reading, so a simulation faster than real time sees a
 * device go silent in simulated days, not in wall-clock days.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import { kill9, startServiceProcess, tempDir } from '../helpers/service-process.ts'

describe('event time', () => {
  const data = tempDir()
  afterAll(() => data.remove())

  it('calls a device silent after 5 days of event time, and stamps actions with event time', async () => {
    const service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--clock', 'event', '--sweep-interval', '1h'],
    })
    try {
      const client = await connect(service.mqttUrl)
      // Far ahead of the wall clock: in event time, nothing is "ahead of the clock".
      const t0 = Date.parse('2031-05-06T00:00:00Z')
      await publishAll(client, [telemetry('sim', 'QUIET', { ts: iso(t0), counters: { total: 1 } })])
      // Another device keeps reporting, hour by hour of simulated time, for 6 days.
      await publishAll(
        client,
        Array.from({ length: 6 * 24 }, (_, h) =>
          telemetry('sim', 'BUSY', { ts: iso(t0 + (h + 1) * HOUR), counters: { total: h } }),
        ),
      )
      await client.endAsync()
      await settled(service.http)
      const missed = await actions(service.http, '?type=missed-reading')
      expect(missed.map((a) => a.deviceId)).toEqual(['QUIET'])
      const created = Date.parse(missed[0]?.createdAt ?? '')
      // Found at the first event-time sweep after 120 hours of silence.
      expect(created).toBeGreaterThan(t0 + 120 * HOUR)
      expect(created).toBeLessThanOrEqual(t0 + 122 * HOUR)
    } finally {
      await kill9(service)
    }
  })

  it('says in the log when event time jumps over so many sweep instants that it will take a while', async () => {
    const dir = tempDir()
    const service = await startServiceProcess({
      dataDir: dir.path,
      extra: ['--clock', 'event', '--sweep-interval', '10s'],
    })
    try {
      const client = await connect(service.mqttUrl)
      const t0 = Date.parse('2031-05-06T00:00:00Z')
      // 2 hours at a sweep every 10 s: 720 sweeps, nothing to say. Then 30 hours: 10,800.
      await publishAll(client, [
        telemetry('sim', 'JUMP', { ts: iso(t0), status: 'ready' }),
        telemetry('sim', 'JUMP', { ts: iso(t0 + 2 * HOUR), status: 'ready' }),
      ])
      await settled(service.http)
      const warned = () => service.logs.filter((l) => String(l.msg).startsWith('event time jumps'))
      expect(warned()).toEqual([])
      await publishAll(client, [telemetry('sim', 'JUMP', { ts: iso(t0 + 32 * HOUR), status: 'ready' })])
      await client.endAsync()
      await settled(service.http)
      expect(warned()).toHaveLength(1)
      expect(warned()[0]).toMatchObject({ sweeps: 10_800, sweepIntervalMs: 10_000, level: 40 })
    } finally {
      await kill9(service)
      dir.remove()
    }
  })
})
