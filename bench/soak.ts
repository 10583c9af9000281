/**
 * Soak run: the fleet simulator at --speed max against the real service on InfluxDB (a real influxd
 * in a temp dir), in event time, closed loop on, while the service is killed with kill -9 and
 * started again on the same data directory and ports, and influxd is killed and started again twice.
 * At the end it checks that nothing was lost or done twice, and compares the service's memory.
 *
 *   npm run bench:soak                                 # 10,000 printers, 24 simulated hours
 *   npm run bench:soak -- --printers 500 --hours 4     # the same plan, scaled down
 *
 * The plan is in simulated time, so that a run shorter than real hours still holds every fault:
 * with --kills K the service is killed every hours/(K+1) simulated hours; influxd is down from 2.5
 * to 3.5 of those steps (a kill of the service falls inside) and from 5.5 to 5.8. "An hour after a
 * start" is simulated time too: one simulated hour, or half a step when a step is shorter.
 */

import Database from 'better-sqlite3'
import type { ProgressState } from '../simulator/progress.ts'
import { run } from '../simulator/runner.ts'
import { InfluxStore } from '../src/store/influx/influx-store.ts'
import { HOUR } from '../test/helpers/fleet.ts'
import { startInfluxd } from '../test/helpers/influxd.ts'
import {
  freePort,
  getJson,
  kill9,
  memoryMiB,
  type ServiceProcess,
  startServiceProcess,
  stopGracefully,
  tempDir,
  waitFor,
} from '../test/helpers/service-process.ts'
import { benchFlags, loadFleetConfig } from './flags.ts'

const USAGE = `Soak run: the simulated fleet at --speed max against the service on a real influxd, in event
time, the service killed with kill -9 and restarted on its data directory, influxd killed twice.

  npm run bench:soak -- [--printers 10000] [--sites N] [--hours 24] [--kills 7] [--interval 15m]
                        [--seed 10000] [--window 32]

  --printers N   simulated printers (the load-10k scenario's fleet)
  --sites N      sites, one gateway each (printers / 20 by default)
  --hours H      simulated hours
  --kills K      kill -9 of the service, evenly spread: every H/(K+1) simulated hours
  --interval D   time between two readings of a printer
  --seed S       the simulator's seed
  --window N     messages each gateway keeps in flight
  --version      the version of printwarden
  --help         this text

Prints a JSON report and exits 1 when a check fails: readings acknowledged (PUBACK) = stored =
decided by the rules = in InfluxDB, no action twice for one type, device or site, subject and episode,
and the service's RSS an hour (simulated) after its last start within 10% of an hour after its first.
The simulator's progress goes to stderr, with a line for each fault.
`
const values = benchFlags(USAGE, {
  printers: { type: 'string', default: '10000' },
  sites: { type: 'string' },
  hours: { type: 'string', default: '24' },
  kills: { type: 'string', default: '7' },
  interval: { type: 'string', default: '15m' },
  seed: { type: 'string', default: '10000' },
  window: { type: 'string', default: '32' },
})
const printers = Number(values.printers)
const sites = values.sites ? Number(values.sites) : Math.max(1, Math.round(printers / 20))
const hours = Number(values.hours)
const kills = Number(values.kills)
for (const [name, n] of Object.entries({ printers, sites, hours, kills })) {
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`soak: --${name} takes a whole number of 1 or more\n`)
    process.exit(2)
  }
}
const say = (line: string) => process.stderr.write(`soak: ${line}\n`)

const step = (hours * HOUR) / (kills + 1)
const settleMs = Math.min(HOUR, step / 2)
const START = Date.parse('2026-03-02T00:00:00Z')

/** What happens at which simulated instant, in order. */
type Fault = 'kill-service' | 'kill-influxd' | 'start-influxd' | 'sample-first' | 'sample-last'
const plan: { at: number; what: Fault }[] = [
  { at: START + settleMs, what: 'sample-first' as const },
  ...Array.from({ length: kills }, (_, k) => ({ at: START + (k + 1) * step, what: 'kill-service' as const })),
  { at: START + 2.5 * step, what: 'kill-influxd' as const },
  { at: START + 3.5 * step, what: 'start-influxd' as const },
  { at: START + 5.5 * step, what: 'kill-influxd' as const },
  { at: START + 5.8 * step, what: 'start-influxd' as const },
].sort((a, b) => a.at - b.at)
if (kills < 6) say(`with --kills ${kills}, influxd goes down only where a step falls inside the run`)

const influxd = await startInfluxd()
const data = tempDir('printwarden-soak-')
// Fixed ports: the simulator's gateways reconnect to the same broker after each restart.
const [mqttPort, httpPort] = [await freePort(), await freePort()]
const database = 'soak'
const startService = () =>
  startServiceProcess({
    dataDir: data.path,
    portsFromEnv: true,
    extra: [
      ...['--mqtt-port', String(mqttPort), '--ws-port', 'off', '--http-port', String(httpPort)],
      ...['--store', 'influx', '--influx-url', `${influxd.url}/${database}`],
      ...['--clock', 'event', '--sweep-interval', '1h'],
    ],
  })
let service: ServiceProcess = await startService()
const api = `http://127.0.0.1:${httpPort}`

const restarts: { simHour: number; downSeconds: number }[] = []
const influxOutages: { fromSimHour: number; toSimHour?: number }[] = []
const rss: { afterFirstStart?: number; afterLastStart?: number } = {}
let lastStartAt = START
let spoolPeak = 0
const simHour = (at: number) => +((at - START) / HOUR).toFixed(2)

/** The faults run one after another, beside the simulation, which waits on its window meanwhile. */
let faults: Promise<void> = Promise.resolve()
const failed: { error?: Error } = {}
let next = 0
const observe = (s: ProgressState) => {
  while (next < plan.length && s.simNow >= (plan[next] as (typeof plan)[number]).at) {
    const { what } = plan[next++] as (typeof plan)[number]
    const at = s.simNow
    faults = faults
      .then(async () => {
        if (what === 'sample-first') rss.afterFirstStart = memoryMiB(service.child.pid as number, 'VmRSS')
        else if (what === 'sample-last') rss.afterLastStart = memoryMiB(service.child.pid as number, 'VmRSS')
        else if (what === 'kill-influxd') {
          say(`kill -9 influxd at simulated hour ${simHour(at)}`)
          influxOutages.push({ fromSimHour: simHour(at) })
          await influxd.kill()
        } else if (what === 'start-influxd') {
          await influxd.start()
          const outage = influxOutages[influxOutages.length - 1]
          if (outage) outage.toSimHour = simHour(at)
          say(`influxd back at simulated hour ${simHour(at)}`)
        } else {
          const spool = await getJson<{ spool?: { pending: number } }>(`${api}/health`).catch(() => null)
          spoolPeak = Math.max(spoolPeak, spool?.body.spool?.pending ?? 0)
          const t0 = performance.now()
          await kill9(service)
          service = await startService()
          lastStartAt = at
          restarts.push({ simHour: simHour(at), downSeconds: +((performance.now() - t0) / 1000).toFixed(1) })
          say(`kill -9 of the service at simulated hour ${simHour(at)}; started again`)
          // The last restart's memory is read an hour after it, in the same simulated time.
          if (restarts.length === kills) {
            plan.push({ at: at + settleMs, what: 'sample-last' })
            plan.sort((a, b) => a.at - b.at)
          }
        }
      })
      .catch((err: Error) => {
        failed.error ??= err
      })
  }
}

const t0 = performance.now()
const report = await run(
  {
    ...loadFleetConfig({
      broker: `mqtt://127.0.0.1:${mqttPort}`,
      api,
      lockstep: false,
      devices: String(printers),
      sites: String(sites),
      duration: `${hours}h`,
      start: new Date(START).toISOString(),
      interval: values.interval,
      seed: values.seed,
      window: values.window,
      clientPrefix: 'soak',
    }),
    observe,
  },
  say,
)
await faults
if (failed.error) throw failed.error

// Everything acknowledged is stored; now it must be decided and in InfluxDB.
await waitFor(
  async () => {
    const { body } = await getJson<{ status: string; spool?: { pending: number; influx: string } }>(
      `${api}/health`,
    )
    return body.spool?.pending === 0 && body.spool.influx === 'up' ? true : undefined
  },
  30 * 60_000,
  'the spool to drain into InfluxDB',
)
const wallSeconds = +((performance.now() - t0) / 1000).toFixed(1)
const stats = (
  await getJson<{ ingest: Record<string, unknown>; processing: { position: number; backlog: number } }>(
    `${api}/stats`,
  )
).body
const peakMiB = memoryMiB(service.child.pid as number, 'VmHWM')
const influx = new InfluxStore({ url: influxd.url, database })
const [points] = await influx.query('SELECT count("seq") FROM "reading"')
await stopGracefully(service)

const db = new Database(`${data.path}/printwarden.db`, { readonly: true })
const one = <T>(sql: string) => db.prepare(sql).pluck().get() as T
const ledger = {
  stored: one<number>('SELECT count(*) FROM readings'),
  lastPosition: one<number>('SELECT coalesce(max(position), 0) FROM readings'),
  decided: one<number>('SELECT position FROM journal WHERE id = 1'),
  forwarded: one<number>("SELECT coalesce(max(position), 0) FROM cursors WHERE name = 'influx:readings'"),
  actions: one<number>('SELECT count(*) FROM actions'),
  // The ledger's own promise, checked from outside its unique key: one action per type, device (or
  // site), subject and episode.
  duplicateActions: one<number>(`SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM actions
    GROUP BY type, coalesce(device_id, 'site:' || site_id), subject, episode HAVING n > 1)`),
}
db.close()
await influxd.remove()
data.remove()

const acknowledged = report.transport.acknowledgedReadings
const inInflux = Number(points?.count ?? 0)
const rssRatio =
  rss.afterFirstStart && rss.afterLastStart ? +(rss.afterLastStart / rss.afterFirstStart).toFixed(3) : null
const checks = {
  nothingLost:
    acknowledged === report.published.readings &&
    ledger.stored === acknowledged &&
    ledger.decided === ledger.stored &&
    ledger.lastPosition === ledger.stored &&
    inInflux === ledger.stored,
  noDuplicateAction: ledger.duplicateActions === 0 && report.kpis.orders.duplicates === 0,
  rssWithin10Percent: rssRatio !== null && Math.abs(rssRatio - 1) <= 0.1,
  noPublishError: report.transport.publishErrors === 0,
}
console.log(
  JSON.stringify(
    {
      fleet: { printers, sites, simulatedHours: hours, interval: values.interval, speed: 'max' },
      faults: { serviceKills: restarts, influxdOutages: influxOutages },
      readings: {
        published: report.published.readings,
        acknowledged,
        resentAfterTheirConnectionClosed: report.transport.resent,
        stored: ledger.stored,
        decided: ledger.decided,
        inInflux,
        forwardedUpTo: ledger.forwarded,
        duplicatesDroppedSinceLastStart: stats.ingest.duplicates,
        rejectedSinceLastStart: stats.ingest.rejectedTotal,
      },
      actions: {
        inLedger: ledger.actions,
        duplicateInLedger: ledger.duplicateActions,
        duplicateOrdersSeenBySimulator: report.kpis.orders.duplicates,
      },
      serviceRssMiB: {
        hour: `${settleMs / 60_000} simulated minutes after a start`,
        afterFirstStart: rss.afterFirstStart ?? null,
        afterLastStart: rss.afterLastStart ?? null,
        lastStartAtSimulatedHour: simHour(lastStartAt),
        ratio: rssRatio,
        peakOfLastProcess: peakMiB,
      },
      spoolPeakSeenAtKills: spoolPeak,
      wallSeconds,
      simulatorRate: report.rate,
      checks,
    },
    null,
    2,
  ),
)
process.exit(Object.values(checks).every(Boolean) ? 0 : 1)
