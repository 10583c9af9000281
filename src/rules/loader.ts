import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkRule, type RuleFile, ruleWarnings } from './rule-file.ts'

export interface LoadedRule extends RuleFile {
  file: string
}

export interface RuleFailure {
  file: string
  code: 'PW_ERR_RULE_FILE'
  reason: string
  /** Set when an earlier version of the file loaded and keeps running. */
  running?: string
}

export interface RuleSet {
  rules: LoadedRule[]
  failures: RuleFailure[]
  /** Files that load, with something to change (a fact field that was replaced). */
  warnings?: RuleWarning[]
}

export interface RuleWarning {
  file: string
  warning: string
}

/**
 * Parses and checks one rule file's text. Pure, so that the same checks serve the loader, the API
 * and tests.
 */
export function parseRuleFile(file: string, text: string): { rule: LoadedRule } | { failure: RuleFailure } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return {
      failure: {
        file,
        code: 'PW_ERR_RULE_FILE',
        reason: `${file}: not valid JSON: ${(err as Error).message}`,
      },
    }
  }
  const checked = checkRule(json)
  if (!checked.ok) {
    return {
      failure: { file, code: 'PW_ERR_RULE_FILE', reason: `${file}: at ${checked.path}: ${checked.message}` },
    }
  }
  return { rule: { ...checked.rule, file } }
}

/** What a loaded rule file should change, each with the file named. */
export function warningsOf(rules: readonly LoadedRule[]): RuleWarning[] {
  return rules.flatMap((r) => ruleWarnings(r).map((w) => ({ file: r.file, warning: `${r.file}: ${w}` })))
}

/**
 * Turns the rule files of a folder into the rule set. A file that does not load is reported; if an
 * earlier version of it loaded (`lastGood`, by file name), that version keeps running.
 */
export function resolveRuleFiles(
  files: readonly ({ name: string; text: string } | { name: string; unreadable: string })[],
  lastGood: ReadonlyMap<string, LoadedRule> = new Map(),
): RuleSet {
  const rules: LoadedRule[] = []
  const failures: RuleFailure[] = []
  const byName = new Map<string, string>()
  for (const file of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
    const { name } = file
    const result =
      'text' in file
        ? parseRuleFile(name, file.text)
        : {
            failure: {
              file: name,
              code: 'PW_ERR_RULE_FILE' as const,
              reason: `${name}: cannot be read: ${file.unreadable}`,
            },
          }
    let rule: LoadedRule | undefined
    if ('failure' in result) {
      rule = lastGood.get(name)
      failures.push({ ...result.failure, ...(rule ? { running: 'the last version that loaded' } : {}) })
    } else {
      rule = result.rule
    }
    if (!rule) continue
    const other = byName.get(rule.name)
    if (other !== undefined) {
      failures.push({
        file: name,
        code: 'PW_ERR_RULE_FILE',
        reason: `${name}: at /name: rule "${rule.name}" is already defined by ${other}`,
      })
      continue
    }
    byName.set(rule.name, name)
    rules.push(rule)
  }
  const warnings = warningsOf(rules)
  return warnings.length > 0 ? { rules, failures, warnings } : { rules, failures }
}

/** Loads every `*.json` in the folder, in name order. A broken file is reported; the others load. */
export async function loadRuleDir(dir: string, lastGood?: ReadonlyMap<string, LoadedRule>): Promise<RuleSet> {
  // Dot files are editors' lock and backup files, not rules.
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'))
  const read = await Promise.allSettled(names.map((name) => readFile(join(dir, name), 'utf8')))
  const files = read.map((r, i) => {
    const name = names[i] as string
    return r.status === 'fulfilled'
      ? { name, text: r.value }
      : { name, unreadable: (r.reason as Error).message }
  })
  return resolveRuleFiles(files, lastGood)
}
