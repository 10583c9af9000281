import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SubjectKind } from '../../src/domain/device-state.ts'
import { engineFor, RuleEvaluator } from '../../src/rules/evaluator.ts'
import { FACT_FIELDS, SUBJECT_FACTS } from '../../src/rules/facts.ts'
import { loadRuleDir } from '../../src/rules/loader.ts'
import type { FactName } from '../../src/subjects/fact-schemas.ts'

const shipped = await loadRuleDir(join(import.meta.dirname, '../../rules'))

// Values around the shipped rules' thresholds, of every type a fact field has, and missing ones:
// the memo must tell apart every case the engine tells apart.
const value = fc.oneof(
  fc.integer({ min: -2, max: 120 }),
  fc.double({ min: -5, max: 200, noNaN: true }),
  fc.constantFrom(0, 1, 5, 20, 24, 48, 120, 168, 2, 3, 0.5),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('threshold', 'spare-kit', 'critical', 'warning', 'info', 'full', 'nearFull', 'ok'),
  fc.constantFrom('ordered', 'shipped', 'delivered', 'active', 'suspended', 'ended', 'online', 'offline'),
  fc.constantFrom('2026-06-01T08:00:00.000Z', 'c1', 'cyan', 'black', 'SC-001'),
)

/** The values the shipped rules compare each fact field with, and the numbers either side of them. */
const compared = new Map<string, unknown[]>()
const walk = (node: unknown): void => {
  if (typeof node !== 'object' || node === null) return
  const n = node as Record<string, unknown>
  for (const child of [...((n.all as unknown[]) ?? []), ...((n.any as unknown[]) ?? []), n.not]) walk(child)
  if (typeof n.fact !== 'string' || typeof n.path !== 'string') return
  const key = `${n.fact}${n.path.slice(1)}`
  const values = Array.isArray(n.value) ? n.value : [n.value]
  const near = values.flatMap((v) => (typeof v === 'number' ? [v - 1, v, v + 0.5, v + 1] : [v]))
  compared.set(key, [...(compared.get(key) ?? []), ...near])
}
for (const rule of shipped.rules) walk(rule.conditions)

/** A field's value: mostly one its rules compare it with, else any of the values above. */
const fieldValue = (fact: FactName, field: string) => {
  const pool = compared.get(`${fact}.${field}`)
  return pool ? fc.oneof({ arbitrary: fc.constantFrom(...pool), weight: 3 }, value) : value
}

/** A fact object with some of its fields. */
const factOf = (name: FactName) =>
  fc.record(Object.fromEntries(FACT_FIELDS[name].map((f) => [f, fieldValue(name, f)])), { requiredKeys: [] })

const factsOf = (kind: SubjectKind) =>
  fc.record(
    Object.fromEntries(SUBJECT_FACTS[kind].map((f) => [f, factOf(f)])) as Record<
      FactName,
      fc.Arbitrary<unknown>
    >,
    {
      requiredKeys: [],
    },
  )

const kinds = [...new Set(shipped.rules.map((r) => r.subject))]

describe('the decision memo', () => {
  it('loads the shipped rules', () => {
    expect(shipped.failures).toEqual([])
    expect(kinds.length).toBeGreaterThanOrEqual(8)
  })

  for (const kind of kinds) {
    it(`fires the rules the engine fires, with the same params: ${kind}`, async () => {
      const rules = shipped.rules.filter((r) => r.subject === kind)
      const engine = engineFor(rules)
      // One evaluator for all the runs, so that most cases come from its memo.
      let fromMemo = 0
      const evaluator = new RuleEvaluator(rules, undefined, (_kind, by) => {
        if (by === 'memo') fromMemo++
      })
      let firing = 0
      await fc.assert(
        fc.asyncProperty(factsOf(kind), async (facts) => {
          const { results } = await engine.run(facts)
          const expected = results.map((r) => ({ rule: r.name, params: r.event?.params ?? {} }))
          const got = (await evaluator.decide(kind, facts)).map((f) => ({
            rule: f.rule.name,
            params: f.params,
          }))
          expect(got).toEqual(expected)
          if (expected.length > 0) firing++
        }),
        { numRuns: 600 },
      )
      expect(fromMemo).toBeGreaterThan(0)
      // The random facts make the rules fire, not only stay quiet.
      expect(firing).toBeGreaterThan(0)
    })
  }
})
