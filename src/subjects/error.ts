/** Each active error code: one episode per stretch of it being active. */

import type { ErrorState } from '../domain/device-state.ts'
import { subjectKey } from '../domain/device-state.ts'
import { type DeviceEpisodes, type DeviceInstances, HOUR } from './device-subject.ts'

const episodeOf = (e: ErrorState) => `e${e.since}`

export const errorEpisodes: DeviceEpisodes = (state) =>
  Object.values(state.errors).map((e) => [subjectKey('error', e.code), episodeOf(e)] as const)

export const errorInstances: DeviceInstances = ({ state, at, device }) =>
  Object.values(state.errors).map((e) => ({
    kind: 'error',
    key: subjectKey('error', e.code),
    episode: episodeOf(e),
    facts: {
      device,
      error: {
        code: e.code,
        severity: e.severity,
        text: e.text ?? null,
        activeForHours: Math.max(0, at - e.since) / HOUR,
      },
    },
    details:
      e.text === undefined
        ? { code: e.code, severity: e.severity }
        : { code: e.code, severity: e.severity, text: e.text },
  }))
