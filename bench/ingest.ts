/**
 * Ingest benchmark: the real service as a child process, many gateway connections publishing QoS 1
 * readings over TCP on 127.0.0.1. Prints the PUBACK rate and latency, the time until every reading
 * is processed by the rules, and the service's peak memory.
 *
 *   npm run bench -- --readings 100000 --gateways 50 --devices 5000 --batch 1 --window 64
 *   npm run bench -- --store influx --readings 200000 --batch 20 --window 8
 *
 * --batch N publishes arrays of N readings of one device (a gateway replaying); --window is how many
 * unacknowledged messages each gateway keeps in flight.
 */
import { parseArgs } from 'node:util'
import type { MqttClient } from 'mqtt'
import { terminalProgress } from '../src/terminal.ts'
import { VERSION } from '../src/version.ts'
import { connect, HOUR } from '../test/helpers/fleet.ts'
import { startInfluxd } from '../test/helpers/influxd.ts'
import {
  getJson,
  kill9,
  memoryMiB,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../test/helpers/service-process.ts'

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
  --version        the version of printwarden
  --help           this text

Prints a JSON report: PUBACK rate and latency, time to process, actions, the service's peak memory.
Progress goes to stderr on a terminal.
`
const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h', default: false },
    version: { type: 'boolean', default: false },
    readings: { type: 'string', default: '50000' },
    gateways: { type: 'string', default: '50' },
    devices: { type: 'string', default: '5000' },
    batch: { type: 'string', default: '1' },
    window: { type: 'string', default: '64' },
    store: { type: 'string', default: 'sqlite' },
    // With --store influx: keep influxd down while publishing, then time the spool draining into it.
    'spool-drain': { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
if (values.version) {
  process.stdout.write(`${VERSION}\n`)
  process.exit(0)
}
const total = Number(values.readings)
const gateways = Number(values.gateways)
const devices = Number(values.devices)
const batch = Number(values.batch)
const window = Number(values.window)

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

const data = tempDir('printwarden-bench-')
// With --store influx, a real influxd (Debian's influxdb package) on free ports.
const influxd = values.store === 'influx' ? await startInfluxd() : undefined
const service = await startServiceProcess({
  dataDir: data.path,
  extra: influxd ? ['--store', 'influx', '--influx-url', `${influxd.url}/bench`] : [],
})
const pid = service.child.pid as number
const rssAtStart = memoryMiB(pid, 'VmHWM')
const start = Date.now() - 400 * 24 * HOUR
const perDevice = Math.ceil(total / devices)

/** The messages of one gateway: its devices' readings in time order, `batch` readings a message. */
function messagesOf(g: number): { topic: string; payload: string; count: number }[] {
  const out: { topic: string; payload: string; count: number }[] = []
  const mine = Array.from({ length: devices }, (_, d) => d).filter((d) => d % gateways === g)
  for (let i = 0; i < perDevice; i += batch) {
    for (const d of mine) {
      const readings = Array.from({ length: Math.min(batch, perDevice - i) }, (_, k) => {
        const n = i + k
        return {
          ts: start + n * 15 * 60_000,
          seq: n,
          toner: { black: 100 - (n % 90), cyan: 100 - ((n * 2) % 90) },
          counters: { total: n * 7 },
          status: 'ready',
        }
      })
      out.push({
        topic: `fleet/v1/site-${g}/BENCH-${d}/telemetry`,
        payload: JSON.stringify(batch === 1 ? readings[0] : readings),
        count: readings.length,
      })
    }
  }
  return out
}

async function runGateway(client: MqttClient, messages: ReturnType<typeof messagesOf>, latencies: number[]) {
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
const clients = await Promise.all(plans.map(() => connect(service.mqttUrl)))
const latencies: number[] = []
const messageCount = plans.reduce((n, p) => n + p.length, 0)
const progress = terminalProgress('publishing', 'messages')
if (influxd && values['spool-drain']) await influxd.kill()
const t0 = performance.now()
await Promise.all(clients.map((c, g) => runGateway(c, plans[g] ?? [], latencies)))
const acked = performance.now() - t0
progress.stop()
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
const peak = memoryMiB(pid, 'VmHWM')
await Promise.all(clients.map((c) => c.endAsync()))
await kill9(service)
await influxd?.remove()
data.remove()

latencies.sort((a, b) => a - b)
const report = {
  readings: readingsSent,
  messages: latencies.length,
  gateways,
  devices,
  batch,
  window,
  ackedPerSecond: Math.round(readingsSent / (acked / 1000)),
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
  serviceRssMiB: { atStart: Math.round(rssAtStart), peak: Math.round(peak) },
}
console.log(JSON.stringify(report, null, 2))
