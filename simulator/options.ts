/**
 * The simulator's flags (commander), and how they combine with a scenario into a run's configuration:
 * flags over the scenario's values over the defaults.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Command, Option } from 'commander'
import { parseDuration } from '../src/config/options.ts'
import { toEpochMs } from '../src/domain/reading.ts'
import { VERSION } from '../src/version.ts'
import { SimulatorError } from './errors.ts'
import type { ProgressMode } from './progress.ts'
import type { RunConfig } from './runner.ts'
import { loadScenario } from './scenario.ts'

/** The shipped rule files: the in-process what-if's rules unless `--rules` names others. */
const SHIPPED_RULES = join(import.meta.dirname, '..', 'rules')

export interface Flags {
  broker: string
  username?: string
  password?: string
  /** With mqtts://: the CA to trust (Access). */
  ca?: string
  api?: string
  actions: boolean
  lockstep: boolean
  dryRun?: boolean
  scenario: string
  devices?: string
  sites?: string
  seed?: string
  speed: string
  duration?: string
  start?: string
  interval?: string
  out?: string
  report?: string
  reportHtml?: string
  topicRoot: string
  window: string
  syncEvery?: string
  maxPayload: string
  clientPrefix: string
  progress: string
  linger: string
  json?: boolean
  inProcess?: boolean
  rules?: string
  sweepInterval?: string
}

const flagError = (message: string) => new SimulatorError('PW_ERR_SIM_FLAG', message)

function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1)
    throw flagError(`--${name} ${raw}: expected a whole number of 1 or more`)
  return Number(raw)
}

function duration(name: string, raw: string): number {
  const value = parseDuration(raw)
  if (value === null || value <= 0)
    throw flagError(`--${name} ${raw}: expected a duration such as 30d, 15m, 500ms`)
  return value
}

/** Flags over the scenario's own values over the defaults. Pure but for reading the scenario file. */
export function configFromFlags(flags: Flags): RunConfig {
  const { file, scenario } = loadScenario(flags.scenario)
  const startRaw = flags.start ?? scenario.start ?? '2026-01-05T00:00:00Z'
  // With its zone: a time without one would be read in the zone of the machine running the simulator.
  const start = toEpochMs(startRaw)
  if (!Number.isFinite(start))
    throw flagError(
      `--start ${startRaw}: expected an ISO 8601 instant with its zone, such as 2026-01-05T00:00:00Z`,
    )
  const speed = flags.speed === 'max' ? 'max' : Number(flags.speed)
  if (speed !== 'max' && (!Number.isFinite(speed) || speed <= 0))
    throw flagError(`--speed ${flags.speed}: expected simulated seconds per second (3600, 86400, …) or max`)
  const seedRaw = flags.seed ?? String(scenario.seed ?? 1)
  if (!/^-?\d+$/.test(seedRaw)) throw flagError(`--seed ${seedRaw}: expected an integer`)
  const progress = flags.progress as ProgressMode
  if (!['auto', 'bar', 'lines', 'none'].includes(progress))
    throw flagError(`--progress ${flags.progress}: expected auto, bar, lines or none`)
  const cfg: RunConfig = {
    scenarioFile: file,
    scenario,
    devices: flags.devices ? positiveInt('devices', flags.devices) : scenario.devices,
    sites: flags.sites ? positiveInt('sites', flags.sites) : scenario.sites,
    seed: Number(seedRaw),
    start,
    durationMs: duration('duration', flags.duration ?? scenario.duration ?? '30d'),
    intervalMs: duration('interval', flags.interval ?? scenario.interval ?? '15m'),
    broker: flags.dryRun ? null : flags.broker,
    closedLoop: flags.actions && !flags.dryRun,
    lockstep: flags.lockstep,
    speed,
    topicRoot: flags.topicRoot,
    window: positiveInt('window', flags.window),
    maxPayloadBytes: positiveInt('max-payload', flags.maxPayload),
    clientPrefix: flags.clientPrefix,
    progress,
    lingerMs: duration('linger', flags.linger),
  }
  if (cfg.sites > cfg.devices) throw flagError(`--sites ${cfg.sites} is more than --devices ${cfg.devices}`)
  if (cfg.intervalMs < 1000) throw flagError('--interval must be 1s or more')
  if (flags.username !== undefined) cfg.username = flags.username
  if (flags.password !== undefined) cfg.password = flags.password
  if (flags.ca !== undefined) cfg.ca = flags.ca
  if (flags.api !== undefined) cfg.api = flags.api.replace(/\/+$/, '')
  if (flags.out !== undefined) cfg.out = flags.out
  if (flags.report !== undefined) cfg.report = flags.report
  if (flags.reportHtml !== undefined) cfg.reportHtml = flags.reportHtml
  if (flags.syncEvery !== undefined) cfg.syncEveryMs = duration('sync-every', flags.syncEvery)
  if (flags.inProcess) {
    if (flags.dryRun)
      throw flagError('--in-process runs the service; --dry-run connects to nothing: one or the other')
    if (flags.api !== undefined)
      throw flagError('--in-process runs the service in this process: --api names another one, leave it out')
    const rulesDir = resolve(flags.rules ?? SHIPPED_RULES)
    if (!existsSync(rulesDir)) throw flagError(`--rules ${flags.rules}: no such folder of rule files`)
    cfg.broker = null
    cfg.inProcess = { rulesDir, sweepIntervalMs: duration('sweep-interval', flags.sweepInterval ?? '1h') }
  } else if (flags.rules !== undefined || flags.sweepInterval !== undefined) {
    throw flagError('--rules and --sweep-interval are for --in-process: a service of its own has its own')
  }
  return cfg
}

export function buildProgram(): Command {
  return new Command()
    .name('simulate')
    .version(VERSION)
    .description(
      'Fleet simulator for printwarden: site gateways publish printer readings over MQTT, in simulated time, from a seed; with actions on, the sites receive the toner, waste boxes and repairs the service orders.',
    )
    .option('--broker <url>', 'MQTT broker of the service', 'mqtt://127.0.0.1:1883')
    .option('--username <name>', 'MQTT user name, when the broker wants credentials')
    .option('--password <secret>', "MQTT password (the account's token)")
    .option('--ca <file>', 'with an mqtts:// broker: the PEM CA that signed its certificate')
    .option(
      '--api <url>',
      "the service's HTTP API (e.g. http://127.0.0.1:3000): run in lockstep with its processing, so a closed-loop run is reproducible, and count its actions at the end",
    )
    .option('--no-actions', 'open loop: do not subscribe to actions (nothing is delivered or repaired)')
    .option(
      '--no-lockstep',
      'with --api: never wait for the service (as fast as it takes readings; a closed-loop run is then not reproducible)',
    )
    .option('--dry-run', 'connect to nothing: only generate (with --out and --report)')
    .option(
      '--in-process',
      "a what-if: run the service's core in this process, in event time, with no socket and no fsync (no --broker, no --api), in lockstep",
    )
    .option('--rules <dir>', 'with --in-process: the rule files to try [the shipped rules/]')
    .option('--sweep-interval <d>', 'with --in-process: the resolution of deadline checks [1h]')
    .option('--scenario <file>', 'scenario file, or the name of one in simulator/scenarios/', 'demo')
    .option('--devices <n>', "number of printers [scenario's]")
    .option('--sites <m>', "number of sites, one gateway each [scenario's]")
    .option('--seed <s>', "seed of every random choice [scenario's]")
    .option('--speed <x>', 'simulated seconds per real second, or max', 'max')
    .option('--duration <d>', "simulated time to run, e.g. 30d [scenario's, else 30d]")
    .option('--start <iso>', "simulated start, e.g. 2026-01-05T00:00:00Z [scenario's]")
    .option('--interval <d>', "time between two readings of a printer [scenario's, else 15m]")
    .option(
      '--out <file>',
      'also write every published message as JSON lines {"topic","payload"}, in publish order',
    )
    .option('--report <file>', 'write the summary as JSON')
    .option(
      '--report-html <file>',
      'write one self-contained HTML page of the run: its settings, and charts over simulated time',
    )
    .option('--json', 'print the summary as JSON rather than text')
    .option('--topic-root <root>', 'MQTT topic root of the service', 'fleet/v1')
    .option('--window <n>', 'messages each gateway keeps in flight, unacknowledged', '32')
    .option(
      '--sync-every <d>',
      'with --api: simulated time between two lockstep points [shortest delivery or repair]',
    )
    .option('--max-payload <bytes>', 'largest replay message', '250000')
    .option('--client-prefix <prefix>', 'prefix of the MQTT client ids', 'printwarden-sim')
    .addOption(
      new Option('--progress <mode>', 'progress on stderr')
        .choices(['auto', 'bar', 'lines', 'none'])
        .default('auto'),
    )
    .option(
      '--linger <d>',
      'without --api: how long to wait for action messages after the last reading',
      '3s',
    )
}
