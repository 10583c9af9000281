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

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
