import { Engine } from 'json-rules-engine'
import { expectedDeliveryAt } from '../domain/calendar.ts'
import { orderedDelivery } from '../domain/delivery.ts'
import type { DeviceState, SubjectKind } from '../domain/device-state.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import { openTicket, type TicketSeverity } from '../domain/ticket.ts'
import {
  actionIdentity,
  contractOf,
  DEFAULT_SITE_CALENDAR,
  type DeviceInfo,
  deviceFact,
  type OpenAction,
  type SubjectInstance,
  subjectsOf,
} from './facts.ts'

const ticketSeverity = (s: unknown): TicketSeverity => (s === 'warning' || s === 'info' ? s : 'critical')

import type { LoadedRule } from './loader.ts'

/** Resolves `$.a.b` by plain property access: no JSONPath, so no JSONPath injection, and faster. */
export function resolvePath(value: unknown, path: string): unknown {
  let current = value
  for (const key of path.split('.').slice(path.startsWith('$') ? 1 : 0)) {
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

interface SubjectRules {
  /** All the rules of a subject in one engine: one run per subject instance, the common case. */
  together: Engine
  /** Each rule alone: for when the run of all of them fails, to tell which rule did. */
  alone: { rule: LoadedRule; engine: Engine }[]
  byName: Map<string, LoadedRule>
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
  ) {
    const grouped = new Map<SubjectKind, LoadedRule[]>()
    for (const rule of rules) grouped.set(rule.subject, [...(grouped.get(rule.subject) ?? []), rule])
    for (const [kind, list] of grouped) {
      this.bySubject.set(kind, {
        together: engineFor(list),
        alone: list.map((rule) => ({ rule, engine: engineFor([rule]) })),
        byName: new Map(list.map((r) => [r.name, r])),
      })
    }
  }

  /** The rules that fire for one subject instance, with their events' params (facts put in). */
  private async fired(
    compiled: SubjectRules,
    facts: Record<string, unknown>,
  ): Promise<{ rule: LoadedRule; params: Record<string, unknown> }[]> {
    try {
      const { results } = await compiled.together.run(facts)
      return results.flatMap((r) => {
        const rule = compiled.byName.get(r.name as string)
        return rule ? [{ rule, params: (r.event?.params ?? {}) as Record<string, unknown> }] : []
      })
    } catch {
      const out: { rule: LoadedRule; params: Record<string, unknown> }[] = []
      for (const { rule, engine } of compiled.alone) {
        try {
          const [event] = (await engine.run(facts)).events
          if (event) out.push({ rule, params: (event.params ?? {}) as Record<string, unknown> })
        } catch (err) {
          this.recordError(rule.name, err as Error)
        }
      }
      return out
    }
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
