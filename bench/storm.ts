/**
 * The attackers of bench/access.ts, in a process of their own so that they do not share the
 * measuring process's event loop:
 *   storm.ts flood HOST PORT N   N connection attempts, 500 at a time; prints how long they took
 *   storm.ts password HOST PORT  CONNECTs with a bad token, 20 at a time, until SIGTERM
 */
import { createConnection } from 'node:net'

const USAGE = `bench/storm.ts: the attackers of bench/access.ts, run by it in a process of their own.

  npx tsx bench/storm.ts flood HOST PORT N   N connection attempts, 500 at a time; prints how long they took
  npx tsx bench/storm.ts password HOST PORT  CONNECTs with a bad token, 20 at a time, until SIGTERM
  --help                                     this text
`
const [mode, host = '127.0.0.1', portText = '1883', countText = '10000'] = process.argv.slice(2)
if (mode !== 'flood' && mode !== 'password') {
  process.stdout.write(USAGE)
  process.exit(mode === '--help' || mode === '-h' ? 0 : 2)
}
const port = Number(portText)

const str = (v: string) => {
  const b = Buffer.from(v)
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b])
}
const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(''), str('gw3'), str('wrong')])
const badConnect = Buffer.concat([Buffer.from([0x10, body.length]), body])

/** One connection: resolves when the service closes it (or answers, for a CONNECT). */
const attempt = (payload?: Buffer) =>
  new Promise<void>((resolve) => {
    const s = createConnection(port, host)
    s.on('error', () => resolve())
    s.once('close', () => resolve())
    if (payload) {
      s.write(payload)
      s.once('data', () => s.destroy())
    }
  })

if (mode === 'flood') {
  const total = Number(countText)
  const start = performance.now()
  for (let done = 0; done < total; ) {
    const wave = Math.min(500, total - done)
    await Promise.all(Array.from({ length: wave }, () => attempt()))
    done += wave
  }
  console.log(JSON.stringify({ attempts: total, ms: Math.round(performance.now() - start) }))
} else {
  let attempts = 0
  let running = true
  process.once('SIGTERM', () => {
    running = false
  })
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (running) {
        attempts++
        await attempt(badConnect)
      }
    }),
  )
  console.log(JSON.stringify({ attempts }))
}
