/** Each error code that became active in the last 7 days: one episode per run of recurrences. */
import { RECURRENCE_WINDOW_MS, recurrenceEpisode, subjectKey } from '../domain/device-state.ts'
import type { SubjectInstance } from '../rules/facts.ts'
import type { DeviceEpisodes, DeviceInstances, EpisodesChange } from './device-subject.ts'

export const recurrenceEpisodes: DeviceEpisodes = (state, now) => {
  const out: [string, string][] = []
  for (const [code, r] of Object.entries(state.recurrences ?? {})) {
    const episode = recurrenceEpisode(r, now)
    if (episode !== null) out.push([subjectKey('recurrence', code), episode])
  }
  return out
}

export const recurrenceInstances: DeviceInstances = ({ state, at, device }) => {
  const out: SubjectInstance[] = []
  for (const [code, r] of Object.entries(state.recurrences ?? {})) {
    const episode = recurrenceEpisode(r, at)
    if (episode === null) continue
    const recent = r.starts.filter((t) => at - t <= RECURRENCE_WINDOW_MS)
    const first = recent[0] ?? r.runStart
    const last = recent[recent.length - 1] ?? r.runStart
    out.push({
      kind: 'recurrence',
      key: subjectKey('recurrence', code),
      episode,
      facts: {
        device,
        recurrence: {
          code,
          severity: r.severity,
          timesInLast7Days: recent.length,
          activeNow: Object.hasOwn(state.errors, code),
          firstAt: new Date(first).toISOString(),
          lastAt: new Date(last).toISOString(),
        },
      },
      details: { code, severity: r.severity, times: recent.length, since: new Date(first).toISOString() },
    })
  }
  return out
}

/** A run of recurrences ends a window after its last start. */
export const recurrenceEpisodesChange: EpisodesChange = (state, _zone, now) => {
  let next = Number.POSITIVE_INFINITY
  for (const r of Object.values(state.recurrences ?? {})) {
    const last = r.starts[r.starts.length - 1]
    if (last !== undefined && last + RECURRENCE_WINDOW_MS + 1 > now)
      next = Math.min(next, last + RECURRENCE_WINDOW_MS + 1)
  }
  return next
}
