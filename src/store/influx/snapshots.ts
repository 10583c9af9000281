/**
 * A snapshot of the fleet for the dashboards, written to InfluxDB at an interval: devices reporting,
 * devices silent, actions not resolved.
 */
import type { Logger } from 'pino'
import type { Clock } from '../../clock.ts'
import type { Component } from '../../lifecycle.ts'
import type { Store } from '../store.ts'
import type { InfluxStore } from './influx-store.ts'
import { fleetPoint } from './schema.ts'

const HOUR = 3_600_000
/** Silent for more than 5 days: the threshold the providers chase a device at. */
const SILENT = 120 * HOUR

export function fleetSnapshots(o: {
  influx: InfluxStore
  store: Pick<Store, 'unresolvedCounts'>
  clock: Clock
  counts: (
    now: number,
    recentMs: number,
    silentMs: number,
  ) => { devices: number; reporting: number; silent: number }
  intervalMs: number
  log: Logger
}): Component {
  let timer: NodeJS.Timeout | undefined
  const snapshot = () => {
    const now = o.clock.now()
    const counts = o.counts(now, HOUR, SILENT)
    o.store
      .unresolvedCounts()
      .then((unresolved) =>
        o.influx.write([
          fleetPoint(
            {
              devices: counts.devices,
              reportingLastHour: counts.reporting,
              silentOver5Days: counts.silent,
              unresolved,
            },
            now,
          ),
        ]),
      )
      .catch((err: unknown) => o.log.debug({ err }, 'no fleet snapshot this time'))
  }
  return {
    start() {
      timer = setInterval(snapshot, o.intervalMs)
    },
    stop() {
      clearInterval(timer)
    },
  }
}
