import type { Logger } from 'pino'
import { RuleEvaluator, type RuleRuntimeError } from './evaluator.ts'
import { FolderWatch } from './folder-watch.ts'
import { type LoadedRule, loadRuleDir, type RuleSet } from './loader.ts'

/**
 * The rule files of a folder, kept current: they are loaded at start and again whenever a file
 * changes on disk, without a restart. A file whose new version is broken is reported, and its last
 * good version keeps running; the other files are not affected.
 */
export class RuleLibrary {
  private set: RuleSet = { rules: [], failures: [] }
  private evaluator: RuleEvaluator
  private readonly watch: FolderWatch
  /** Rule file versions that failed to load since the start, for the metrics. */
  reloadFailures = 0

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {
    this.evaluator = this.compile([])
    this.watch = new FolderWatch(dir, () => this.reload(), log, 'rule files')
  }

  async start(): Promise<void> {
    await this.reload()
    this.watch.start()
  }

  /** The rules to evaluate now. */
  get current(): RuleEvaluator {
    return this.evaluator
  }

  view(): RuleSet & { runtimeErrors: RuleRuntimeError[] } {
    return { ...this.set, runtimeErrors: this.evaluator.runtimeErrors() }
  }

  /** Resolves once the reload that is due (if any) is done: for tests. */
  settled(): Promise<void> {
    return this.watch.settled()
  }

  async reload(): Promise<void> {
    const lastGood = new Map<string, LoadedRule>(this.set.rules.map((r) => [r.file, r]))
    const next = await loadRuleDir(this.dir, lastGood)
    const known = new Set(this.set.failures.map((f) => f.reason))
    for (const f of next.failures) {
      if (known.has(f.reason)) continue
      this.reloadFailures++
      this.log.error({ code: f.code, file: f.file, running: f.running ?? 'nothing' }, f.reason)
    }
    const warned = new Set((this.set.warnings ?? []).map((w) => w.warning))
    for (const w of next.warnings ?? []) {
      if (!warned.has(w.warning)) this.log.warn({ code: 'PW_WARN_RULE_FILE', file: w.file }, w.warning)
    }
    this.set = next
    this.evaluator = this.compile(next.rules)
    this.log.info({ rules: next.rules.map((r) => r.name), failed: next.failures.length }, 'rules loaded')
  }

  private compile(rules: readonly LoadedRule[]): RuleEvaluator {
    return new RuleEvaluator(
      rules,
      (rule, err) =>
        this.log.error(
          { code: 'PW_ERR_RULE_RUNTIME', rule, err: err.message },
          'a rule failed while running; it is skipped, the others go on',
        ),
      (kind, by) => {
        let tally = this.tallies.get(kind)
        if (!tally) {
          tally = { memo: 0, engine: 0 }
          this.tallies.set(kind, tally)
        }
        tally[by]++
      },
    )
  }

  /** Subject instances decided since the start, by subject kind and by memo or engine: across reloads. */
  private readonly tallies = new Map<string, { memo: number; engine: number }>()

  decisions(): { subject: string; by: string; count: number }[] {
    return [...this.tallies].flatMap(([subject, t]) => [
      { subject, by: 'memo', count: t.memo },
      { subject, by: 'engine', count: t.engine },
    ])
  }

  stop(): void {
    this.watch.stop()
  }
}
