#!/usr/bin/env node
/**
 * `npm run gateway -- [flags]`: a site gateway. Polls the printers of `--printers` over SNMP and
 * publishes their readings to the service's broker. `--help` lists every flag.
 */
import { Command } from 'commander'
import pino from 'pino'
import { wallClock } from '../src/clock.ts'
import { readConfigFile } from '../src/config/config.ts'
import { PrintwardenError } from '../src/errors.ts'
import { buildGatewayConfig, GATEWAY_OPTIONS, gatewayEnvName } from './config.ts'
import { GatewayError } from './errors.ts'
import { Gateway, SOFTWARE } from './gateway.ts'
import { loadPrinters } from './printers.ts'
import { loadProfiles } from './profiles.ts'

const program = new Command()
  .name('gateway')
  .description(
    'printwarden site gateway: polls printers over SNMP (Printer-MIB, RFC 3805) and publishes their readings over MQTT.',
  )
  .version(SOFTWARE, '--version')
  .option(
    '--config <file>',
    'a JSON file of options (keys are flag names); flags and environment win over it',
  )
for (const o of GATEWAY_OPTIONS)
  program.option(
    `--${o.flag} <value>`,
    `${o.description}${o.defaultValue ? ` [${o.defaultValue}]` : ''} (${gatewayEnvName(o.flag)})`,
  )
program.parse()

async function main(): Promise<void> {
  const opts = program.opts<Record<string, string | undefined>>()
  const configFile = opts.config ?? process.env.PRINTWARDEN_GATEWAY_CONFIG
  const flags: Record<string, string> = {}
  for (const o of GATEWAY_OPTIONS) {
    const value = opts[o.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())]
    if (value !== undefined) flags[o.key] = value
  }
  const config = buildGatewayConfig({
    env: process.env,
    flags,
    ...(configFile ? { file: readConfigFile(configFile), fileName: configFile } : {}),
  })
  const log = pino({ level: config.logLevel, base: { gateway: config.id, site: config.site } })
  const printers = loadPrinters(config.printers)
  const gateway = new Gateway(config, printers, loadProfiles(config.profiles), wallClock, log)
  gateway.start()
  log.info(
    {
      printers: printers.length,
      intervalMs: config.intervalMs,
      bufferDir: config.bufferDir,
      software: SOFTWARE,
    },
    'printwarden gateway is running',
  )
  // One line per interval: how the polls went, for an operator's eye and the benchmark.
  const summary = setInterval(() => log.info({ stats: gateway.stats }, 'gateway stats'), config.intervalMs)
  summary.unref()
  const shutdown = (signal: string) => {
    clearInterval(summary)
    gateway.stop().then(
      () => {
        log.info({ signal }, 'gateway stopped')
        process.exit(0)
      },
      (err: unknown) => {
        console.error(`gateway: stop after ${signal} failed:`, err)
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}

main().catch((err: unknown) => {
  if (err instanceof GatewayError || err instanceof PrintwardenError)
    console.error(`gateway: ${err.code}: ${err.message}`)
  else console.error('gateway: could not start:', err)
  process.exit(1)
})
