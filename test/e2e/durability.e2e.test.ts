/**
 * "Acknowledged means stored": readings stream in at QoS 1, the service is killed with SIGKILL in
 * the middle, and every reading whose PUBACK reached the gateway must be there after a restart.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import {
  actions,
  connect,
  HOUR,
  iso,
  publishAll,
  settled,
  telemetry,
  watchActions,
} from '../helpers/fleet.ts'
import { getJson, kill9, startServiceProcess, tempDir, waitFor } from '../helpers/service-process.ts'

const DEVICES = 30
const PER_DEVICE = 100
const start = Date.now() - 30 * 24 * HOUR

// Each device drains two cartridges: 100 down to 2, a new one at 100, down to 2 again.
const level = (i: number) => 100 - (i % 50) * 2
const stream = Array.from({ length: PER_DEVICE }, (_, i) =>
  Array.from({ length: DEVICES }, (_, d) => ({
    device: `DUR-${d}`,
    seq: i,
    message: telemetry('durability', `DUR-${d}`, {
      ts: iso(start + i * HOUR),
      seq: i,
      toner: { black: level(i) },
    }),
  })),
).flat()

describe('durability', () => {
  const data = tempDir()
  afterAll(() => data.remove())

  it('keeps every acknowledged reading through kill -9, and a full replay then creates every action exactly once', async () => {
    const first = await startServiceProcess({ dataDir: data.path })
    const client = await connect(first.mqttUrl)
    client.on('error', () => {})
    const acked: typeof stream = []
    for (const entry of stream) {
      client.publish(entry.message.topic, entry.message.payload, { qos: 1 }, (err) => {
        if (!err) acked.push(entry)
      })
    }
    // Kill it somewhere in the middle of the stream.
    await waitFor(
      () => (acked.length >= stream.length / 3 ? true : undefined),
      30_000,
      'a third of the PUBACKs',
    )
    await kill9(first)
    client.end(true)
    const ackedAtKill = acked.length
    expect(ackedAtKill).toBeLessThan(stream.length)

    const second = await startServiceProcess({ dataDir: data.path })
    const secondWatch = await watchActions(second.mqttUrl)
    const subscribedAt = Date.now()
    try {
      for (let d = 0; d < DEVICES; d++) {
        const { body } = await getJson<{ items: { seq: number }[] }>(
          `${second.http}/devices/DUR-${d}/readings`,
        )
        const stored = new Set(body.items.map((r) => r.seq))
        const missing = acked.filter((e) => e.device === `DUR-${d}` && !stored.has(e.seq))
        expect(missing, `acknowledged readings of DUR-${d} lost`).toEqual([])
      }

      const replay = await connect(second.mqttUrl)
      await publishAll(
        replay,
        stream.map((e) => e.message),
      )
      await replay.endAsync()
      await settled(second.http)
      const { body: stats } = await getJson<{ ingest: { duplicates: number; readingsStored: number } }>(
        `${second.http}/stats`,
      )
      expect(stats.ingest.readingsStored + stats.ingest.duplicates).toBe(stream.length)
      for (const d of [0, DEVICES - 1]) {
        const { body } = await getJson<{ items: unknown[] }>(`${second.http}/devices/DUR-${d}/readings`)
        expect(body.items).toHaveLength(PER_DEVICE)
      }
      const reorders: Action[] = await actions(second.http, '?type=reorder')
      expect(reorders).toHaveLength(2 * DEVICES)
      for (let d = 0; d < DEVICES; d++) {
        const mine = reorders.filter((a) => a.deviceId === `DUR-${d}`)
        expect(mine.map((a) => a.status).sort()).toEqual(['open', 'resolved'])
      }
      // Every change made while a subscriber listens reaches it. (A change made before it
      // subscribed, as the outbox drains at start, is not kept for it: the broker keeps no
      // sessions across a restart.)
      const sinceSubscribed = (iso: string) => Date.parse(iso) >= subscribedAt
      const due = reorders.flatMap((a) => [
        ...(sinceSubscribed(a.createdAt) ? [`${a.id}:open`] : []),
        ...(sinceSubscribed(a.updatedAt) ? [`${a.id}:${a.status}`] : []),
      ])
      expect(due.length).toBeGreaterThanOrEqual(DEVICES)
      await waitFor(
        () => {
          const sent = new Set(secondWatch.messages.map((m) => `${m.id}:${m.status}`))
          return due.every((k) => sent.has(k)) ? true : undefined
        },
        10_000,
        'every action message',
      )
    } finally {
      await secondWatch.client.endAsync()
      await kill9(second)
    }
  })
})
