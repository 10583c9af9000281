/**
 * The schema of a rule file, and its checks. A rule file is one rule in json-rules-engine's own
 * format (`conditions`, `event`, `priority`) plus what printwarden needs: the `subject` the rule
 * speaks about, which decides its facts and when its actions end. Every problem is reported with
 * the JSON path where it is, and what was expected there.
 */
import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ID_PATTERN } from '../contract/topics.ts'
import { DeliveryTermsSchema } from '../domain/delivery.ts'
import { SUBJECT_KINDS } from '../domain/device-state.ts'
import { SlaTermsSchema } from '../domain/ticket.ts'
import type { FactName } from '../subjects/fact-schemas.ts'
import { FACT_FIELDS, SUBJECT_FACTS } from './facts.ts'

export const RuleFile = Type.Object(
  {
    name: Type.String({ pattern: ID_PATTERN, description: 'unique among all rule files' }),
    description: Type.Optional(Type.String()),
    subject: Type.Union(SUBJECT_KINDS.map((s) => Type.Literal(s))),
    priority: Type.Optional(Type.Integer({ minimum: 1 })),
    /** The action is a service ticket, with SLA clocks on the site's working-hour calendar. */
    ticket: Type.Optional(Type.Partial(SlaTermsSchema)),
    /**
     * The action is an order with a delivery: `details.expectedDelivery` from these lead times (working
     * days before and after the cutoff, on the site's calendar), and `details.delivery`'s steps.
     */
    delivery: Type.Optional(DeliveryTermsSchema),
    conditions: Type.Record(Type.String(), Type.Unknown()),
    event: Type.Object(
      {
        type: Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$', description: 'the action type' }),
        params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)
export type RuleFile = Static<typeof RuleFile>

const checkRuleFile = TypeCompiler.Compile(RuleFile)

/** json-rules-engine's built-in operators and operator decorators (its README, "Operators"). */
export const OPERATORS = [
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
] as const
export const OPERATOR_DECORATORS = [
  'someFact',
  'someValue',
  'everyFact',
  'everyValue',
  'swap',
  'not',
] as const

const PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$/
const CONDITION_KEYS = new Set(['fact', 'operator', 'value', 'path', 'params', 'name', 'priority'])

function isKnownOperator(op: string): boolean {
  const parts = op.split(':')
  const base = parts.pop() ?? ''
  return (
    (OPERATORS as readonly string[]).includes(base) &&
    parts.every((d) => (OPERATOR_DECORATORS as readonly string[]).includes(d))
  )
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Walks a condition tree; returns the first problem as `[path, message]`. */
function checkCondition(node: unknown, at: string, facts: readonly FactName[]): [string, string] | null {
  if (!isObject(node))
    return [at, 'expected an object: a condition, or { "all" | "any": [...] }, or { "not": {...} }']
  // json-rules-engine reads only one of these (any before all): a second one would go unchecked here
  // and unread there, so a node holds exactly one.
  const booleans = ['all', 'any', 'not', 'condition'].filter((k) => k in node)
  if (booleans.length > 1 || (booleans.length === 1 && ('fact' in node || 'operator' in node))) {
    const keys = [...booleans, ...('fact' in node ? ['fact'] : [])]
    return [at, `expected one of all, any, not, or a single condition; this object has ${keys.join(' and ')}`]
  }
  for (const bool of ['all', 'any'] as const) {
    if (bool in node) {
      const list = node[bool]
      if (!Array.isArray(list)) return [`${at}/${bool}`, 'expected an array of conditions']
      for (let i = 0; i < list.length; i++) {
        const problem = checkCondition(list[i], `${at}/${bool}/${i}`, facts)
        if (problem) return problem
      }
      return null
    }
  }
  if ('not' in node) return checkCondition(node.not, `${at}/not`, facts)
  if ('condition' in node)
    return [`${at}/condition`, 'shared conditions by name are not supported: write the condition here']
  for (const key of Object.keys(node)) {
    if (!CONDITION_KEYS.has(key))
      return [`${at}/${key}`, `unknown key; a condition has ${[...CONDITION_KEYS].join(', ')}`]
  }
  const { fact, operator, path } = node
  if (typeof fact !== 'string') return [`${at}/fact`, `expected the name of a fact: ${facts.join(', ')}`]
  if (!(facts as readonly string[]).includes(fact)) {
    return [`${at}/fact`, `unknown fact "${fact}" for this subject; expected one of ${facts.join(', ')}`]
  }
  if (typeof operator !== 'string' || !isKnownOperator(operator)) {
    return [
      `${at}/operator`,
      `unknown operator ${JSON.stringify(operator)}; expected one of ${OPERATORS.join(', ')}`,
    ]
  }
  if (!('value' in node)) return [`${at}/value`, 'missing: the value to compare the fact with']
  if (path !== undefined) {
    if (typeof path !== 'string' || !PATH.test(path)) return [`${at}/path`, 'expected a path like "$.level"']
    const field = path.split('.')[1]
    const fields: readonly string[] = FACT_FIELDS[fact as FactName]
    if (field !== undefined && !fields.includes(field)) {
      return [`${at}/path`, `fact "${fact}" has no field "${field}"; it has ${fields.join(', ')}`]
    }
  }
  return null
}

export type RuleFileCheck = { ok: true; rule: RuleFile } | { ok: false; path: string; message: string }

/** Checks parsed JSON against the rule file schema and the facts of its subject. */
export function checkRule(json: unknown): RuleFileCheck {
  if (isObject(json) && 'subject' in json && !(SUBJECT_KINDS as readonly unknown[]).includes(json.subject)) {
    return {
      ok: false,
      path: '/subject',
      message: `unknown subject ${JSON.stringify(json.subject)}; expected one of ${SUBJECT_KINDS.join(', ')}`,
    }
  }
  if (!checkRuleFile.Check(json)) {
    const first = checkRuleFile.Errors(json).First()
    return { ok: false, path: first?.path || '/', message: first?.message ?? 'not a rule file' }
  }
  const top = json.conditions
  if (!('all' in top || 'any' in top || 'not' in top)) {
    return {
      ok: false,
      path: '/conditions',
      message: 'the top level must be { "all": [...] }, { "any": [...] } or { "not": {...} }',
    }
  }
  const problem = checkCondition(top, '/conditions', SUBJECT_FACTS[json.subject])
  if (problem) return { ok: false, path: problem[0], message: problem[1] }
  return { ok: true, rule: json }
}

/**
 * Fact fields that were renamed or replaced: a rule that still names one loads, and is told what
 * to use instead. By fact, the old field and the new one.
 */
export const REPLACED_FIELDS: Partial<Record<FactName, Record<string, string>>> = {
  toner: {
    orderedForHours:
      'workingDaysOverdue (working days past the order\'s expectedDelivery, with deliveryStep not "delivered")',
  },
}

/** Warnings for the replaced fact fields a checked rule names, in conditions or event params. */
export function ruleWarnings(rule: RuleFile): string[] {
  const out = new Set<string>()
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n)
      return
    }
    if (!isObject(node)) return
    const { fact, path } = node
    if (typeof fact === 'string' && typeof path === 'string') {
      const field = path.split('.')[1]
      const instead = field === undefined ? undefined : REPLACED_FIELDS[fact as FactName]?.[field]
      if (instead !== undefined)
        out.add(`fact "${fact}" field "${field}" is replaced: use ${instead}; it still works for now`)
    }
    for (const v of Object.values(node)) walk(v)
  }
  walk(rule.conditions)
  walk(rule.event.params)
  return [...out]
}
