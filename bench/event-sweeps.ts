/**
 * Benchmark of event time: the fleet simulator's closed loop (lockstep with the service's API)
 * against the real service in `--clock event`, once per `--sweep-interval`, timing each run from
 * the simulator's start to its end. With deadlines instead of scans, a fine sweep resolution costs
 * about what a coarse one does: time passing costs the deadlines that fall due, not the sweep
 * instants times the devices.
 *
 *   npx tsx bench/event-sweeps.ts                          # 40 printers, 10 days, 1s and 1h
 *   npx tsx bench/event-sweeps.ts --intervals 1s --devices 100 --duration 30d
 *   npx tsx bench/event-sweeps.ts --help
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDuration } from '../src/config/options.ts'
import { kill9, ROOT, startServiceProcess, tempDir } from '../test/helpers/service-process.ts'

const HELP = `bench/event-sweeps.ts: an event-time simulation at several sweep intervals.

  --devices N       printers [40]
  --duration D      simulated time (10d, 30d, ...) [10d]
  --intervals LIST  the service's --sweep-interval values, comma separated [1s,1h]
  --scenario NAME   the simulator's scenario [demo]
  --seed S          the simulator's seed [1]
  --json            print the results as one JSON line
  --help            this text

Prints, for each interval, the wall time of the simulation, the readings it sent and the
actions the service created, and the ratio of each time to the last interval's.
`

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '40' },
    duration: { type: 'string', default: '10d' },
    intervals: { type: 'string', default: '1s,1h' },
    scenario: { type: 'string', default: 'demo' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const intervals = values.intervals.split(',').filter((i) => i !== '')
if (intervals.length === 0 || intervals.some((i) => parseDuration(i) === null)) {
  process.stderr.write(HELP)
  process.exit(2)
}

interface Run {
  sweepInterval: string
  seconds: number
  readings: number | null
  /** The actions the service created, by type. */
  actions: Record<string, number>
}

/** Runs the simulator to its end against the service; resolves with its JSON summary. */
function simulate(mqttUrl: string, http: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'simulator/cli.ts'),
        ...['--broker', mqttUrl, '--api', http, '--scenario', values.scenario],
        ...['--devices', values.devices, '--duration', values.duration, '--seed', values.seed],
        ...['--progress', 'none', '--json'],
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`the simulator exited with ${code}: ${err}`))
      else resolve(JSON.parse(out) as Record<string, unknown>)
    })
  })
}

const count = (v: unknown): number | null => (typeof v === 'number' ? v : null)

async function run(sweepInterval: string): Promise<Run> {
  const dir = tempDir('printwarden-bench-sweeps-')
  const service = await startServiceProcess({
    dataDir: dir.path,
    extra: ['--clock', 'event', '--sweep-interval', sweepInterval],
  })
  try {
    const start = performance.now()
    const summary = await simulate(service.mqttUrl, service.http)
    const seconds = (performance.now() - start) / 1000
    const published = summary.published as { readings?: unknown } | undefined
    const { items: actions } = (await (await fetch(`${service.http}/actions`)).json()) as {
      items: { type: string }[]
    }
    const byType: Record<string, number> = {}
    for (const a of actions) byType[a.type] = (byType[a.type] ?? 0) + 1
    return {
      sweepInterval,
      seconds: Math.round(seconds * 100) / 100,
      readings: count(published?.readings),
      actions: byType,
    }
  } finally {
    await kill9(service)
    dir.remove()
  }
}

const runs: Run[] = []
for (const interval of intervals) runs.push(await run(interval))
const base = runs[runs.length - 1] as Run
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ devices: Number(values.devices), duration: values.duration, runs })}\n`,
  )
} else {
  process.stdout.write(
    `${values.devices} printers, ${values.duration} of event time, scenario ${values.scenario}\n`,
  )
  for (const r of runs)
    process.stdout.write(
      `  --sweep-interval ${r.sweepInterval.padEnd(5)} ${r.seconds.toFixed(2).padStart(8)} s  readings ${r.readings ?? '?'}  actions ${JSON.stringify(r.actions)}  ×${(r.seconds / base.seconds).toFixed(2)} of ${base.sweepInterval}\n`,
    )
}
