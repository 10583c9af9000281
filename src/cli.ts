#!/usr/bin/env node
import { Command } from 'commander'
import { buildConfig, type ConfigSchema, envName, readConfigFile } from './config/config.ts'
import { OPTIONS } from './config/options.ts'
import { PrintwardenError } from './errors.ts'
import { startService } from './main.ts'
import { VERSION } from './version.ts'

const program = new Command()
  .name('printwarden')
  .description(
    'Managed print services fleet monitor: MQTT broker, store, rules, actions and API in one process.',
  )
  .version(VERSION)
  .option(
    '--config <file>',
    'a JSON file of options (keys are flag names); flags and environment win over it',
  )
for (const o of OPTIONS)
  program.option(
    o.switch ? `--${o.flag}` : `--${o.flag} <value>`,
    `${o.description} [${o.defaultValue}] (${envName(o.flag)})`,
  )
program.parse()

async function main(): Promise<void> {
  const opts = program.opts<Record<string, string | boolean | undefined>>()
  const configFile = (opts.config as string | undefined) ?? process.env.PRINTWARDEN_CONFIG
  const flags: Record<string, string> = {}
  for (const o of OPTIONS) {
    const value = opts[o.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())]
    if (value !== undefined) flags[o.key] = String(value)
  }
  const config = buildConfig({
    env: process.env,
    flags: flags as Partial<Record<keyof typeof ConfigSchema.static, string>>,
    ...(configFile ? { file: readConfigFile(configFile), fileName: configFile } : {}),
  })
  const service = await startService(config)
  const shutdown = (signal: string) => {
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`printwarden: stop after ${signal} failed:`, err)
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}

main().catch((err: unknown) => {
  if (err instanceof PrintwardenError) console.error(`printwarden: ${err.code}: ${err.message}`)
  else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
    // Taken between the check at start and the listen: still one line, not a stack trace.
    console.error(`printwarden: PW_ERR_PORT_IN_USE: ${(err as Error).message}`)
  else console.error('printwarden: could not start:', err)
  process.exit(1)
})
