/**
 * Why a rule did not fire for a device: its engine run again over the subjects it last looked at,
 * and the leaf conditions that failed, with the fact values they saw.
 */
import type { Engine } from 'json-rules-engine'
import { SUBJECTS } from '../../subjects/registry.ts'
import { scopeOf } from '../../subjects/scope.ts'
import { engineFor } from '../evaluator.ts'
import type { SubjectInstance } from '../facts.ts'
import type { LoadedRule } from '../loader.ts'
import { type ObservedEvaluator, observedKey, siteKey } from './replay.ts'
import type { DryRunAction, FailedCondition, NotFired, SubjectExplanation } from './report.ts'

interface ConditionNode {
  all?: unknown[]
  any?: unknown[]
  not?: unknown
  fact?: string
  path?: string
  operator?: string
  value?: unknown
  result?: boolean
  factResult?: unknown
}

export const isNode = (v: unknown): v is ConditionNode =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A condition as the rule file says it: `toner.level lessThanInclusive 10`. */
export function describeCondition(c: Pick<ConditionNode, 'fact' | 'path' | 'operator' | 'value'>): string {
  const path = typeof c.path === 'string' && c.path.startsWith('$') ? c.path.slice(1) : (c.path ?? '')
  return `${c.fact}${path} ${c.operator} ${JSON.stringify(c.value)}`
}

/**
 * What a node of an evaluated condition tree came to: json-rules-engine records `result` on each
 * leaf it evaluated; a leaf it skipped (its outcome was already decided) has none.
 */
function outcome(node: unknown): boolean | undefined {
  if (!isNode(node)) return undefined
  if (Array.isArray(node.all)) return node.all.every((c) => outcome(c) === true)
  if (Array.isArray(node.any)) return node.any.some((c) => outcome(c) === true)
  if ('not' in node) {
    const inner = outcome(node.not)
    return inner === undefined ? undefined : !inner
  }
  return node.result
}

/**
 * The leaves that made `node` come to `want`. The rule failed, so the top comes to false: in an
 * `all`, the children that were false; in an `any`, all of them; under a `not`, the leaves that
 * held.
 */
function culprits(node: unknown, want: boolean): FailedCondition[] {
  if (!isNode(node)) return []
  const children = Array.isArray(node.all) ? node.all : Array.isArray(node.any) ? node.any : null
  if (children) {
    const isAll = Array.isArray(node.all)
    // all→false and any→true: the children that came to `want` decide; otherwise every child does.
    const some = isAll !== want
    return children.flatMap((c) => (!some || outcome(c) === want ? culprits(c, want) : []))
  }
  if ('not' in node) return culprits(node.not, !want)
  if (node.result !== want) return []
  return [
    {
      condition: describeCondition(node),
      ...(node.factResult === undefined ? {} : { factValue: node.factResult }),
      held: want,
    },
  ]
}

/** Runs one rule over one subject's facts, as the evaluator does, and says why it did not fire. */
async function explainSubject(engine: Engine, subject: SubjectInstance): Promise<SubjectExplanation> {
  try {
    const result = await engine.run(subject.facts)
    const failure = result.failureResults[0]
    return { subject: subject.key, failed: failure ? culprits(failure.conditions, false) : [] }
  } catch (err) {
    return { subject: subject.key, failed: [], error: (err as Error).message }
  }
}

export async function explainNotFired(
  rules: readonly LoadedRule[],
  devices: readonly { deviceId: string; siteId: string }[],
  actions: readonly DryRunAction[],
  evaluator: ObservedEvaluator,
): Promise<NotFired[]> {
  const fired = new Set(
    actions.flatMap((a) => [`${a.rule}\u0000${a.deviceId}`, `${a.rule}\u0000${siteKey(a.siteId)}`]),
  )
  const engines = new Map<string, Engine>()
  const notFired: NotFired[] = []
  for (const rule of rules) {
    const sitesSeen = new Set<string>()
    for (const { deviceId, siteId } of devices) {
      // A rule about a whole site is told of once per site, on its first device.
      const perSite = scopeOf(rule.subject).scope === 'site'
      if (perSite && sitesSeen.has(siteId)) continue
      sitesSeen.add(siteId)
      const who = perSite ? siteKey(siteId) : deviceId
      if (fired.has(`${rule.name}\u0000${who}`)) continue
      const base = { rule: rule.name, file: rule.file, deviceId, siteId }
      const last = evaluator.last.get(observedKey(who, rule.subject))
      if (!last) {
        notFired.push({
          ...base,
          evaluatedAt: null,
          subjects: [],
          reason: SUBJECTS[rule.subject].neverEvaluated,
        })
        continue
      }
      let engine = engines.get(rule.name)
      if (!engine) {
        // The evaluator's own engine settings, so that the explanation sees what it saw.
        engine = engineFor([rule])
        engines.set(rule.name, engine)
      }
      const subjects: SubjectExplanation[] = []
      for (const s of last.subjects) subjects.push(await explainSubject(engine, s))
      notFired.push({ ...base, evaluatedAt: new Date(last.at).toISOString(), subjects })
    }
  }
  return notFired
}
