import { Engine } from 'json-rules-engine'
import { DEFAULT_SITE_CALENDAR, expectedDeliveryAt } from '../domain/calendar.ts'
import { orderedDelivery } from '../domain/delivery.ts'
import type { DeviceState, SubjectKind } from '../domain/device-state.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import { openTicket, type TicketSeverity } from '../domain/ticket.ts'
import { subjectsOf } from '../subjects/device-subjects.ts'
import { DecisionMemo } from './decision-memo.ts'
import {
  actionIdentity,
  contractOf,
  type DeviceInfo,
  deviceFact,
  type OpenAction,
  type SubjectInstance,
} from './facts.ts'
import type { LoadedRule } from './loader.ts'

const ticketSeverity = (s: unknown): TicketSeverity => (s === 'warning' || s === 'info' ? s : 'critical')

/** The keys of a path, split once: rule files have a few dozen paths, read at every reading. */
const pathKeys = new Map<string, readonly string[]>()
function keysOf(path: string): readonly string[] {
  let keys = pathKeys.get(path)
  if (!keys) {
    keys = path.split('.').slice(path.startsWith('$') ? 1 : 0)
    if (pathKeys.size < 10_000) pathKeys.set(path, keys)
  }
  return keys
}

/** Resolves `$.a.b` by plain property access: no JSONPath, so no JSONPath injection, and faster. */
export function resolvePath(value: unknown, path: string): unknown {
  let current = value
  for (const key of keysOf(path)) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

export interface RuleRuntimeError {
  rule: string
  count: number
  lastError: string
}

export function engineFor(rules: readonly LoadedRule[]): Engine {
  const engine = new Engine([], {
    allowUndefinedFacts: true,
    pathResolver: resolvePath,
    replaceFactsInEventParams: true,
  })
  for (const rule of rules) {
    engine.addRule({
      name: rule.name,
      conditions: rule.conditions as never,
      event: { type: rule.event.type, params: rule.event.params ?? {} },
      ...(rule.priority === undefined ? {} : { priority: rule.priority }),
    })
  }
  return engine
}

interface FiredRule {
  rule: LoadedRule
  params: Record<string, unknown>
}

interface SubjectRules {
  /** All the rules of a subject in one engine: one run per subject instance, the common case. */
  together: Engine
  /** Each rule alone: for when the run of all of them fails, to tell which rule did. */
  alone: { rule: LoadedRule; engine: Engine }[]
  byName: Map<string, LoadedRule>
  /** Which rules fired, by the outcome of each comparison: most readings are a case seen before. */
  memo: DecisionMemo
  kind: SubjectKind
}

/**
 * Runs the loaded rules over the subjects of a device. The rules of a subject run together in one
 * json-rules-engine (a run has a fixed cost, and this is the path every reading takes); if that run
 * fails, each rule runs alone, so that a rule that fails at run time fails alone: it is counted and
 * reported, and the other rules, and the readings behind them, go on. The engines keep no state
 * between runs: whether an action is new is the ledger's question.
 */
export class RuleEvaluator {
  private readonly bySubject = new Map<SubjectKind, SubjectRules>()
  private readonly errors = new Map<string, RuleRuntimeError>()

  constructor(
    readonly rules: readonly LoadedRule[],
    /** Told of a rule's first failure at run time (later ones are only counted). */
    private readonly onFirstError: (rule: string, err: Error) => void = () => {},
    /** Told of each subject instance decided: from the memo's cases, or by a run of the engine. */
    private readonly tally: (kind: SubjectKind, by: 'memo' | 'engine') => void = () => {},
  ) {
    const grouped = new Map<SubjectKind, LoadedRule[]>()
    for (const rule of rules) grouped.set(rule.subject, [...(grouped.get(rule.subject) ?? []), rule])
    for (const [kind, list] of grouped) {
      const together = engineFor(list)
      this.bySubject.set(kind, {
        together,
        alone: list.map((rule) => ({ rule, engine: engineFor([rule]) })),
        byName: new Map(list.map((r) => [r.name, r])),
        memo: new DecisionMemo(list, together, resolvePath),
        kind,
      })
    }
  }

  /**
   * The rules that fire for one subject instance, with their events' params (facts put in): from
   * the memo when its case was decided before, else from the engine (and then remembered).
   */
  private async fired(compiled: SubjectRules, facts: Record<string, unknown>): Promise<FiredRule[]> {
    const { memo } = compiled
    const key = memo.key(facts)
    if (key === undefined) {
      this.tally(compiled.kind, 'engine')
      return (await this.run(compiled, facts)).fired
    }
    let names = memo.get(key)
    this.tally(compiled.kind, names ? 'memo' : 'engine')
    if (!names) {
      const ran = await this.run(compiled, facts)
      // A run that failed is not a case: its rules were run alone, and may fail again.
      if (ran.failed) return ran.fired
      names = ran.fired.map((f) => f.rule.name)
      memo.set(key, names)
    }
    return names.flatMap((name) => {
      const rule = compiled.byName.get(name)
      return rule ? [{ rule, params: memo.params(rule, facts) }] : []
    })
  }

  /** The engine's answer for one subject instance: all rules together, or, if that fails, each alone. */
  private async run(
    compiled: SubjectRules,
    facts: Record<string, unknown>,
  ): Promise<{ fired: FiredRule[]; failed: boolean }> {
    try {
      const { results } = await compiled.together.run(facts)
      const fired = results.flatMap((r) => {
        const rule = compiled.byName.get(r.name as string)
        return rule ? [{ rule, params: (r.event?.params ?? {}) as Record<string, unknown> }] : []
      })
      return { fired, failed: false }
    } catch {
      const fired: FiredRule[] = []
      for (const { rule, engine } of compiled.alone) {
        try {
          const [event] = (await engine.run(facts)).events
          if (event) fired.push({ rule, params: (event.params ?? {}) as Record<string, unknown> })
        } catch (err) {
          this.recordError(rule.name, err as Error)
        }
      }
      return { fired, failed: true }
    }
  }

  /** The names and params of the rules of a kind that fire over these facts (what `evaluate` uses). */
  async decide(kind: SubjectKind, facts: Record<string, unknown>): Promise<FiredRule[]> {
    const compiled = this.bySubject.get(kind)
    return compiled ? this.fired(compiled, facts) : []
  }

  hasRulesFor(kind: SubjectKind): boolean {
    return this.bySubject.has(kind)
  }

  /** Rules that failed at run time, with how often and the last reason. */
  runtimeErrors(): RuleRuntimeError[] {
    return [...this.errors.values()].map((e) => ({ ...e }))
  }

  /** The actions the rules of these subject kinds ask for, with the device as it is at instant `at`. */
  async evaluate(
    kinds: readonly SubjectKind[],
    state: DeviceState,
    info: DeviceInfo,
    at: number,
    /** The device's actions not resolved yet, for rules that follow up on them. */
    open: readonly OpenAction[] = [],
    /**
     * When the service learned of the reading: its receipt, later than `at` for a reading a gateway
     * kept while offline. Orders are placed, and SLA clocks start, from here.
     */
    learnedAt: number = at,
  ): Promise<ActionCandidate[]> {
    const candidates: ActionCandidate[] = []
    const identity = actionIdentity(info)
    const calendar = info.calendar ?? DEFAULT_SITE_CALENDAR
    const since = Math.max(at, learnedAt)
    let device: ReturnType<typeof deviceFact> | undefined
    for (const kind of kinds) {
      const compiled = this.bySubject.get(kind)
      if (!compiled) continue
      device ??= deviceFact(state, info, at)
      for (const subject of subjectsOf(kind, state, info, at, open, device)) {
        for (const { rule, params } of await this.fired(compiled, subject.facts)) {
          candidates.push({
            rule: rule.name,
            type: rule.event.type,
            deviceId: state.deviceId,
            siteId: state.siteId,
            subject: subject.key,
            episode: subject.episode,
            // A rule's params may name facts ({ "fact": "toner", "path": "$.replacedAtLevel" }): the
            // engine puts their values in.
            details: {
              ...params,
              ...subject.details,
              ...identity,
              ...(rule.delivery
                ? {
                    expectedDelivery: new Date(
                      expectedDeliveryAt(calendar, since, rule.delivery),
                    ).toISOString(),
                    delivery: orderedDelivery(since),
                  }
                : {}),
            },
            at,
            ...(rule.ticket
              ? {
                  ticket: openTicket(
                    calendar,
                    since,
                    ticketSeverity(subject.details.severity),
                    contractOf(info),
                    rule.ticket,
                    at,
                  ),
                }
              : {}),
          })
        }
      }
    }
    return candidates
  }

  /** The actions the rules of a site's subject ask for: about the site, with no device. */
  async evaluateSite(
    subject: SubjectInstance,
    siteId: string,
    addressee: string | undefined,
    at: number,
  ): Promise<ActionCandidate[]> {
    const compiled = this.bySubject.get(subject.kind)
    if (!compiled) return []
    return (await this.fired(compiled, subject.facts)).map(({ rule, params }) => ({
      rule: rule.name,
      type: rule.event.type,
      scope: 'site' as const,
      siteId,
      subject: subject.key,
      episode: subject.episode,
      details: { ...params, ...subject.details, ...(addressee === undefined ? {} : { addressee }) },
      at,
    }))
  }

  private recordError(rule: string, err: Error): void {
    const known = this.errors.get(rule)
    if (known) {
      known.count++
      known.lastError = err.message
      return
    }
    this.errors.set(rule, { rule, count: 1, lastError: err.message })
    this.onFirstError(rule, err)
  }
}
