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

export const DEVICE_INSTANCES: Partial<Record<SubjectKind, DeviceInstances>> = {
  toner: tonerInstances,
  wasteBox: wasteBoxInstances,
  error: errorInstances,
  recurrence: recurrenceInstances,
  billing: billingInstances,
  silence: silenceInstances,
}

const DEVICE_EPISODES: readonly DeviceEpisodes[] = [
  tonerEpisodes,
  wasteBoxEpisodes,
  errorEpisodes,
  recurrenceEpisodes,
  silenceEpisodes,
  billingEpisodes,
]

/** The episode each subject of a device is in now. A subject with no current episode is absent. */
export function currentEpisodes(
  state: DeviceState,
  now: number,
  /** The site's zone: billing months are in it. */
  zone?: string,
): Map<string, string> {
  const episodes = new Map<string, string>()
  for (const of of DEVICE_EPISODES)
    for (const [key, episode] of of(state, now, zone)) episodes.set(key, episode)
  return episodes
}
