/**
 * kill -9 at any point of a stream, as a property over the kill instant: whichever PUBACK was the
 * last one out, every acknowledged reading is there after a restart, and a full replay creates each
 * action once. A few runs only: each starts the service twice.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import { getJson, kill9, startServiceProcess, tempDir, waitFor } from '../helpers/service-process.ts'

const DEVICES = 5
const PER_DEVICE = 60
const start = Date.UTC(2026, 9, 1)
// Each device drains a cartridge to 2, gets a new one at 100 and drains it again: two reorders.
const level = (i: number) => 100 - (i % 30) * 3.3
const stream = Array.from({ length: PER_DEVICE }, (_, i) =>
  Array.from({ length: DEVICES }, (_, d) => ({
    device: `KP-${d}`,
    seq: i,
    message: telemetry('kill-site', `KP-${d}`, {
      ts: iso(start + i * HOUR),
      seq: i,
      toner: { black: Math.round(level(i)) },
    }),
  })),
).flat()

describe('kill -9 at a random point of a stream', () => {
  it('loses no acknowledged reading and creates every action once after a replay, wherever the kill falls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: stream.length - 1 }), async (killAfter) => {
        const data = tempDir()
        const first = await startServiceProcess({ dataDir: data.path })
        const client = await connect(first.mqttUrl)
        client.on('error', () => {})
        const acked: typeof stream = []
        for (const entry of stream)
          client.publish(entry.message.topic, entry.message.payload, { qos: 1 }, (err) => {
            if (!err) acked.push(entry)
          })
        await waitFor(() => (acked.length >= killAfter ? true : undefined), 60_000, `${killAfter} PUBACKs`)
        await kill9(first)
        client.end(true)
        const second = await startServiceProcess({ dataDir: data.path })
        try {
          for (let d = 0; d < DEVICES; d++) {
            const { body } = await getJson<{ items: { seq: number }[] }>(
              `${second.http}/devices/KP-${d}/readings`,
            )
            const stored = new Set(body.items.map((r) => r.seq))
            const lost = acked.filter((e) => e.device === `KP-${d}` && !stored.has(e.seq)).map((e) => e.seq)
            expect(lost, `acknowledged readings of KP-${d} lost after a kill at ${killAfter}`).toEqual([])
          }
          const replay = await connect(second.mqttUrl)
          await publishAll(
            replay,
            stream.map((e) => e.message),
          )
          await replay.endAsync()
          await settled(second.http)
          const reorders = await actions(second.http, '?type=reorder')
          for (let d = 0; d < DEVICES; d++)
            expect(
              reorders.filter((a) => a.deviceId === `KP-${d}`).map((a) => a.status),
              `the reorders of KP-${d} after a kill at ${killAfter}`,
            ).toEqual(['open', 'resolved'])
        } finally {
          await kill9(second)
          data.remove()
        }
      }),
      { numRuns: 3 },
    )
  }, 400_000)
})
