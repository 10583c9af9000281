/**
 * What each device subject does, by kind, one file each beside its declaration: build its instances
 * with their facts, say which episodes are current (the ledger resolves actions by them), and, for
 * one woken by deadlines, when it next needs a look.
 */
import type { DeviceState } from '../domain/device-state.ts'
import { type DeviceInfo, deviceFact, type OpenAction, type SubjectInstance } from '../rules/facts.ts'
import { billingDeadline, billingEpisodes, billingEpisodesChange, billingInstances } from './billing.ts'
import type { DeviceDeadline, DeviceSubject } from './device-subject.ts'
import { errorEpisodes, errorInstances } from './error.ts'
import { recurrenceEpisodes, recurrenceEpisodesChange, recurrenceInstances } from './recurrence.ts'
import { type SubjectKind, subjectsWoken } from './registry.ts'
import { silenceDeadline, silenceEpisodes, silenceInstances } from './silence.ts'
import { tonerEpisodes, tonerInstances } from './toner.ts'
import { wasteBoxEpisodes, wasteBoxInstances } from './waste-box.ts'

/** Each device subject's two functions; a site's subjects are gathered by the sweeps. */
export const DEVICE_SUBJECTS: Partial<Record<SubjectKind, DeviceSubject>> = {
  toner: { instances: tonerInstances, episodes: tonerEpisodes },
  wasteBox: { instances: wasteBoxInstances, episodes: wasteBoxEpisodes },
  error: { instances: errorInstances, episodes: errorEpisodes },
  recurrence: {
    instances: recurrenceInstances,
    episodes: recurrenceEpisodes,
    episodesChange: recurrenceEpisodesChange,
  },
  silence: { instances: silenceInstances, episodes: silenceEpisodes, deadline: silenceDeadline },
  billing: {
    instances: billingInstances,
    episodes: billingEpisodes,
    deadline: billingDeadline,
    episodesChange: billingEpisodesChange,
  },
}

const ALL = Object.values(DEVICE_SUBJECTS)

/** The device subjects woken by deadlines, each with its deadline. */
export const DEVICE_DEADLINES: readonly (readonly [SubjectKind, DeviceDeadline])[] = subjectsWoken(
  'device',
  'deadline',
).map((kind) => {
  const deadline = DEVICE_SUBJECTS[kind]?.deadline
  if (!deadline) throw new Error(`the device subject ${kind} is woken by deadlines and says none`)
  return [kind, deadline] as const
})

/**
 * When the device's current episodes next change with the clock alone, after `now` (in the
 * clock's time, which in event time lags the sweep instants).
 */
export function episodesChangeAt(state: DeviceState, zone: string | undefined, now: number): number {
  let next = Number.POSITIVE_INFINITY
  for (const subject of ALL)
    if (subject.episodesChange) next = Math.min(next, subject.episodesChange(state, zone, now))
  return next
}

/** The episode each subject of a device is in now. A subject with no current episode is absent. */
export function currentEpisodes(
  state: DeviceState,
  now: number,
  /** The site's zone: billing months are in it. */
  zone?: string,
): Map<string, string> {
  const current = new Map<string, string>()
  for (const subject of ALL)
    for (const [key, episode] of subject.episodes(state, now, zone)) current.set(key, episode)
  return current
}

/**
 * The subjects of one kind of a device, with their facts at instant `at` (the reading's time when
 * a reading is processed, the clock's time in a sweep: the same readings always give the same facts).
 */
export function subjectsOf(
  kind: SubjectKind,
  state: DeviceState,
  info: DeviceInfo,
  at: number,
  open: readonly OpenAction[] = [],
  /** The `device` fact, when the caller built it already for another kind. */
  device: ReturnType<typeof deviceFact> = deviceFact(state, info, at),
): SubjectInstance[] {
  const subject = DEVICE_SUBJECTS[kind]
  return subject ? subject.instances({ state, info, at, open, device }) : []
}
