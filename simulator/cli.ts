#!/usr/bin/env node
/**
 * `npm run simulate -- [flags]`: reads the flags and the scenario, runs, prints the summary on stdout
 * and writes `--report`. `--help` lists every flag.
 */
import { SimulatorError } from './errors.ts'
import { buildProgram, configFromFlags, type Flags } from './options.ts'
import { run } from './runner.ts'
import { formatSummary } from './summary.ts'

async function main(): Promise<void> {
  const program = buildProgram()
  program.parse()
  const flags = program.opts<Flags>()
  const cfg = configFromFlags(flags)
  const report = await run(cfg, (line) => process.stderr.write(`${line}\n`))
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatSummary(report))
}

main().catch((err: unknown) => {
  if (err instanceof SimulatorError) console.error(`simulate: ${err.code}: ${err.message}`)
  else console.error('simulate: failed:', err)
  process.exit(1)
})
