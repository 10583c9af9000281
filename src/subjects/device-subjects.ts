/**
 * What each device subject does, by kind, one file each beside its declaration: build its instances
 * with their facts, and say which episodes are current (the ledger resolves actions by them).
 */
import type { DeviceState } from '../domain/device-state.ts'
import { billingEpisodes, billingInstances } from './billing.ts'
import type { DeviceEpisodes, DeviceInstances } from './device-subject.ts'
import { errorEpisodes, errorInstances } from './error.ts'
import { recurrenceEpisodes, recurrenceInstances } from './recurrence.ts'
import type { SubjectKind } from './registry.ts'
import { silenceEpisodes, silenceInstances } from './silence.ts'
import { tonerEpisodes, tonerInstances } from './toner.ts'
import { wasteBoxEpisodes, wasteBoxInstances } from './waste-box.ts'

/** Each device subject's two functions; a site's subjects are gathered by the sweeps. */
export const DEVICE_SUBJECTS: Partial<
  Record<SubjectKind, { instances: DeviceInstances; episodes: DeviceEpisodes }>
> = {
  toner: { instances: tonerInstances, episodes: tonerEpisodes },
  wasteBox: { instances: wasteBoxInstances, episodes: wasteBoxEpisodes },
  error: { instances: errorInstances, episodes: errorEpisodes },
  recurrence: { instances: recurrenceInstances, episodes: recurrenceEpisodes },
  silence: { instances: silenceInstances, episodes: silenceEpisodes },
  billing: { instances: billingInstances, episodes: billingEpisodes },
}

const ALL = Object.values(DEVICE_SUBJECTS)

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
