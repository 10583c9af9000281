/** The flags every bench shares: `--help` prints its usage and `--version` the package's, then it exits. */
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { configFromFlags, type Flags } from '../simulator/options.ts'
import type { RunConfig } from '../simulator/runner.ts'
import { VERSION } from '../src/version.ts'

type Options = NonNullable<ParseArgsConfig['options']>
const COMMON = {
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const

export function benchFlags<const O extends Options>(usage: string, options: O) {
  const { values } = parseArgs({ options: { ...COMMON, ...options } })
  const asked = values as { help?: boolean; version?: boolean }
  if (asked.help) {
    process.stdout.write(usage)
    process.exit(0)
  }
  if (asked.version) {
    process.stdout.write(`${VERSION}\n`)
    process.exit(0)
  }
  return values
}

/**
 * A run of the load-test fleet (the load-10k scenario) at --speed max, closed loop on, with the
 * simulator's own defaults for what a bench does not choose.
 */
export function loadFleetConfig(
  flags: Pick<Flags, 'broker' | 'clientPrefix' | 'lockstep' | 'window'> &
    Partial<Pick<Flags, 'api' | 'devices' | 'sites' | 'duration' | 'start' | 'interval' | 'seed'>>,
): RunConfig {
  return configFromFlags({
    actions: true,
    scenario: 'load-10k',
    speed: 'max',
    topicRoot: 'fleet/v1',
    maxPayload: '250000',
    progress: 'auto',
    linger: '3s',
    ...flags,
  })
}
