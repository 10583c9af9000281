/**
 * A gateway's buffer of one device's readings after an outage, as the messages it replays: arrays
 * of readings, oldest first, within the contract's batch size and the service's payload limit.
 */
import { MAX_BATCH } from '../src/contract/schemas.ts'

export interface Buffered {
  ts: number
  /** The reading as the JSON text it is sent as. */
  json: string
  /** Whether it should cause an action (its send time is kept for the latency). */
  watch: boolean
}

export function replayChunks(
  list: readonly Buffered[],
  maxPayloadBytes: number,
): { payload: string; readings: number; watch: number[] }[] {
  const out: { payload: string; readings: number; watch: number[] }[] = []
  let chunk: Buffered[] = []
  let bytes = 2
  const flush = () => {
    if (chunk.length === 0) return
    out.push({
      payload: `[${chunk.map((c) => c.json).join(',')}]`,
      readings: chunk.length,
      watch: chunk.filter((c) => c.watch).map((c) => c.ts),
    })
    chunk = []
    bytes = 2
  }
  for (const item of list) {
    if (chunk.length >= MAX_BATCH || bytes + item.json.length + 1 > maxPayloadBytes) flush()
    chunk.push(item)
    bytes += item.json.length + 1
  }
  flush()
  return out
}
