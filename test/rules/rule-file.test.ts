import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type DeviceState, step } from '../../src/domain/device-state.ts'
import type { ActiveError, Reading, WasteBoxReport } from '../../src/domain/reading.ts'
import { RuleEvaluator, resolvePath } from '../../src/rules/evaluator.ts'
import { type LoadedRule, loadRuleDir, parseRuleFile, type RuleFailure } from '../../src/rules/loader.ts'
import { checkRule } from '../../src/rules/rule-file.ts'

const RULES_DIR = 'rules'

/** A valid rule file, to break one piece at a time. */
const good = {
  name: 'toner-low',
  subject: 'toner',
  conditions: { all: [{ fact: 'toner', path: '$.level', operator: 'lessThan', value: 10 }] },
  event: { type: 'reorder' },
}

function failureOf(file: string, json: unknown): RuleFailure {
  const result = parseRuleFile(file, typeof json === 'string' ? json : JSON.stringify(json))
  if (!('failure' in result)) throw new Error(`${file} was expected to fail, and loaded`)
  return result.failure
}

const withCondition = (condition: Record<string, unknown>) => ({ ...good, conditions: { all: [condition] } })

describe('the shipped rule files', () => {
  it('load one by one with no failure', async () => {
    const names = (await readdir(RULES_DIR)).filter((n) => n.endsWith('.json'))
    expect(names.length).toBeGreaterThanOrEqual(4)
    for (const name of names) {
      const result = parseRuleFile(name, await readFile(join(RULES_DIR, name), 'utf8'))
      expect(result, name).toHaveProperty('rule')
    }
  })

  it('load together with no failure, and create the four action types of the contract among others', async () => {
    const { rules, failures } = await loadRuleDir(RULES_DIR)
    expect(failures).toEqual([])
    expect(rules.map((r) => r.event.type)).toEqual(
      expect.arrayContaining(['reorder', 'waste-box', 'missed-reading', 'fault']),
    )
    expect(rules.map((r) => r.file)).toEqual([...rules.map((r) => r.file)].sort())
  })
})

describe('parseRuleFile', () => {
  it('loads a valid rule and records its file', () => {
    const result = parseRuleFile('toner-low.json', JSON.stringify(good))
    expect(result).toEqual({ rule: { ...good, file: 'toner-low.json' } })
  })

  it('loads conditions nested in any, all and not', () => {
    const nested = {
      ...good,
      conditions: {
        any: [
          { not: { fact: 'toner', path: '$.color', operator: 'equal', value: 'black' } },
          { all: [{ fact: 'device', path: '$.vendor', operator: 'in', value: ['Kyocera', 'HP'] }] },
        ],
      },
    }
    expect(parseRuleFile('nested.json', JSON.stringify(nested))).toHaveProperty('rule')
  })

  it('loads an operator with a decorator and a condition on a whole fact, without a path', () => {
    const rule = withCondition({ fact: 'device', operator: 'notEqual', value: null })
    expect(parseRuleFile('whole.json', JSON.stringify(rule))).toHaveProperty('rule')
    const decorated = withCondition({ fact: 'toner', path: '$.color', operator: 'not:equal', value: 'black' })
    expect(parseRuleFile('decorated.json', JSON.stringify(decorated))).toHaveProperty('rule')
  })

  it('reports a file that is not JSON, naming the file', () => {
    const f = failureOf('broken.json', '{ "name": "x", ')
    expect(f.file).toBe('broken.json')
    expect(f.code).toBe('PW_ERR_RULE_FILE')
    expect(f.reason).toMatch(/^broken\.json: not valid JSON/)
  })

  it('reports an unknown subject at /subject', () => {
    const f = failureOf('paper.json', { ...good, subject: 'paper' })
    expect(f.reason).toBe(
      'paper.json: at /subject: unknown subject "paper"; expected one of toner, wasteBox, error, recurrence, silence, billing, stock, gateway',
    )
  })

  it('reports an unknown operator with its path and the operators that exist', () => {
    const f = failureOf(
      'typo.json',
      withCondition({ fact: 'toner', path: '$.level', operator: 'lessThen', value: 10 }),
    )
    expect(f.reason).toMatch(/^typo\.json: at \/conditions\/all\/0\/operator: /)
    expect(f.reason).toContain('"lessThen"')
    expect(f.reason).toContain('lessThan')
  })

  it('reports an unknown operator decorator', () => {
    const f = failureOf(
      'deco.json',
      withCondition({ fact: 'toner', path: '$.level', operator: 'often:lessThan', value: 10 }),
    )
    expect(f.reason).toMatch(/at \/conditions\/all\/0\/operator/)
  })

  it('reports a fact that the subject does not have, and the facts it has', () => {
    const rule = {
      ...good,
      subject: 'silence',
      conditions: { all: [{ fact: 'toner', path: '$.level', operator: 'lessThan', value: 10 }] },
    }
    const f = failureOf('silent.json', rule)
    expect(f.reason).toMatch(/^silent\.json: at \/conditions\/all\/0\/fact: /)
    expect(f.reason).toContain('"toner"')
    expect(f.reason).toContain('device')
  })

  it('reports a path naming a field the fact does not have, and the fields it has', () => {
    const f = failureOf(
      'levle.json',
      withCondition({ fact: 'toner', path: '$.levle', operator: 'lessThan', value: 10 }),
    )
    expect(f.reason).toMatch(/^levle\.json: at \/conditions\/all\/0\/path: /)
    expect(f.reason).toContain('"levle"')
    expect(f.reason).toContain('level')
  })

  it('reports a path that is not of the form $.field', () => {
    const f = failureOf(
      'jsonpath.json',
      withCondition({ fact: 'toner', path: '$..level', operator: 'lessThan', value: 10 }),
    )
    expect(f.reason).toMatch(/at \/conditions\/all\/0\/path: expected a path like/)
  })

  it('reports a condition without value', () => {
    const f = failureOf(
      'novalue.json',
      withCondition({ fact: 'toner', path: '$.level', operator: 'lessThan' }),
    )
    expect(f.reason).toMatch(/^novalue\.json: at \/conditions\/all\/0\/value: missing/)
  })

  it('reports a top-level condition that is not all, any or not', () => {
    const rule = { ...good, conditions: { fact: 'toner', path: '$.level', operator: 'lessThan', value: 10 } }
    const f = failureOf('flat.json', rule)
    expect(f.reason).toMatch(/^flat\.json: at \/conditions: /)
    expect(f.reason).toMatch(/all.*any.*not/)
  })

  it('reports a problem deep in the tree with its whole path', () => {
    const rule = {
      ...good,
      conditions: {
        any: [
          { fact: 'toner', path: '$.level', operator: 'equal', value: 1 },
          { not: { fact: 'toner', operator: 'equal' } },
        ],
      },
    }
    expect(failureOf('deep.json', rule).reason).toMatch(/at \/conditions\/any\/1\/not\/value: /)
  })

  it('refuses a condition that has both all and any, of which the engine would read only one', () => {
    // json-rules-engine's Condition.booleanOperator takes "any" before "all": a second list beside
    // the first would go unread, and a broken one in it would throw at every evaluation.
    const rule = {
      ...good,
      conditions: {
        all: [{ fact: 'toner', path: '$.level', operator: 'lessThan', value: 10 }],
        any: [{ fact: 'toner', path: '$.level', operator: 'lessThen', value: 10 }],
      },
    }
    expect(failureOf('both.json', rule).reason).toBe(
      'both.json: at /conditions: expected one of all, any, not, or a single condition; this object has all and any',
    )
  })

  it('reports an unknown key in a condition', () => {
    const f = failureOf(
      'key.json',
      withCondition({ fact: 'toner', path: '$.level', operator: 'lessThan', value: 1, vaule: 2 }),
    )
    expect(f.reason).toMatch(/at \/conditions\/all\/0\/vaule: unknown key/)
  })

  it('reports a shared condition referred to by name, which is not supported', () => {
    expect(failureOf('shared.json', withCondition({ condition: 'low' })).reason).toMatch(
      /at \/conditions\/all\/0\/condition/,
    )
  })

  it('reports a missing name, an unknown top-level key and a bad action type at their paths', () => {
    const { name: _name, ...nameless } = good
    expect(failureOf('a.json', nameless).reason).toMatch(/^a\.json: at \/name: /)
    expect(failureOf('b.json', { ...good, priorty: 2 }).reason).toMatch(/^b\.json: at \/priorty: /)
    expect(failureOf('c.json', { ...good, event: { type: 'Re Order' } }).reason).toMatch(
      /^c\.json: at \/event\/type: /,
    )
  })

  it('reports a file that holds an array or a string rather than a rule', () => {
    expect(failureOf('list.json', [good]).reason).toMatch(/^list\.json: at /)
    expect(failureOf('text.json', '"rule"').reason).toMatch(/^text\.json: at /)
  })

  it('gives checkRule the same verdicts, without a file name', () => {
    expect(checkRule(good)).toEqual({ ok: true, rule: good })
    expect(checkRule({ ...good, subject: 'paper' })).toMatchObject({ ok: false, path: '/subject' })
  })
})

describe('loadRuleDir', () => {
  let dir: string
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  async function ruleDir(files: Record<string, string>): Promise<string> {
    dir = await mkdtemp(join(tmpdir(), 'printwarden-rules-'))
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
    return dir
  }

  it('loads the good file and reports the broken one', async () => {
    const d = await ruleDir({
      'good.json': JSON.stringify(good),
      'broken.json': JSON.stringify(
        withCondition({ fact: 'toner', path: '$.level', operator: 'lessThen', value: 10 }),
      ),
    })
    const { rules, failures } = await loadRuleDir(d)
    expect(rules.map((r) => [r.name, r.file])).toEqual([['toner-low', 'good.json']])
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ file: 'broken.json', code: 'PW_ERR_RULE_FILE' })
    expect(failures[0]?.reason).toMatch(/^broken\.json: at \/conditions\/all\/0\/operator/)
  })

  it('refuses the second of two files with the same rule name, naming the first', async () => {
    const d = await ruleDir({
      'a-first.json': JSON.stringify(good),
      'b-second.json': JSON.stringify({ ...good, description: 'the same name again' }),
    })
    const { rules, failures } = await loadRuleDir(d)
    expect(rules.map((r) => r.file)).toEqual(['a-first.json'])
    expect(failures).toEqual([
      {
        file: 'b-second.json',
        code: 'PW_ERR_RULE_FILE',
        reason: expect.stringMatching(/^b-second\.json: at \/name: .*a-first\.json/),
      },
    ])
  })

  it('reads only .json files', async () => {
    const d = await ruleDir({
      'README.md': '# not a rule',
      'good.json': JSON.stringify(good),
      'notes.txt': '{',
    })
    const { rules, failures } = await loadRuleDir(d)
    expect(rules).toHaveLength(1)
    expect(failures).toEqual([])
  })

  it('loads nothing from an empty folder', async () => {
    expect(await loadRuleDir(await ruleDir({}))).toEqual({ rules: [], failures: [] })
  })

  it('loads a rule that names the replaced orderedForHours, with a warning that names workingDaysOverdue', async () => {
    const d = await ruleDir({
      'old-overdue.json': JSON.stringify({
        ...good,
        name: 'old-overdue',
        subject: 'toner',
        conditions: {
          all: [{ fact: 'toner', path: '$.orderedForHours', operator: 'greaterThan', value: 48 }],
        },
      }),
    })
    const set = await loadRuleDir(d)
    expect(set.failures).toEqual([])
    expect(set.rules.map((r) => r.name)).toEqual(['old-overdue'])
    expect(set.warnings).toEqual([
      { file: 'old-overdue.json', warning: expect.stringMatching(/orderedForHours.*workingDaysOverdue/) },
    ])
  })
})

describe('resolvePath', () => {
  it('reads nested fields by plain property access', () => {
    expect(resolvePath({ a: { b: 3 } }, '$.a.b')).toBe(3)
    expect(resolvePath({ level: 7 }, '$.level')).toBe(7)
    expect(resolvePath({ level: 7 }, '$')).toEqual({ level: 7 })
  })

  it('gives undefined for a field that is missing, and never reads the prototype', () => {
    expect(resolvePath({ a: 1 }, '$.b')).toBeUndefined()
    expect(resolvePath({ a: null }, '$.a.b')).toBeUndefined()
    expect(resolvePath({}, '$.constructor')).toBeUndefined()
    expect(resolvePath({}, '$.__proto__')).toBeUndefined()
  })
})

// --- the shipped rules over real device states ---

const T0 = Date.parse('2026-11-20T08:00:00Z')
const HOUR = 3_600_000

function stateOf(...fields: Omit<Reading, 'deviceId' | 'siteId' | 'ts'>[]): DeviceState {
  let state: DeviceState | undefined
  fields.forEach((f, i) => {
    state = step(state, { deviceId: 'SCM-004512', siteId: 'milano-hq', ts: T0 + i * 60_000, ...f })
  })
  if (!state) throw new Error('no readings')
  return state
}

describe('RuleEvaluator with the shipped rules', () => {
  let evaluator: RuleEvaluator
  let rules: LoadedRule[]
  beforeAll(async () => {
    ;({ rules } = await loadRuleDir(RULES_DIR))
    evaluator = new RuleEvaluator(rules)
  })

  const evaluate = (kind: 'toner' | 'wasteBox' | 'error', state: DeviceState) =>
    evaluator.evaluate([kind], state, {}, state.lastTs)

  it('has rules for every subject', () => {
    for (const kind of ['toner', 'wasteBox', 'error', 'silence'] as const)
      expect(evaluator.hasRulesFor(kind)).toBe(true)
  })

  it('asks for a reorder when a toner colour is at 20', async () => {
    const state = stateOf({ toner: { black: 64, cyan: 20 } })
    expect(await evaluate('toner', state)).toEqual([
      {
        rule: 'toner-reorder',
        type: 'reorder',
        deviceId: 'SCM-004512',
        siteId: 'milano-hq',
        subject: 'toner:cyan',
        episode: 'initial',
        details: {
          color: 'cyan',
          level: 20,
          // Friday 2026-11-20 08:00 UTC, before noon: the end of Tuesday on the support calendar.
          expectedDelivery: '2026-11-24T18:00:00.000Z',
          delivery: { step: 'ordered', ordered: { at: new Date(state.lastTs).toISOString() } },
        },
        at: state.lastTs,
      },
    ])
  })

  it('asks for no reorder when every toner colour is at 21 or more', async () => {
    expect(await evaluate('toner', stateOf({ toner: { black: 21, cyan: 100 } }))).toEqual([])
  })

  it('asks for a reorder of each low colour, in the episode of its cartridge', async () => {
    const state = stateOf(
      { toner: { black: 5, yellow: 3 } },
      { toner: { black: 50 } },
      { toner: { black: 0 } },
    )
    const candidates = await evaluate('toner', state)
    expect(candidates.map((c) => [c.details.color, c.details.level, c.episode])).toEqual([
      ['black', 0, `c${T0 + 60_000}`],
      ['yellow', 3, 'initial'],
    ])
  })

  it('opens a fault for an active critical error, with its code', async () => {
    const fuser: ActiveError = { code: 'C-2557', severity: 'critical', text: 'Fuser error' }
    const candidates = await evaluate('error', stateOf({ errors: [fuser] }))
    expect(candidates).toHaveLength(1)
    expect(candidates[0]).toMatchObject({
      rule: 'critical-fault',
      type: 'fault',
      subject: 'error:C-2557',
      episode: `e${T0}`,
    })
    expect(candidates[0]?.details.code).toBe('C-2557')
  })

  it('opens no fault for a warning or an info', async () => {
    const state = stateOf({
      errors: [
        { code: 'J-0101', severity: 'warning' },
        { code: 'I-1', severity: 'info' },
      ],
    })
    expect(await evaluate('error', state)).toEqual([])
  })

  it.each<WasteBoxReport>(['nearFull', 'full', 90, 100])(
    'asks for a waste box when the box reports %s',
    async (report) => {
      const candidates = await evaluate('wasteBox', stateOf({ wasteBox: report }))
      expect(candidates).toHaveLength(1)
      expect(candidates[0]).toMatchObject({
        rule: 'waste-box',
        type: 'waste-box',
        subject: 'wasteBox',
        episode: 'initial',
      })
    },
  )

  it.each<WasteBoxReport>([89, 'ok', 0])('asks for no waste box when the box reports %s', async (report) => {
    expect(await evaluate('wasteBox', stateOf({ wasteBox: report }))).toEqual([])
  })

  it('asks for nothing about a subject the device never reported', async () => {
    const state = stateOf({ status: 'ready' })
    expect(await evaluator.evaluate(['toner', 'wasteBox', 'error'], state, {}, state.lastTs)).toEqual([])
  })

  it('chases a device silent for 120.1 hours, and not one silent for 119.9 hours or exactly 120', async () => {
    const state = stateOf({ status: 'ready' })
    const silentFor = (hours: number) =>
      evaluator.evaluate(['silence'], state, {}, state.lastTs + hours * HOUR)
    const fired = await silentFor(120.1)
    expect(fired).toHaveLength(1)
    expect(fired[0]).toMatchObject({
      rule: 'missed-reading',
      type: 'missed-reading',
      subject: 'silence',
      episode: `s${state.lastTs}`,
      details: { hoursSinceLastReading: 120.1 },
    })
    expect(await silentFor(119.9)).toEqual([])
    expect(await silentFor(120)).toEqual([])
  })

  it('runs only the subject kinds it is asked for', async () => {
    const state = stateOf({ toner: { black: 1 }, wasteBox: 'full' })
    const candidates = await evaluator.evaluate(['wasteBox'], state, {}, state.lastTs + 200 * HOUR)
    expect(candidates.map((c) => c.type)).toEqual(['waste-box'])
  })

  it('runs a decorated operator that the checker accepted', async () => {
    const rule = parseRuleFile(
      'not-black.json',
      JSON.stringify(
        withCondition({ fact: 'toner', path: '$.color', operator: 'not:equal', value: 'black' }),
      ),
    )
    if (!('rule' in rule)) throw new Error(rule.failure.reason)
    const state = stateOf({ toner: { black: 5, cyan: 5 } })
    const candidates = await new RuleEvaluator([rule.rule]).evaluate(['toner'], state, {}, T0)
    expect(candidates.map((c) => c.subject)).toEqual(['toner:cyan'])
  })

  it('adds the params of a rule event to the details of its actions', async () => {
    const rule = parseRuleFile(
      'p.json',
      JSON.stringify({ ...good, event: { type: 'reorder', params: { priority: 'high' } } }),
    )
    if (!('rule' in rule)) throw new Error(rule.failure.reason)
    const candidates = await new RuleEvaluator([rule.rule]).evaluate(
      ['toner'],
      stateOf({ toner: { black: 5 } }),
      {},
      T0,
    )
    expect(candidates[0]?.details).toEqual({ priority: 'high', color: 'black', level: 5 })
  })
})
