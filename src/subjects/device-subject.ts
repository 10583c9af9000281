/** What the builder of a device subject's instances is given: one device at one instant. */
import type { DeviceState } from '../domain/device-state.ts'
import type { DeviceInfo, deviceFact, OpenAction, SubjectInstance } from '../rules/facts.ts'

export interface DeviceMoment {
  state: DeviceState
  info: DeviceInfo
  /** The instant of evaluation: the reading's time, or the sweep instant. */
  at: number
  /** The device's actions not resolved yet: rules can follow up on their own actions. */
  open: readonly OpenAction[]
  /** The `device` fact at `at`, built once for all the device's subjects. */
  device: ReturnType<typeof deviceFact>
}

/** The instances of one device subject, with their facts: none where it has no current episode. */
export type DeviceInstances = (moment: DeviceMoment) => SubjectInstance[]

/** The episode each instance of a device subject is in at `now`: (subject key, episode) pairs. */
export type DeviceEpisodes = (
  state: DeviceState,
  now: number,
  /** The site's zone: billing months are in it. */
  zone: string | undefined,
) => Iterable<readonly [string, string]>

/** What a deadline is read from of a loaded rule: its subject and its conditions. */
export interface RuleConditions {
  subject: string
  conditions: unknown
}

/**
 * When a subject woken by deadlines next needs a look at one device. `plan` is read from the
 * subject's loaded rules once per load: the thresholds they compare with, or null when one cannot
 * be read as numbers (the subject is then looked at every sweep instant). `next` is the first
 * instant after `at` at which those rules may decide otherwise for this device; it errs early,
 * never late (an early look finds nothing new, a late one would decide otherwise).
 */
export interface DeviceDeadline {
  plan(rules: readonly RuleConditions[]): number[] | null
  next(state: DeviceState, zone: string | undefined, plan: readonly number[], at: number): number
}

/**
 * When the subject's current episodes (which a sweep's commit resolves actions by) change with the
 * clock alone, after `now`: a run of recurrences ends, a billing month ends.
 */
export type EpisodesChange = (state: DeviceState, zone: string | undefined, now: number) => number

/** What a device subject does, beside its declaration in registry.ts. */
export interface DeviceSubject {
  instances: DeviceInstances
  episodes: DeviceEpisodes
  /** A subject woken by deadlines says when. */
  deadline?: DeviceDeadline
  episodesChange?: EpisodesChange
}

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
