/**
 * `npx tsx bench/access.ts [--help]`: the attacks of issue 9 against the real service (a child
 * process, with accounts), and what they cost it:
 *  1. four sockets each announcing a 250 MiB packet: the rise of the service's peak RSS;
 *  2. 10,000 connection attempts beyond --max-connections: the slowest GET /health meanwhile;
 *  3. a wrong-password storm from one address: other gateways' PUBACK times, before and during.
 * Prints one JSON object. Timing belongs here, never in the tests.
 */
import { spawn } from 'node:child_process'
import { createConnection, type Socket } from 'node:net'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { AccountBook } from '../src/access/accounts.ts'
import { memoryMiB, startServiceProcess, stopGracefully, tempDir } from '../test/helpers/service-process.ts'

if (process.argv.includes('--help')) {
  console.log(`usage: npx tsx bench/access.ts [--attempts N] [--max-connections N]

Starts printwarden (with an admin and gateway accounts) and measures:
  oversized    peak RSS rise while 4 sockets each announce a 250 MiB packet and send its body
  connections  the slowest GET /health while N (10000) connection attempts go beyond --max-connections (100)
  storm        gateways' mean PUBACK time before and during a wrong-password storm from one address

  --attempts N         connection attempts beyond the limit [10000]
  --max-connections N  the service's --max-connections [100]
  --help               this text`)
  process.exit(0)
}
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const ATTEMPTS = arg('attempts', 10_000)
const MAX_CONNECTIONS = arg('max-connections', 100)

const data = tempDir()
const book = new AccountBook(data.path)
const tokens: Record<string, string> = {}
tokens.admin = (await book.add({ name: 'admin', role: 'admin' })).token
for (const g of ['gw1', 'gw2', 'gw3'])
  tokens[g] = (await book.add({ name: g, role: 'gateway', sites: [`site-${g}`] })).token
const service = await startServiceProcess({
  dataDir: data.path,
  extra: ['--max-connections', String(MAX_CONNECTIONS)],
})
const pid = service.child.pid as number
const [, portText] = service.mqttUrl.split(/:(?=\d+$)/)
const port = Number(portText)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** An attacker in a process of its own (bench/storm.ts); resolves with the JSON it prints. */
function runAttacker(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'storm.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const done = new Promise<unknown>((resolve) => child.once('exit', () => resolve(JSON.parse(out || '{}'))))
  return { child, done }
}

function header(type: number, remaining: number): Buffer {
  const bytes = [type]
  let n = remaining
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    bytes.push(byte)
  } while (n > 0)
  return Buffer.from(bytes)
}

// 1. Oversized packets: each socket announces 250 MiB, then sends as much of the body as it can.
await sleep(1000)
const rssBefore = memoryMiB(pid, 'VmRSS')
const peakBefore = memoryMiB(pid, 'VmHWM')
const chunk = Buffer.alloc(1024 * 1024, 0x41)
let sentMiB = 0
await Promise.all(
  Array.from(
    { length: 4 },
    () =>
      new Promise<void>((resolve) => {
        const socket = createConnection(port, '127.0.0.1')
        let open = true
        socket.on('error', () => {})
        socket.once('close', () => {
          open = false
          resolve()
        })
        socket.write(header(0x30, 250 * 1024 * 1024))
        const pump = () => {
          while (open && sentMiB < 1000 && socket.write(chunk)) sentMiB++
          if (open) socket.once('drain', pump)
        }
        pump()
      }),
  ),
)
await sleep(500)
const oversized = {
  rssBeforeMiB: rssBefore,
  peakBeforeMiB: peakBefore,
  peakAfterMiB: memoryMiB(pid, 'VmHWM'),
  peakRiseMiB: memoryMiB(pid, 'VmHWM') - peakBefore,
  bodyMiBWrittenBeforeClose: sentMiB,
}

// 2. Connections beyond the limit, while /health is timed.
const held: Socket[] = []
for (let i = 0; i < MAX_CONNECTIONS; i++) {
  const s = createConnection(port, '127.0.0.1')
  s.on('error', () => {})
  held.push(s)
}
await sleep(500)
const healthTimes: number[] = []
let attacking = true
const prober = (async () => {
  while (attacking) {
    const t = performance.now()
    await fetch(`${service.http}/health`).then((r) => r.arrayBuffer())
    healthTimes.push(performance.now() - t)
    await sleep(10)
  }
})()
const attacker = runAttacker(['flood', '127.0.0.1', String(port), String(ATTEMPTS)])
const flood = (await attacker.done) as { attempts: number; ms: number }
const attackMs = flood.ms
attacking = false
await prober
for (const s of held) s.destroy()
healthTimes.sort((a, b) => a - b)
const connections = {
  attempts: ATTEMPTS,
  attackMs: Math.round(attackMs),
  healthProbes: healthTimes.length,
  healthMaxMs: Math.round(healthTimes.at(-1) ?? Number.NaN),
  healthP99Ms: Math.round(healthTimes[Math.floor(healthTimes.length * 0.99)] ?? Number.NaN),
}
await sleep(1000)

// 3. A wrong-password storm from one address, against two gateways publishing at QoS 1.
const gateways = await Promise.all(
  ['gw1', 'gw2'].map((g) =>
    mqtt.connectAsync(service.mqttUrl, { username: g, password: tokens[g] as string, reconnectPeriod: 0 }),
  ),
)
const reading = JSON.stringify({ ts: '2026-11-20T08:00:00Z', toner: { black: 50 } })
async function pubackMs(n: number): Promise<number> {
  let total = 0
  for (let i = 0; i < n; i++) {
    await Promise.all(
      gateways.map(async (c, k) => {
        const t = performance.now()
        await c.publishAsync(`fleet/v1/site-gw${k + 1}/D-${k}-${i % 50}/telemetry`, reading, { qos: 1 })
        total += performance.now() - t
      }),
    )
  }
  return total / (n * gateways.length)
}
const before = await pubackMs(200)
const storm = runAttacker(['password', '127.0.0.1', String(port)])
await sleep(500)
const during = await pubackMs(200)
storm.child.kill('SIGTERM')
const stormAttempts = ((await storm.done) as { attempts: number }).attempts
for (const c of gateways) await c.endAsync()
const stormResult = {
  pubackMeanMsBefore: Number(before.toFixed(2)),
  pubackMeanMsDuring: Number(during.toFixed(2)),
  ratio: Number((during / before).toFixed(2)),
  wrongPasswordAttempts: stormAttempts,
}

const stats = (await (
  await fetch(`${service.http}/stats`, { headers: { authorization: `Bearer ${tokens.admin}` } })
).json()) as {
  access: unknown
}
await stopGracefully(service)
data.remove()
console.log(JSON.stringify({ oversized, connections, storm: stormResult, refused: stats.access }, null, 2))
