import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkRule, type RuleFile } from './rule-file.ts'

export interface LoadedRule extends RuleFile {
  file: string
}

export interface RuleFailure {
  file: string
  code: 'PW_ERR_RULE_FILE'
  reason: string
}

export interface RuleSet {
  rules: LoadedRule[]
  failures: RuleFailure[]
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

/** Loads every `*.json` in the folder, in name order. A broken file is reported; the others load. */
export async function loadRuleDir(dir: string): Promise<RuleSet> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()
  const rules: LoadedRule[] = []
  const failures: RuleFailure[] = []
  const byName = new Map<string, string>()
  for (const name of names) {
    const result = parseRuleFile(name, await readFile(join(dir, name), 'utf8'))
    if ('failure' in result) {
      failures.push(result.failure)
      continue
    }
    const other = byName.get(result.rule.name)
    if (other !== undefined) {
      failures.push({
        file: name,
        code: 'PW_ERR_RULE_FILE',
        reason: `${name}: at /name: rule "${result.rule.name}" is already defined by ${other}`,
      })
      continue
    }
    byName.set(result.rule.name, name)
    rules.push(result.rule)
  }
  return { rules, failures }
}
