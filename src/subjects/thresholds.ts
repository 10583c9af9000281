/**
 * What a subject's deadline is read from: the numbers its rules compare a fact's field with, and
 * the first instant a number of hours since some instant crosses one of them.
 */
import { HOUR, type RuleConditions } from './device-subject.ts'

/**
 * The numbers a rule's conditions compare one fact field with, in the rules of these subjects; null
 * when one of them cannot be read as numbers (another fact as the value, a string, the whole fact
 * without a path): then the only safe deadline is every sweep instant.
 */
export function thresholdsOf(
  rules: readonly RuleConditions[],
  subjects: readonly string[],
  fact: string,
  field: string,
): number[] | null {
  const found = new Set<number>()
  const walk = (node: unknown): boolean => {
    if (typeof node !== 'object' || node === null) return true
    const c = node as Record<string, unknown>
    for (const group of ['all', 'any'] as const) {
      if (Array.isArray(c[group]) && !(c[group] as unknown[]).every(walk)) return false
    }
    if (c.not !== undefined && !walk(c.not)) return false
    if (c.fact !== fact) return true
    if (c.path === undefined) return false
    if (c.path !== `$.${field}`) return true
    const values = Array.isArray(c.value) ? c.value : [c.value]
    for (const v of values) {
      if (typeof v !== 'number' || !Number.isFinite(v)) return false
      found.add(v)
    }
    return true
  }
  for (const rule of rules) if (subjects.includes(rule.subject) && !walk(rule.conditions)) return null
  return [...found].sort((a, b) => a - b)
}

/**
 * The first instant after `after` at which `hours` since `base` may cross one of the thresholds. The
 * hours are a division, and a condition may be strict or not: a millisecond on each side of the
 * exact crossing is looked at too.
 */
export function nextCrossing(base: number, hours: readonly number[], after: number): number {
  let next = Number.POSITIVE_INFINITY
  for (const h of hours) {
    const at = base + h * HOUR
    for (const t of [Math.floor(at) - 1, Math.floor(at), Math.ceil(at) + 1])
      if (t > after && t < next) next = t
  }
  return next
}
