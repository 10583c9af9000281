/**
 * Ingest benchmark: many gateway connections publishing QoS 1 readings over TCP on 127.0.0.1, first
 * to a bare aedes broker (the baseline: nothing behind it) and then, with the same load driver and
 * the same messages, to the real service as a child process. Prints both PUBACK rates and their
 * ratio, PUBACK latency, the time until every reading is processed by the rules, and the service's
 * peak memory. `--no-baseline` leaves the bare broker out.
 *
 *   npm run bench -- --readings 100000 --gateways 50 --devices 5000 --batch 1 --window 64
 *   npm run bench -- --store influx --readings 200000 --batch 20 --window 8
 *
 * --batch N publishes arrays of N readings of one device (a gateway replaying); --window is how many
 * unacknowledged messages each gateway keeps in flight.
 */

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { MqttClient } from 'mqtt'
import { terminalProgress } from '../src/terminal.ts'
import { connect } from '../test/helpers/fleet.ts'
import { startInfluxd } from '../test/helpers/influxd.ts'
import {
  getJson,
  kill9,
  memoryMiB,
  ROOT,
  startServiceProcess,
  stopGracefully,
  tempDir,
  waitFor,
} from '../test/helpers/service-process.ts'
import { benchFlags } from './flags.ts'
import { steadyLatency } from './latency.ts'

const USAGE = `Ingest benchmark: the real service as a child process, gateways publishing QoS 1 readings.

  npm run bench -- [--readings 50000] [--gateways 50] [--devices 5000] [--batch 1] [--window 64]
                   [--store sqlite|influx] [--spool-drain]

  --readings N     readings in all
  --gateways N     MQTT connections, each a site gateway
  --devices N      devices, spread over the gateways
  --batch N        readings per message (an array of one device's readings: a gateway replaying)
  --window N       unacknowledged messages each gateway keeps in flight
  --store S        sqlite (default) or influx (starts a real influxd)
  --spool-drain    with --store influx: influxd down while publishing, then time the spool draining
  --no-baseline    leave out the bare aedes broker run
  --steady S       then S seconds (default 20; 0 leaves it out) at half the rate acknowledged, with
                   one message in --probe-every (50) a new device at 15% black: its publish-to-reorder
                   latency, the first --warmup (5) seconds apart; --steady-rate N sets the rate
  --cpu-prof DIR   write a V8 CPU profile of the service to DIR (it is then stopped with SIGTERM, so
                   that the profile is written, rather than killed)
  --version        the version of printwarden
  --help           this text

Prints a JSON report: PUBACK rate and latency, time to process, actions, the service's peak memory.
Progress goes to stderr on a terminal.
`
const values = benchFlags(USAGE, {
  readings: { type: 'string', default: '50000' },
  gateways: { type: 'string', default: '50' },
  devices: { type: 'string', default: '5000' },
  batch: { type: 'string', default: '1' },
  window: { type: 'string', default: '64' },
  store: { type: 'string', default: 'sqlite' },
  // With --store influx: keep influxd down while publishing, then time the spool draining into it.
  'spool-drain': { type: 'boolean', default: false },
  'no-baseline': { type: 'boolean', default: false },
  'cpu-prof': { type: 'string' },
  steady: { type: 'string', default: '20' },
  warmup: { type: 'string', default: '5' },
  'steady-rate': { type: 'string' },
  'probe-every': { type: 'string', default: '50' },
})
const total = Number(values.readings)
const gateways = Number(values.gateways)
const devices = Number(values.devices)
const batch = Number(values.batch)
const window = Number(values.window)

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

const perDevice = Math.ceil(total / devices)
// The readings end a quarter of an hour before the run: a fleet reporting now, none of it silent,
// so that the steady phase after the burst measures readings, not a wave of missed-reading actions.
const start = Date.now() - (perDevice + 1) * 15 * 60_000

/** A device's `n`-th reading, every 15 minutes: its toner goes down and its counter up. */
const readingOf = (n: number) => ({
  ts: start + n * 15 * 60_000,
  seq: n,
  toner: { black: 100 - (n % 90), cyan: 100 - ((n * 2) % 90) },
  counters: { total: n * 7 },
  status: 'ready',
})

/** The devices of gateway `g`. */
const devicesOf = (g: number) =>
  Array.from({ length: devices }, (_, d) => d).filter((d) => d % gateways === g)

/** The messages of one gateway: its devices' readings in time order, `batch` readings a message. */
function messagesOf(g: number): { topic: string; payload: string; count: number }[] {
  const out: { topic: string; payload: string; count: number }[] = []
  const mine = devicesOf(g)
  for (let i = 0; i < perDevice; i += batch) {
    for (const d of mine) {
      const readings = Array.from({ length: Math.min(batch, perDevice - i) }, (_, k) => readingOf(i + k))
      out.push({
        topic: `fleet/v1/site-${g}/BENCH-${d}/telemetry`,
        payload: JSON.stringify(batch === 1 ? readings[0] : readings),
        count: readings.length,
      })
    }
  }
  return out
}

async function runGateway(
  client: MqttClient,
  messages: ReturnType<typeof messagesOf>,
  latencies: number[],
  progress: ReturnType<typeof terminalProgress>,
) {
  let next = 0
  const worker = async () => {
    while (next < messages.length) {
      const m = messages[next++] as (typeof messages)[number]
      const sent = performance.now()
      await client.publishAsync(m.topic, m.payload, { qos: 1 })
      latencies.push(performance.now() - sent)
      progress.update(latencies.length, messageCount)
    }
  }
  await Promise.all(Array.from({ length: window }, worker))
}

const plans = Array.from({ length: gateways }, (_, g) => messagesOf(g))
const readingsSent = plans.flat().reduce((n, m) => n + m.count, 0)
const messageCount = plans.reduce((n, p) => n + p.length, 0)

/** Every gateway connects to `url` and publishes its plan; the PUBACK latencies and the time it took. */
async function drive(
  url: string,
  label: string,
): Promise<{ latencies: number[]; ms: number; end: () => Promise<void> }> {
  const clients = await Promise.all(plans.map(() => connect(url)))
  const latencies: number[] = []
  const progress = terminalProgress(label, 'messages')
  const began = performance.now()
  await Promise.all(clients.map((c, g) => runGateway(c, plans[g] ?? [], latencies, progress)))
  const ms = performance.now() - began
  progress.stop()
  latencies.sort((a, b) => a - b)
  return { latencies, ms, end: async () => void (await Promise.all(clients.map((c) => c.endAsync()))) }
}

/** The baseline: a bare aedes broker in a process of its own, under the same load. */
async function baseline(): Promise<{ ackedPerSecond: number; pubackMs: { p50: number; p99: number } }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/bare-broker.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolvePort, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) =>
      resolvePort((JSON.parse(line) as { mqttPort: number }).mqttPort),
    )
    child.once('exit', (code) => reject(new Error(`the bare broker exited (${code})`)))
  })
  const run = await drive(`mqtt://127.0.0.1:${port}`, 'publishing to bare aedes')
  await run.end()
  child.kill('SIGTERM')
  return {
    ackedPerSecond: Math.round(readingsSent / (run.ms / 1000)),
    pubackMs: {
      p50: +percentile(run.latencies, 50).toFixed(2),
      p99: +percentile(run.latencies, 99).toFixed(2),
    },
  }
}

const bare = values['no-baseline'] ? undefined : await baseline()

const data = tempDir('printwarden-bench-')
// With --store influx, a real influxd (Debian's influxdb package) on free ports.
const influxd = values.store === 'influx' ? await startInfluxd() : undefined
const profileDir = values['cpu-prof']
const service = await startServiceProcess({
  dataDir: data.path,
  extra: influxd ? ['--store', 'influx', '--influx-url', `${influxd.url}/bench`] : [],
  ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
})
const pid = service.child.pid as number
// A service that dies under the load is the finding: said, not left as a run that never ends.
const died = (code: number | null) => {
  process.stderr.write(`bench: the service exited (${code}) during the run\n`)
  process.exit(1)
}
service.child.once('exit', died)
const rssAtStart = memoryMiB(pid, 'VmHWM')
if (influxd && values['spool-drain']) await influxd.kill()
const t0 = performance.now()
const run = await drive(service.mqttUrl, 'publishing to printwarden')
const { latencies } = run
const acked = run.ms
await waitFor(
  async () =>
    (await getJson<{ processing: { backlog: number } }>(`${service.http}/stats`)).body.processing.backlog ===
    0
      ? true
      : undefined,
  600_000,
  'processing',
)
const processed = performance.now() - t0
let drainFrom = t0
if (influxd && values['spool-drain']) {
  await influxd.start()
  drainFrom = performance.now()
}
await waitFor(
  async () => {
    if (!influxd) return true
    const { body } = await getJson<{ spool: { pending: number } }>(`${service.http}/health`)
    return body.spool.pending === 0 ? true : undefined
  },
  600_000,
  'the spool to drain into InfluxDB',
)
const inInflux = performance.now() - drainFrom
const actions = (await getJson<{ items: unknown[] }>(`${service.http}/actions?limit=10000`)).body.items.length
await run.end()
const ackedPerSecond = Math.round(readingsSent / (acked / 1000))
const steadySeconds = Number(values.steady)
// Once, not at each message: the load driver must not be what is measured.
const devicesByGateway = Array.from({ length: gateways }, (_, g) => devicesOf(g))
const steady =
  steadySeconds > 0
    ? await steadyLatency({
        url: service.mqttUrl,
        gateways,
        rate: values['steady-rate'] ? Number(values['steady-rate']) : Math.round(ackedPerSecond / 2),
        seconds: steadySeconds,
        warmupSeconds: Number(values.warmup),
        probeEvery: Number(values['probe-every']),
        reading: (g, n) => {
          const mine = devicesByGateway[g] as number[]
          const d = mine[n % mine.length] as number
          return {
            topic: `fleet/v1/site-${g}/BENCH-${d}/telemetry`,
            // Now, not on the burst's 15-minute steps: those would run into the future.
            payload: JSON.stringify({
              ...readingOf(perDevice + Math.floor(n / mine.length)),
              ts: Date.now(),
            }),
          }
        },
      })
    : undefined
const peak = memoryMiB(pid, 'VmHWM')
service.child.off('exit', died)
if (profileDir) await stopGracefully(service)
else await kill9(service)
await influxd?.remove()
data.remove()

const report = {
  readings: readingsSent,
  messages: latencies.length,
  gateways,
  devices,
  batch,
  window,
  ackedPerSecond,
  ...(bare
    ? {
        bareAedes: bare,
        // The service's PUBACK rate (after the group commit) over a bare broker's, same run, same load.
        ratioToBareAedes: +(ackedPerSecond / bare.ackedPerSecond).toFixed(3),
      }
    : {}),
  // Time until every reading is decided, over the time it took to acknowledge them.
  decidedOverAcked: +(processed / acked).toFixed(3),
  processedPerSecond: Math.round(readingsSent / (processed / 1000)),
  ...(influxd
    ? {
        store: 'influx',
        writtenToInfluxPerSecond: Math.round(readingsSent / (inInflux / 1000)),
        secondsToInflux: +(inInflux / 1000).toFixed(2),
      }
    : { store: 'sqlite' }),
  pubackMs: {
    p50: +percentile(latencies, 50).toFixed(2),
    p95: +percentile(latencies, 95).toFixed(2),
    p99: +percentile(latencies, 99).toFixed(2),
  },
  secondsToAck: +(acked / 1000).toFixed(2),
  secondsToProcess: +(processed / 1000).toFixed(2),
  actionsCreated: actions,
  // Publish to reorder at half the rate acknowledged above, the first seconds apart.
  ...(steady ? { publishToAction: steady } : {}),
  serviceRssMiB: { atStart: Math.round(rssAtStart), peak: Math.round(peak) },
}
console.log(JSON.stringify(report, null, 2))
