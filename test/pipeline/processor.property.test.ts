/**
 * Properties of the whole decision path, on the real components: readings go into a real SQLite
 * store and the processor folds them and runs the shipped rule files. fast-check chooses the
 * readings, their order, their duplicates and how they are split into commits.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.ts'
import { NEW_CARTRIDGE_RISE } from '../../src/domain/device-state.ts'
import type { Reading } from '../../src/domain/reading.ts'
import { Processor } from '../../src/pipeline/processor.ts'
import { RuleEvaluator } from '../../src/rules/evaluator.ts'
import { loadRuleDir } from '../../src/rules/loader.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'

const shipped = await loadRuleDir(join(import.meta.dirname, '../../rules'))
const evaluator = new RuleEvaluator(shipped.rules)
const T0 = Date.UTC(2026, 10, 1)
const log = pino({ level: 'silent' })

/** Feeds the readings in the given chunks and returns what the ledger holds. */
async function run(chunks: Reading[][]) {
  const dir = mkdtempSync(join(tmpdir(), 'pw-prop-'))
  const store = new SqliteStore(dir)
  await store.start()
  const processor = new Processor({ store, clock: new ManualClock(T0 + 1e9), rules: () => evaluator, log })
  await processor.start()
  try {
    for (const chunk of chunks) {
      await store.ingest(chunk, [], T0)
      await processor.idle()
    }
    await processor.stop()
    return {
      actions: await store.actions({ limit: 10_000 }),
      unresolved: (await store.unresolvedActions(['P-1'])).get('P-1') ?? [],
      stored: (await store.readings('P-1', { from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10_000 })).length,
    }
  } finally {
    await store.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const reading = (i: number, black: number, errors?: string[], wasteBox?: Reading['wasteBox']): Reading => ({
  deviceId: 'P-1',
  siteId: 'prop',
  ts: T0 + i * 60_000,
  seq: i,
  toner: { black },
  ...(errors ? { errors: errors.map((code) => ({ code, severity: 'critical' as const })) } : {}),
  ...(wasteBox === undefined ? {} : { wasteBox }),
})

const history = fc
  .array(
    fc.record({
      level: fc.integer({ min: 0, max: 100 }),
      errors: fc.option(fc.subarray(['E1', 'E2']), { nil: undefined }),
      wasteBox: fc.option(
        fc.oneof(
          fc.constantFrom('ok' as const, 'nearFull' as const, 'full' as const),
          fc.integer({ min: 0, max: 100 }),
        ),
        {
          nil: undefined,
        },
      ),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .map((steps) => steps.map((s, i) => reading(i, s.level, s.errors, s.wasteBox)))

/** Splits a list into consecutive chunks at the given cut points. */
const chunked = <T>(list: T[], cuts: number[]): T[][] => {
  const points = [...new Set(cuts.map((c) => c % (list.length + 1)))].sort((a, b) => a - b)
  const out: T[][] = []
  let from = 0
  for (const p of [...points, list.length]) {
    if (p > from) out.push(list.slice(from, p))
    from = Math.max(from, p)
  }
  return out
}

const key = (a: { subject: string; episode: string }) => `${a.subject}@${a.episode}`

describe('the processor over the shipped rules', () => {
  it('never has two unresolved orders for one cartridge, and orders once per cartridge that falls to 20%', async () => {
    await fc.assert(
      fc.asyncProperty(history, async (readings) => {
        const { actions, unresolved } = await run([readings])
        const reorders = actions.filter((a) => a.type === 'reorder')
        // One order per cartridge episode whose level reached 20 or less.
        let cartridges = 0
        let orderedThisCartridge = false
        for (let i = 0; i < readings.length; i++) {
          const lvl = readings[i]?.toner?.black as number
          const prev = readings[i - 1]?.toner?.black
          if (i === 0 || (prev !== undefined && lvl - prev >= NEW_CARTRIDGE_RISE))
            orderedThisCartridge = false
          if (lvl <= 20 && !orderedThisCartridge) {
            cartridges++
            orderedThisCartridge = true
          }
        }
        expect(reorders).toHaveLength(cartridges)
        expect(
          unresolved.filter((a) => a.subject === 'toner:black' && a.type === 'reorder').length,
        ).toBeLessThanOrEqual(1)
      }),
      { numRuns: 40 },
    )
  })

  it('never opens a second order when every rise is under 30 points', async () => {
    const smallRises = fc
      .array(fc.integer({ min: -40, max: NEW_CARTRIDGE_RISE - 1 }), { minLength: 1, maxLength: 30 })
      .map((deltas) => {
        let level = 15
        return deltas.map((d, i) => {
          level = Math.min(100, Math.max(0, level + d))
          return reading(i, level)
        })
      })
    await fc.assert(
      fc.asyncProperty(smallRises, async (readings) => {
        const { actions } = await run([readings])
        const low = readings.some((r) => (r.toner?.black ?? 100) <= 20)
        expect(actions.filter((a) => a.type === 'reorder')).toHaveLength(low ? 1 : 0)
      }),
      { numRuns: 30 },
    )
  })

  it("decides on the readings that were their device's newest when they arrived, whatever the order, duplication and batching", async () => {
    await fc.assert(
      fc.asyncProperty(
        history.chain((readings) =>
          fc.record({
            shuffled: fc.shuffledSubarray([...readings, ...readings], { minLength: 2 * readings.length }),
            cuts: fc.array(fc.nat(), { maxLength: 6 }),
          }),
        ),
        async ({ shuffled, cuts }) => {
          // What arrives first is stored; a repeat is a duplicate. Of what is stored, a reading
          // older than one already processed is late: kept, but it decides nothing.
          const seen = new Set<number>()
          const records: Reading[] = []
          for (const r of shuffled) {
            if (seen.has(r.ts)) continue
            seen.add(r.ts)
            if (records.length === 0 || r.ts > (records.at(-1) as Reading).ts) records.push(r)
          }
          const mixed = await run(chunked(shuffled, cuts))
          const expected = await run([records])
          const strip = (r: typeof mixed) => r.actions.map(({ id: _id, ...rest }) => rest)
          expect(strip(mixed)).toEqual(strip(expected))
          expect(mixed.unresolved.map(key).sort()).toEqual(expected.unresolved.map(key).sort())
          expect(mixed.stored).toBe(seen.size)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('ignores a replay of readings it already has: nothing is created, changed or repeated', async () => {
    await fc.assert(
      fc.asyncProperty(history, fc.nat(), async (readings, cut) => {
        const once = await run([readings])
        const again = await run([readings, readings.slice(cut % readings.length), readings])
        const strip = (r: typeof once) => r.actions.map(({ id: _id, ...rest }) => rest)
        expect(strip(again)).toEqual(strip(once))
      }),
      { numRuns: 30 },
    )
  })
})
