#!/usr/bin/env node
/**
 * `npm run rules -- test|backtest`: dry runs of the rule files, for operators who want to see what a
 * rule would do before they deploy it. Exit code 0 when the dry run ran, whatever it found; 2 for a
 * bad command line or input that cannot be read.
 */
import { Command, CommanderError, Option } from 'commander'
import { buildConfig, readConfigFile, supportCalendar } from '../config/config.ts'
import { OPTIONS } from '../config/options.ts'
import { toEpochMs } from '../domain/reading.ts'
import { PrintwardenError } from '../errors.ts'
import { terminalProgress } from '../terminal.ts'
import { VERSION } from '../version.ts'
import { DryRunInputError, type DryRunReport, formatReport } from './dry-run/report.ts'

const USAGE = 2

class UsageError extends Error {}

const defaultOf = (flag: string) => OPTIONS.find((o) => o.flag === flag)?.defaultValue ?? ''

/** ISO 8601 with a zone, a bare date (midnight UTC), or epoch milliseconds. */
function parseInstant(text: string, flag: string): number {
  const trimmed = text.trim()
  const ms = /^\d+$/.test(trimmed)
    ? Number(trimmed)
    : toEpochMs(/^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed)
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not an instant: give ISO 8601 with a zone (2026-11-20T08:00:00Z), a date (2026-11-20, midnight UTC) or epoch milliseconds`,
    )
  }
  return ms
}

interface CommonFlags {
  rulesDir?: string
  dataDir?: string
  sweepInterval?: string
  topicRoot?: string
  json?: boolean
  config?: string
}

/** The service's own configuration rules: defaults < config file < environment (PRINTWARDEN_*) < flags. */
function settingsOf(flags: CommonFlags) {
  const configFile = flags.config ?? process.env.PRINTWARDEN_CONFIG
  const config = buildConfig({
    env: process.env,
    ...(configFile ? { file: readConfigFile(configFile), fileName: configFile } : {}),
    flags: {
      ...(flags.rulesDir === undefined ? {} : { rulesDir: flags.rulesDir }),
      ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
      ...(flags.sweepInterval === undefined ? {} : { sweepIntervalMs: flags.sweepInterval }),
      ...(flags.topicRoot === undefined ? {} : { topicRoot: flags.topicRoot }),
    },
  })
  return {
    rulesDir: config.rulesDir,
    dataDir: config.dataDir,
    sweepIntervalMs: config.sweepIntervalMs,
    topicRoot: config.topicRoot,
    maxPayloadBytes: config.maxPayloadBytes,
    supportCalendar: supportCalendar(config),
  }
}

/**
 * The dry run itself (the store, the processor, the engine) loads only when a command runs: help
 * and usage errors answer at once.
 */
const dryRun = () => import('./dry-run.ts')

function print(report: DryRunReport, json: boolean | undefined): void {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
}

const configOption = () =>
  new Option(
    '--config <file>',
    "the service's JSON config file, as `npm start -- --config` takes it (PRINTWARDEN_CONFIG)",
  )
const rulesDirOption = () =>
  new Option('--rules-dir <dir>', `the rule files [${defaultOf('rules-dir')}] (PRINTWARDEN_RULES_DIR)`)
const sweepOption = () =>
  new Option(
    '--sweep-interval <duration>',
    `event time between two runs of the silence rules: 500ms, 1m, 1h, … [${defaultOf('sweep-interval')}]`,
  )
const jsonOption = () => new Option('--json', 'print the report as JSON')

const program = new Command()
  .name('rules')
  .description(
    'Dry runs of the rule files: which actions they would create, and for a rule that did not fire, which condition failed.',
  )
  // Commander's errors (unknown option, missing argument) exit with the usage code, not 1.
  .exitOverride()
  .version(VERSION)
  .showHelpAfterError('(add --help for the options)')

program
  .command('test')
  .description('run the rule files over a file of readings, in a temporary store: nothing else is written')
  .requiredOption('--readings <file>', 'JSON lines of readings (below)')
  .addOption(configOption())
  .addOption(rulesDirOption())
  .option(
    '--data-dir <dir>',
    "take the site and device inventory (inventory.json) of the service's data directory; read only",
  )
  .option(
    '--until <instant>',
    'after the last reading, let time run on to this instant and run the silence rules there',
  )
  .addOption(sweepOption())
  .option('--topic-root <root>', `MQTT topic root of the lines' topics [${defaultOf('topic-root')}]`)
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
The readings file holds one JSON message a line, in either of two forms (they may be mixed):

  {"topic":"fleet/v1/milano-hq/SCM-004512/telemetry","payload":{"ts":"2026-11-20T08:00:00Z","toner":{"black":18}}}
      as the simulator writes them (npm run simulate -- --out FILE): the payload is one reading or an
      array of readings, as on MQTT; lines on a .../birth topic describe the device
  {"siteId":"milano-hq","deviceId":"SCM-004512","ts":"2026-11-20T08:00:00Z","toner":{"black":18}}
      a bare reading that names its site and device

Each line is checked as MQTT ingest checks a message (but no timestamp is "in the future": a dry run
replays the past); a line that fails is reported with its line number and reason, and the rest go on.
Readings are processed in file order, in event time: "now" is the newest reading's time, and silence
rules run each time it passes a multiple of --sweep-interval.

The report lists the actions that would be created (with their status at the end), a count by type,
the rejected lines, rule files that failed to load (the others still run), and for each rule that
never fired for a device, the conditions that failed at its last evaluation, with the fact values.

The temporary store lives in the system's temporary directory (TMPDIR), without fsync: nothing
in it needs to survive the run.

Exit code: 0 when the dry run ran, whatever it found; 2 for a bad command line or unreadable input.
`,
  )
  .action(async (flags: CommonFlags & { readings: string; until?: string }) => {
    const settings = settingsOf(flags)
    const { testReadings } = await dryRun()
    const progress = terminalProgress('rules test', 'bytes')
    const report = await testReadings({
      ...settings,
      onProgress: (done, total) => progress.update(done, total),
      readingsFile: flags.readings,
      ...(flags.until === undefined ? {} : { until: parseInstant(flags.until, '--until') }),
      ...(flags.dataDir === undefined ? {} : { inventoryDir: settings.dataDir }),
    }).finally(() => progress.stop())
    print(report, flags.json)
  })

program
  .command('backtest')
  .description(
    "run the rule files over the readings the service stored between two instants; the service's database is only read",
  )
  .requiredOption('--from <instant>', 'start of the window (ISO 8601 with a zone, a date, or epoch ms)')
  .requiredOption('--to <instant>', 'end of the window, included')
  .option(
    '--data-dir <dir>',
    `the service's data directory [${defaultOf('data-dir')}] (PRINTWARDEN_DATA_DIR)`,
  )
  .addOption(configOption())
  .addOption(rulesDirOption())
  .addOption(sweepOption())
  .addOption(jsonOption())
  .addHelpText(
    'after',
    `
The stored readings of the window are replayed in the order the service received them, through the
real processor, into a temporary store, in event time; at the end, the silence rules run once more
at --to. The service's database is opened read-only (it may be running meanwhile), and its site and
device inventory is used as the service uses it. The report is the one of \`rules test\`.

The temporary store lives in the system's temporary directory (TMPDIR), without fsync: nothing
in it needs to survive the run.

Exit code: 0 when the dry run ran, whatever it found; 2 for a bad command line or unreadable input.
`,
  )
  .action(async (flags: CommonFlags & { from: string; to: string }) => {
    const from = parseInstant(flags.from, '--from')
    const to = parseInstant(flags.to, '--to')
    if (from > to) throw new UsageError(`--from ${flags.from} is after --to ${flags.to}`)
    const settings = settingsOf(flags)
    const { backtest } = await dryRun()
    const progress = terminalProgress('rules backtest', 'readings')
    const report = await backtest({
      ...settings,
      from,
      to,
      onProgress: (done) => progress.update(done),
    }).finally(() => progress.stop())
    print(report, flags.json)
  })

try {
  await program.parseAsync()
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    process.exitCode = err.exitCode === 0 ? 0 : USAGE
  } else if (
    err instanceof UsageError ||
    err instanceof DryRunInputError ||
    (err instanceof PrintwardenError && err.code === 'PW_ERR_CONFIG')
  ) {
    process.stderr.write(`rules: ${err.message}\n`)
    process.exitCode = USAGE
  } else {
    process.stderr.write(`rules: the dry run failed: ${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  }
}
