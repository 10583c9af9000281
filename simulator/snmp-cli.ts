#!/usr/bin/env node
/**
 * `npm run simulate:snmp -- [flags]`: the simulator's SNMP mode. The scenario's printers answer
 * SNMP on their own loopback addresses (127.0.x.y, `--snmp-port`), one real gateway per site polls
 * them and publishes to `--broker`, and the service's actions come back: closed loop. Takes the
 * flags of `npm run simulate` (`--help`), and prints the KPIs as JSON.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SimulatorError } from './errors.ts'
import { buildProgram, configFromFlags, type Flags } from './options.ts'
import { runSnmp } from './snmp-runner.ts'

async function main(): Promise<void> {
  const program = buildProgram()
    .name('simulate:snmp')
    .option('--snmp-port <port>', 'the UDP port every simulated printer answers SNMP on', '16161')
    .option(
      '--buffer-dir <dir>',
      "the gateways' buffers, one folder per site",
      join(tmpdir(), 'printwarden-sim-gateways'),
    )
  program.parse()
  const flags = program.opts<Flags & { snmpPort: string; bufferDir: string }>()
  const cfg = configFromFlags(flags)
  const report = await runSnmp(cfg, {
    port: Number(flags.snmpPort),
    bufferDir: flags.bufferDir,
    onTick: (k, n) => {
      if (k % 100 === 0 || k === n) process.stderr.write(`simulate:snmp: tick ${k} of ${n}\n`)
    },
  })
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
}

main().catch((err: unknown) => {
  if (err instanceof SimulatorError) console.error(`simulate:snmp: ${err.code}: ${err.message}`)
  else console.error('simulate:snmp: failed:', err)
  process.exit(1)
})
