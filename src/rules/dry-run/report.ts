/** What a dry run reports, and the report as text for the terminal. */
import type { Action } from '../../contract/schemas.ts'
import type { SiteCalendar } from '../../domain/calendar.ts'
import type { SubjectKind } from '../../domain/device-state.ts'
import type { RejectReason } from '../../errors.ts'
import type { RuleRuntimeError } from '../evaluator.ts'

/** A problem with what the operator asked for (a bad file, a missing database): exit code 2. */
export class DryRunInputError extends Error {
  override name = 'DryRunInputError'
}

export interface DryRunSettings {
  rulesDir: string
  /** Silence rules run each time event time passes a multiple of this, as in `--clock event`. */
  sweepIntervalMs: number
  topicRoot: string
  maxPayloadBytes: number
  /** Told how far the run is: bytes of the readings file (`test`), or readings replayed (`backtest`). */
  onProgress?: (done: number, total?: number) => void
  /** The provider's support calendar, for sites without their own (the service's `--support-*`). */
  supportCalendar?: SiteCalendar
}

/** An action as the API shows it, without the ids and times that only a real ledger gives. */
export type DryRunAction = Pick<
  Action,
  'type' | 'deviceId' | 'siteId' | 'rule' | 'createdAt' | 'status' | 'details'
>

export interface RejectedLine {
  line: number
  reason: RejectReason | 'invalid-line'
  detail: string
}

/** One leaf condition that made a rule fail. */
export interface FailedCondition {
  /** As written in the rule file: `toner.level lessThanInclusive 10`. */
  condition: string
  /** The fact's value (after `path`) at the evaluation; absent when the fact was undefined. */
  factValue?: unknown
  /** True when the condition held, and failed the rule because it is under a `not`. */
  held: boolean
}

export interface SubjectExplanation {
  /** `toner:black`, `wasteBox`, `error:C-2557`, `silence`. */
  subject: string
  failed: FailedCondition[]
  /** Set when the rule threw while running: it then decides nothing. */
  error?: string
}

export interface NotFired {
  rule: string
  file: string
  deviceId: string
  siteId: string
  /** The last instant the rule was evaluated for this device with something to look at, or null. */
  evaluatedAt: string | null
  /** The subjects at that evaluation, each with the conditions that failed. */
  subjects: SubjectExplanation[]
  /** Why there is nothing to explain, when the rule was never evaluated for the device. */
  reason?: string
}

export interface InputSummary {
  /** The readings file, or the database and window of a backtest. */
  source: string
  /** Lines read (test). */
  lines?: number
  /** Valid readings handed to the store. */
  readings: number
  births: number
  /** New readings stored (the rest were duplicates by device and seq, or device and ts). */
  stored: number
  duplicates: number
  /** Readings older than their device's newest: stored, and decide nothing (as in the service). */
  lateReadings: number
  rejected: RejectedLine[]
  /** Backtest: readings in the window whose body SQLite no longer keeps (the InfluxDB store). */
  withoutBody?: number
}

export interface DryRunReport {
  command: 'test' | 'backtest'
  rules: {
    loaded: { name: string; file: string; subject: SubjectKind; type: string }[]
    failures: { file: string; reason: string }[]
    runtimeErrors: RuleRuntimeError[]
  }
  input: InputSummary
  /** In the order they were created. */
  actions: DryRunAction[]
  countsByType: Record<string, number>
  notFired: NotFired[]
}

function explainLine(s: SubjectExplanation): string {
  if (s.error !== undefined) return `${s.subject}: the rule failed while running: ${s.error}`
  if (s.failed.length === 0) return `${s.subject}: no condition failed (the rule held at its last evaluation)`
  const parts = s.failed.map((f) => {
    const value = 'factValue' in f ? JSON.stringify(f.factValue) : 'undefined'
    return f.held
      ? `not (${f.condition}) failed: it held, fact value ${value}`
      : `${f.condition} failed, fact value ${value}`
  })
  return `${s.subject}: ${parts.join('; ')}`
}

export function formatReport(r: DryRunReport): string {
  const out: string[] = []
  const { rules, input } = r
  out.push(
    `Rules: ${rules.loaded.length} loaded${rules.loaded.length ? ` (${rules.loaded.map((l) => l.name).join(', ')})` : ''}` +
      (rules.failures.length ? `, ${rules.failures.length} failed to load:` : ''),
  )
  for (const f of rules.failures) out.push(`  ${f.reason}`)
  for (const e of rules.runtimeErrors)
    out.push(`  rule ${e.rule} failed while running ${e.count} time(s), last: ${e.lastError}`)

  out.push('')
  out.push(`Input: ${input.source}`)
  const counts = [
    input.lines === undefined ? null : `${input.lines} lines`,
    `${input.readings} readings`,
    `${input.stored} stored`,
    `${input.duplicates} duplicates`,
    `${input.lateReadings} late (stored, decide nothing)`,
    `${input.births} births`,
    input.lines === undefined ? null : `${input.rejected.length} rejected`,
  ].filter((c) => c !== null)
  out.push(`  ${counts.join(', ')}`)
  if (input.withoutBody)
    out.push(`  ${input.withoutBody} readings in the window are kept by InfluxDB only, and were not replayed`)
  for (const x of input.rejected) out.push(`  line ${x.line}: ${x.reason}: ${x.detail}`)

  out.push('')
  out.push(`Actions that would be created: ${r.actions.length}`)
  for (const a of r.actions) {
    out.push(
      `  ${a.createdAt}  ${a.type}  ${a.deviceId ?? 'the site'} (${a.siteId})  rule ${a.rule}  ${a.status}  ${JSON.stringify(a.details)}`,
    )
  }
  const byType = Object.entries(r.countsByType).sort(([a], [b]) => a.localeCompare(b))
  if (byType.length) out.push(`By type: ${byType.map(([t, n]) => `${t} ${n}`).join(', ')}`)

  if (r.notFired.length) {
    out.push('')
    out.push('Rules that did not fire for a device:')
    for (const n of r.notFired) {
      const head = `  ${n.rule} on ${n.deviceId} (${n.siteId})`
      if (n.reason !== undefined) {
        out.push(`${head}: ${n.reason}`)
        continue
      }
      out.push(`${head}, last evaluated ${n.evaluatedAt}:`)
      for (const s of n.subjects) out.push(`    ${explainLine(s)}`)
    }
  }
  return `${out.join('\n')}\n`
}
