/** Each active error code: one episode per stretch of it being active. */
import { subjectKey } from '../domain/device-state.ts'
import { type DeviceInstances, HOUR } from './device-subject.ts'

export const errorInstances: DeviceInstances = ({ state, at, device }) =>
  Object.values(state.errors).map((e) => ({
    kind: 'error',
    key: subjectKey('error', e.code),
    episode: `e${e.since}`,
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
