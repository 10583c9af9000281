/** Each device, for the time since its last reading: one episode per silence. */
import { silenceEpisode, subjectKey } from '../domain/device-state.ts'
import type { DeviceDeadline, DeviceEpisodes, DeviceInstances } from './device-subject.ts'
import { nextCrossing, thresholdsOf } from './thresholds.ts'

export const silenceEpisodes: DeviceEpisodes = (state) => [[subjectKey('silence'), silenceEpisode(state)]]

export const silenceInstances: DeviceInstances = ({ state, info, device }) => [
  {
    kind: 'silence',
    key: subjectKey('silence'),
    episode: silenceEpisode(state),
    facts: { device },
    details: {
      lastReadingAt: device.lastReadingAt,
      hoursSinceLastReading: Math.round(device.hoursSinceLastReading * 10) / 10,
      // Not the device's silence alone: the gateway that speaks for it is offline.
      ...(info.gatewayOffline
        ? {
            gatewayOffline: {
              gatewayId: info.gatewayOffline.gatewayId,
              since: new Date(info.gatewayOffline.since).toISOString(),
            },
          }
        : {}),
    },
  },
]

/** A silence rule decides otherwise when the hours since the last reading cross one of its thresholds. */
export const silenceDeadline: DeviceDeadline = {
  plan: (rules) => thresholdsOf(rules, ['silence'], 'device', 'hoursSinceLastReading'),
  next: (state, _zone, hours, at) => nextCrossing(state.lastTs, hours, at),
}
