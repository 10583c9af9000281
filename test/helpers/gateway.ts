/**
 * A gateway in this process, driven by the test: its clock is the test's, it polls when told
 * (`pollAll`), and its log lines are kept for assertions.
 */
import pino from 'pino'
import { buildGatewayConfig, type GatewayConfig } from '../../gateway/config.ts'
import { Gateway } from '../../gateway/gateway.ts'
import type { Printer } from '../../gateway/printers.ts'
import { loadProfiles } from '../../gateway/profiles.ts'
import { ManualClock } from '../../src/clock.ts'

export interface TestGateway {
  gateway: Gateway
  clock: ManualClock
  logs: Record<string, unknown>[]
  config: GatewayConfig
}

export function startGateway(args: {
  broker: string
  site: string
  id?: string
  printers: Printer[]
  bufferDir: string
  start: number
  flags?: Record<string, string>
}): TestGateway {
  const config = buildGatewayConfig({
    flags: {
      broker: args.broker,
      site: args.site,
      id: args.id ?? 'gw-test',
      printers: '(in the test)',
      bufferDir: args.bufferDir,
      snmpTimeoutMs: '5s',
      ...args.flags,
    } as Record<string, string>,
  })
  const logs: Record<string, unknown>[] = []
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) })
  const clock = new ManualClock(args.start)
  const gateway = new Gateway(config, args.printers, loadProfiles(), clock, log, { reconnectMs: 200 })
  gateway.start(false)
  return { gateway, clock, logs, config }
}
