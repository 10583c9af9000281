/** A device that owes a meter reading for a billing period (a month in the site's zone). */
import { missingMeterPeriod } from '../domain/billing.ts'
import { subjectKey } from '../domain/device-state.ts'
import type { DeviceEpisodes, DeviceInstances } from './device-subject.ts'

export const billingEpisodes: DeviceEpisodes = (state, now, zone) => {
  const owed = missingMeterPeriod(state.lastCounterTs, state.firstTs, now, zone)
  return owed ? [[subjectKey('billing'), `m${owed.id}`]] : []
}

export const billingInstances: DeviceInstances = ({ state, info, at, device }) => {
  const owed = missingMeterPeriod(state.lastCounterTs, state.firstTs, at, info.calendar?.zone)
  if (!owed) return []
  return [
    {
      kind: 'billing',
      key: subjectKey('billing'),
      episode: `m${owed.id}`,
      facts: {
        device,
        billing: {
          period: owed.id,
          periodStart: new Date(owed.start).toISOString(),
          periodEnd: new Date(owed.end).toISOString(),
          owesMeterReading: true,
        },
      },
      details: {
        period: owed.id,
        lastCounters: state.counters ?? null,
        lastCountersAt:
          state.lastCounterTs === undefined ? null : new Date(state.lastCounterTs).toISOString(),
      },
    },
  ]
}
