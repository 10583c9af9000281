/**
 * Every rule shown in rules/README.md loads, and runs in the real engine over a device that makes
 * it fire: the documentation cannot drift from what the engine takes.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SUBJECT_KINDS, step } from '../../src/domain/device-state.ts'
import type { Reading } from '../../src/domain/reading.ts'
import { RuleEvaluator } from '../../src/rules/evaluator.ts'
import { FACT_FIELDS } from '../../src/rules/facts.ts'
import { parseRuleFile } from '../../src/rules/loader.ts'
import { withTables } from '../../src/subjects/docs.ts'
import { ROOT } from '../helpers/service-process.ts'

const readme = readFileSync(join(ROOT, 'rules/README.md'), 'utf8')
const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m, i) => ({
  n: i + 1,
  text: m[1] ?? '',
}))

const T0 = Date.UTC(2026, 10, 2, 8)
const HOUR = 3_600_000
const r = (h: number, fields: Partial<Reading>): Reading => ({
  deviceId: 'DOC-1',
  siteId: 'doc',
  ts: T0 + h * HOUR,
  ...fields,
})

/** A device that each example of the README should fire on, by rule name. */
const firesOn: Record<
  string,
  { readings: Reading[]; info?: Record<string, string>; at: number; subject: 'toner' | 'error' | 'silence' }
> = {
  'toner-reorder': { readings: [r(0, { toner: { black: 19 } })], at: T0, subject: 'toner' },
  'paper-jam-ticket': {
    readings: [
      r(0, { errors: [{ code: 'J-0101', severity: 'warning' }] }),
      r(5, { errors: [{ code: 'J-0101', severity: 'warning' }] }),
    ],
    at: T0 + 5 * HOUR,
    subject: 'error',
  },
  'toner-reorder-konica': {
    readings: [r(0, { toner: { cyan: 24 } })],
    info: { vendor: 'Konica Minolta' },
    at: T0,
    subject: 'toner',
  },
  'missed-reading-1d': { readings: [r(0, { status: 'ready' })], at: T0 + 25 * HOUR, subject: 'silence' },
}

describe('the examples of rules/README.md', () => {
  it('are there', () => {
    expect(examples.map((e) => (JSON.parse(e.text) as { name: string }).name)).toEqual(Object.keys(firesOn))
  })

  it.each(examples)('example $n loads and fires in the real engine', async ({ text }) => {
    const loaded = parseRuleFile('README.md', text)
    if ('failure' in loaded) throw new Error(loaded.failure.reason)
    const scene = firesOn[loaded.rule.name]
    if (!scene) throw new Error(`no scene for ${loaded.rule.name}`)
    let state = step(undefined, scene.readings[0] as Reading)
    for (const reading of scene.readings.slice(1)) state = step(state, reading)
    const evaluator = new RuleEvaluator([loaded.rule])
    const actions = await evaluator.evaluate([scene.subject], state, scene.info ?? {}, scene.at)
    expect(evaluator.runtimeErrors()).toEqual([])
    expect(actions.map((a) => a.type)).toEqual([loaded.rule.event.type])
  })

  it('has the subject and fact tables of the declarations in src/subjects/ (npm run docs:rules)', () => {
    expect(readme).toBe(withTables(readme))
  })

  it('documents every fact field and every subject', () => {
    for (const [fact, fields] of Object.entries(FACT_FIELDS)) {
      expect(readme).toContain(`| \`${fact}\` |`)
      for (const field of fields) expect(readme).toContain(`\`$.${field}\``)
    }
    for (const subject of SUBJECT_KINDS) expect(readme).toContain(`| \`${subject}\` |`)
  })

  it('lists every shipped rule file', () => {
    for (const file of readdirSync(join(ROOT, 'rules')).filter((f) => f.endsWith('.json'))) {
      expect(readme).toContain(`\`${file}\``)
    }
  })
})
