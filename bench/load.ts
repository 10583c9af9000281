/**
 * Load run of the fleet simulator: the load-test scenario (10,000 printers on 500 site gateways) at
 * --speed max against the real service as a child process, in event time, with the closed loop on.
 * Prints the rate, the publish-to-action latency, the KPIs and the service's peak memory.
 *
 *   npx tsx bench/load.ts                      # 10,000 devices, 500 gateways, 1 simulated day
 *   npx tsx bench/load.ts --duration 2d --lockstep
 *
 * Without --lockstep the simulator never waits for the service (the load a fleet puts on it); the
 * API is still used at the end to count the service's actions in the KPIs.
 */

import { run } from '../simulator/runner.ts'
import { kill9, memoryMiB, startServiceProcess, tempDir } from '../test/helpers/service-process.ts'
import { benchFlags, loadFleetConfig } from './flags.ts'

const USAGE = `Load run of the fleet simulator against the real service, in event time, closed loop on.

  npx tsx bench/load.ts [--devices 10000] [--sites 500] [--duration 1d] [--interval 15m]
                        [--seed 10000] [--window 32] [--lockstep]

  --lockstep   the simulator waits for the service's processing each step (reproducible);
               without it, it never waits (the load a fleet puts on the service)
  --version    the version of printwarden
  --help       this text

Progress goes to stderr on a terminal (the simulator's own bar).
`
const values = benchFlags(USAGE, {
  devices: { type: 'string', default: '10000' },
  sites: { type: 'string', default: '500' },
  duration: { type: 'string', default: '1d' },
  interval: { type: 'string', default: '15m' },
  seed: { type: 'string', default: '10000' },
  window: { type: 'string', default: '32' },
  lockstep: { type: 'boolean', default: false },
})
const data = tempDir('printwarden-load-')
const service = await startServiceProcess({
  dataDir: data.path,
  extra: ['--clock', 'event', '--sweep-interval', '1h'],
})
const pid = service.child.pid as number
const atStart = memoryMiB(pid, 'VmRSS')
try {
  const cfg = loadFleetConfig({
    broker: service.mqttUrl,
    api: service.http,
    lockstep: values.lockstep,
    devices: values.devices,
    sites: values.sites,
    duration: values.duration,
    interval: values.interval,
    seed: values.seed,
    window: values.window,
    clientPrefix: 'load',
  })
  const report = await run(cfg, (line) => process.stderr.write(`${line}\n`))
  const k = report.kpis
  console.log(
    JSON.stringify(
      {
        fleet: {
          devices: report.run.devices,
          gateways: report.run.sites,
          simulated: `${report.run.start} → ${report.run.end}`,
          interval: report.run.interval,
        },
        mode: { speed: report.run.speed, closedLoop: report.run.closedLoop, lockstep: report.run.lockstep },
        published: report.published,
        rate: report.rate,
        latencyMs: report.latencyMs,
        serviceBacklog: report.serviceBacklog,
        actions: k.actions,
        kpis: {
          stockoutHours: k.stockout.hours,
          duplicateOrders: k.orders.duplicates,
          effectsDueBeforeTheirAction: k.orders.lateEffects,
          silences: {
            injected: k.silences.injected,
            detectable: k.silences.detectable,
            detected: k.silences.detected,
          },
          faults: { injected: k.faults.injected, reported: k.faults.reported, ticketed: k.faults.ticketed },
          outages: k.incidents.outages,
        },
        serviceMemoryMiB: { atStart, peak: memoryMiB(pid, 'VmHWM') },
        simulatorMemoryMiB: { peak: memoryMiB(process.pid, 'VmHWM') },
        publishErrors: report.transport.publishErrors,
      },
      null,
      2,
    ),
  )
} finally {
  await kill9(service)
  data.remove()
}
