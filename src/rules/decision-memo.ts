import type { Engine } from 'json-rules-engine'
import type { LoadedRule } from './loader.ts'

/** One comparison of a rule's conditions: a fact (at a path) against a value or another fact. */
interface Leaf {
  fact: string
  path: string | undefined
  value: unknown
  op: { evaluate(lhs: unknown, rhs: unknown): boolean }
}

interface FactRef {
  fact: unknown
  path?: string
}

/** A value that names a fact, as the engine's almanac tells one: an object with a `fact` key. */
const isFactRef = (v: unknown): v is FactRef =>
  typeof v === 'object' && v !== null && Object.hasOwn(v, 'fact')

/** The rules that fired for one case: their names, in the engine's order. */
export type Fired = readonly string[]

/** Most distinct cases a subject's memo holds before it starts anew. */
const MAX_CASES = 4096

/**
 * Remembers which of a subject's rules fire, by what decides it: the outcome of each comparison in
 * their conditions. A rule's outcome is a function of its comparisons' outcomes (all, any and not
 * over them), so two subject instances whose comparisons come out the same fire the same rules:
 * the engine is asked once per case, not once per reading, and a reading whose toner moved from
 * 63% to 62% costs a few property reads instead of a run (a run deep-copies every rule's
 * conditions). The params of the rules that fire are then made from the instance's own facts.
 *
 * The comparisons are made by the engine's own operators, and the facts read by its path resolver,
 * so a case means what it means to the engine. Whatever the memo cannot key (an operator the
 * engine does not know, an operator that throws) is left to the engine, every time.
 */
export class DecisionMemo {
  private readonly leaves: Leaf[] = []
  private readonly cases = new Map<string, Fired>()
  /** False when a condition cannot be keyed: every run then goes to the engine. */
  readonly usable: boolean

  constructor(
    rules: readonly LoadedRule[],
    engine: Engine,
    private readonly resolvePath: (value: unknown, path: string) => unknown,
  ) {
    const operators = (engine as unknown as { operators: { get(name: string): Leaf['op'] | null } }).operators
    let usable = true
    const walk = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return
      const n = node as Record<string, unknown>
      for (const bool of ['all', 'any'] as const) {
        if (Array.isArray(n[bool])) for (const child of n[bool] as unknown[]) walk(child)
      }
      if ('not' in n) walk(n.not)
      if (typeof n.fact !== 'string') return
      const op = typeof n.operator === 'string' ? operators.get(n.operator) : null
      if (!op) usable = false
      else this.leaves.push({ fact: n.fact, path: n.path as string | undefined, value: n.value, op })
    }
    for (const rule of rules) walk(rule.conditions)
    this.usable = usable
  }

  /** A fact's value as the engine's almanac gives it: a path is followed into objects only. */
  private factValue(facts: Record<string, unknown>, fact: unknown, path: string | undefined): unknown {
    // The engine keeps facts in a Map by their names: only a string names one.
    const value = typeof fact === 'string' && Object.hasOwn(facts, fact) ? facts[fact] : undefined
    if (!path || typeof value !== 'object' || value === null) return value
    return this.resolvePath(value, path)
  }

  /** The case these facts are, or undefined when it cannot be told without the engine. */
  key(facts: Record<string, unknown>): string | undefined {
    if (!this.usable) return undefined
    let bits = ''
    try {
      for (const leaf of this.leaves) {
        const rhs = isFactRef(leaf.value)
          ? this.factValue(facts, leaf.value.fact, leaf.value.path)
          : leaf.value
        bits += leaf.op.evaluate(this.factValue(facts, leaf.fact, leaf.path), rhs) ? '1' : '0'
      }
    } catch {
      return undefined
    }
    return bits
  }

  get(key: string): Fired | undefined {
    return this.cases.get(key)
  }

  set(key: string, fired: Fired): void {
    if (this.cases.size >= MAX_CASES) this.cases.clear()
    this.cases.set(key, fired)
  }

  /**
   * A fired rule's params for these facts, as the engine's `replaceFactsInEventParams` makes them:
   * a `{ "fact": …, "path": … }` param is that fact's value, any other is the rule's own (copied).
   */
  params(rule: LoadedRule, facts: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [name, v] of Object.entries(rule.event.params ?? {})) {
      out[name] = isFactRef(v)
        ? this.factValue(facts, v.fact, v.path)
        : typeof v === 'object' && v !== null
          ? structuredClone(v)
          : v
    }
    return out
  }
}
