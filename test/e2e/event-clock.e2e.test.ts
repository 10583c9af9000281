/**
 * --clock event: "now" follows the newest reading, so a simulation faster than real time sees a
 * device go silent in simulated days, not in wall-clock days.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import { getJson, kill9, ROOT, startServiceProcess, tempDir } from '../helpers/service-process.ts'

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

  /** 2 hours at a sweep every 10 s (720 instants), then 30 hours (10,800): what the log says of each. */
  const jump = async (rulesDir?: string) => {
    const dir = tempDir()
    const service = await startServiceProcess({
      dataDir: dir.path,
      extra: ['--clock', 'event', '--sweep-interval', '10s', ...(rulesDir ? ['--rules-dir', rulesDir] : [])],
    })
    try {
      const client = await connect(service.mqttUrl)
      const t0 = Date.parse('2031-05-06T00:00:00Z')
      await publishAll(client, [
        telemetry('sim', 'JUMP', { ts: iso(t0), status: 'ready' }),
        telemetry('sim', 'JUMP', { ts: iso(t0 + 2 * HOUR), status: 'ready' }),
      ])
      await settled(service.http)
      const warned = () => service.logs.filter((l) => String(l.msg).startsWith('event time jumps'))
      const before = warned().length
      await publishAll(client, [telemetry('sim', 'JUMP', { ts: iso(t0 + 32 * HOUR), status: 'ready' })])
      await client.endAsync()
      await settled(service.http)
      const { body } = await getJson<{ processing: { sweeps: number } }>(`${service.http}/stats`)
      return { before, after: warned(), sweeps: body.processing.sweeps }
    } finally {
      await kill9(service)
      dir.remove()
    }
  }

  it('passes a jump of event time over many sweep instants at once when no deadline falls in it', async () => {
    const { before, after, sweeps } = await jump()
    expect(before).toBe(0)
    expect(after).toEqual([])
    // Every instant passed counts, though none had anything to do.
    expect(sweeps).toBeGreaterThanOrEqual(720 + 10_800)
  })

  it('says in the log when a jump runs a scan at each of many sweep instants (a threshold that is no number)', async () => {
    const rules = mkdtempSync(join(tmpdir(), 'printwarden-scan-rules-'))
    try {
      for (const f of readdirSync(join(ROOT, 'rules')).filter((f) => f.endsWith('.json')))
        cpSync(join(ROOT, 'rules', f), join(rules, f))
      writeFileSync(
        join(rules, 'odd-silence.json'),
        JSON.stringify({
          name: 'odd-silence',
          subject: 'silence',
          conditions: {
            all: [{ fact: 'device', path: '$.hoursSinceLastReading', operator: 'greaterThan', value: '120' }],
          },
          event: { type: 'odd-silence' },
        }),
      )
      const { before, after } = await jump(rules)
      expect(before).toBe(0)
      expect(after).toHaveLength(1)
      expect(after[0]).toMatchObject({
        sweeps: 10_800,
        sweepIntervalMs: 10_000,
        level: 40,
        scanned: ['silence', 'billing'],
      })
    } finally {
      rmSync(rules, { recursive: true, force: true })
    }
  })
})
