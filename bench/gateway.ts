/**
 * Benchmark of one site gateway: N simulated SNMP printers (net-snmp agents on their own loopback
 * addresses, in this process), one gateway (`npm run gateway`, a child process) polling them at the
 * interval, and the real service as its broker. It runs for a number of whole intervals and says
 * whether the gateway kept up (every printer read once per interval, no poll skipped because the
 * one before was still running), with the gateway's CPU time and peak memory (from /proc).
 *
 *   npx tsx bench/gateway.ts                         # 1,000 printers, a 5-minute interval, 1 interval
 *   npx tsx bench/gateway.ts --printers 200 --interval 30s --intervals 2
 *   npx tsx bench/gateway.ts --help
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { loadProfiles } from '../gateway/profiles.ts'
import { loadModels } from '../simulator/models.ts'
import { faceOf, printerAddress, profileOf, SnmpPrinters } from '../simulator/snmp-agents.ts'
import { parseDuration } from '../src/config/options.ts'
import { kill9, memoryMiB, ROOT, startServiceProcess, tempDir } from '../test/helpers/service-process.ts'

const HELP = `bench/gateway.ts: one gateway polling simulated SNMP printers.

  --printers N      simulated printers, each on its own 127.0.x.y address [1000]
  --interval D      the gateway's --interval (5m, 30s, ...) [5m]
  --intervals K     how many whole intervals to run [1]
  --concurrency C   the gateway's --concurrency [32]
  --port P          the UDP port every simulated printer answers on [16161]
  --help            this text
`

const { values } = parseArgs({
  options: {
    printers: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '5m' },
    intervals: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '32' },
    port: { type: 'string', default: '16161' },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  process.stdout.write(HELP)
  process.exit(0)
}
const n = Number(values.printers)
const intervalMs = parseDuration(values.interval) ?? Number.NaN
const intervals = Number(values.intervals)
if (!Number.isInteger(n) || n < 1 || !Number.isFinite(intervalMs) || !Number.isInteger(intervals)) {
  process.stderr.write(HELP)
  process.exit(2)
}

/** A process's CPU time (user + system) in seconds, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const models = [...loadModels().values()]
const profiles = loadProfiles()
const dir = tempDir('printwarden-bench-gw-')
const port = Number(values.port)
const agents = new SnmpPrinters(port)
const printers = Array.from({ length: n }, (_, i) => ({
  deviceId: `BENCH-${String(i + 1).padStart(5, '0')}`,
  address: printerAddress(i),
  model: models[i % models.length] as (typeof models)[number],
}))
await agents.start(printers)
for (const [i, p] of printers.entries()) {
  const toner = Object.fromEntries(
    Object.keys(p.model.cartridgeYield).map((c, k) => [c, 30 + ((i + k * 17) % 70)]),
  )
  agents.set(
    p.deviceId,
    faceOf(p.model, profileOf(profiles, p.model), { serial: `SN${i}`, location: 'bench' }, p.deviceId, {
      ts: '2026-01-05T00:00:00Z',
      toner,
      wasteBox: p.model.wasteBoxReport === 'percent' ? 40 : 'ok',
      counters: { total: 10_000 + i, mono: 8000 + i, color: 2000 },
      status: 'ready',
      errors: [],
    }),
  )
}
const file = join(dir.path, 'printers.json')
writeFileSync(file, JSON.stringify(printers.map((p) => ({ deviceId: p.deviceId, host: p.address, port }))))

const service = await startServiceProcess({ dataDir: dir.path })
let gateway: ChildProcess | null = null
try {
  const stats: Record<string, unknown>[] = []
  let running = false
  gateway = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'gateway/cli.ts'),
      '--broker',
      service.mqttUrl,
      '--site',
      'bench',
      '--id',
      'gw-bench',
      '--printers',
      file,
      '--interval',
      values.interval,
      '--concurrency',
      values.concurrency,
      '--buffer-dir',
      join(dir.path, 'gateway'),
      '--log-level',
      'info',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  createInterface({ input: gateway.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; stats?: Record<string, unknown> }
      if (entry.msg === 'printwarden gateway is running') running = true
      if (entry.msg === 'gateway stats' && entry.stats) stats.push(entry.stats)
    } catch {
      // not a log line
    }
  })
  const pid = gateway.pid as number
  // Measured from the moment it runs: its start (tsx compiling) is not polling.
  while (!running) await new Promise((r) => setTimeout(r, 100))
  const cpu0 = cpuSeconds(pid)
  const t0 = performance.now()
  // The gateway logs its stats once per interval: wait for `intervals` of them.
  while (stats.length < intervals) await new Promise((r) => setTimeout(r, 500))
  const wall = (performance.now() - t0) / 1000
  const cpu = cpuSeconds(pid) - cpu0
  const last = stats[stats.length - 1] as {
    polls: number
    silent: number
    overran: number
    maxQueueMs: number
    published: { readings: number }
    pending: number
  }
  const report = {
    printers: n,
    interval: values.interval,
    intervals,
    polls: last.polls,
    expectedPolls: n * intervals,
    silent: last.silent,
    skippedOverran: last.overran,
    maxQueueMs: last.maxQueueMs,
    published: last.published.readings,
    pending: last.pending,
    keptUp: last.polls >= n * intervals && last.overran === 0 && last.silent === 0,
    gatewayCpuSeconds: Number(cpu.toFixed(1)),
    gatewayCpuPercentOfOneCore: Number(((cpu / wall) * 100).toFixed(1)),
    gatewayPeakMemoryMiB: memoryMiB(pid, 'VmHWM'),
    wallSeconds: Number(wall.toFixed(1)),
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
} finally {
  gateway?.kill('SIGKILL')
  await kill9(service)
  await agents.stop()
  dir.remove()
}
