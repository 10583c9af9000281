/** A device that owes a meter reading for a billing period (a month in the site's zone). */
import { missingMeterPeriod } from '../domain/billing.ts'
import { subjectKey } from '../domain/device-state.ts'
import { monthOf } from '../domain/periods.ts'
import type { DeviceDeadline, DeviceEpisodes, DeviceInstances, EpisodesChange } from './device-subject.ts'
import { nextCrossing, thresholdsOf } from './thresholds.ts'

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

/**
 * A billing rule decides otherwise when a month ends (a new period may be owed) or the hours since
 * the last reading cross one of its thresholds.
 */
export const billingDeadline: DeviceDeadline = {
  plan: (rules) => thresholdsOf(rules, ['billing'], 'device', 'hoursSinceLastReading'),
  next: (state, zone, hours, at) => Math.min(nextCrossing(state.lastTs, hours, at), monthOf(at, zone).end),
}

/** The period owed changes when the month ends, in the site's zone. */
export const billingEpisodesChange: EpisodesChange = (_state, zone, now) => monthOf(now, zone).end
