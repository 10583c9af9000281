/**
 * How the sweeps gather a site subject: one class each (gateway-sweep.ts, stock-sweep.ts), in the
 * table of site-sweeps.ts. The sweeps loop over the table and name no site subject.
 */
import type { DeviceState } from '../domain/device-state.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import type { RuleEvaluator } from '../rules/evaluator.ts'
import type { DeviceInfo } from '../rules/facts.ts'

/** Each site's subjects and the episode each is in, by subject key. */
export type SiteEpisodes = Map<string, Map<string, string>>

/** A batch of readings not committed yet, as the event-time sweeps see it. */
export interface PendingBatch {
  states: ReadonlyMap<string, DeviceState>
  candidates: readonly ActionCandidate[]
  installs: number
}

export interface SiteSweep {
  /** Reads what the loaded rules of this subject look at over time, once per load. */
  plan(rules: RuleEvaluator): void
  /** Its rules' thresholds cannot be read: it is gathered at every sweep instant. */
  readonly scans: boolean
  /** Something it depends on changed since it was last gathered. */
  readonly stale: boolean
  /** The first instant at which it falls due by itself, or Infinity. */
  nextDue(): number
  /** Gathered at `now` (`everything`: every site, not only those due): the candidates of its rules. */
  gather(rules: RuleEvaluator, now: number, everything: boolean): Promise<ActionCandidate[]>
  /**
   * The episodes of the sites it has just gathered, whose actions may end with them (a gateway
   * back online): planned at this sweep's commit.
   */
  readonly gathered?: SiteEpisodes
  /** A site's episodes of this subject as last gathered: a site with candidates is planned by them. */
  episodesOf?(siteId: string): ReadonlyMap<string, string> | undefined
  /** What a device's sweep rules are told of it by this subject (a gateway offline for it). */
  deviceInfo?(deviceId: string): Partial<DeviceInfo> | undefined
  /** A device's state changed (a reading, or the state read at start). */
  stateChanged?(before: DeviceState | undefined, after: DeviceState): void
  /** Actions were created or changed. */
  actionsWritten?(): void
  /** Something outside the readings changed what it gathers (a gateway's state). */
  reconsider?(): void
  /** In event time: whether this batch, not committed yet, may change what it decides. */
  batchMatters?(rules: RuleEvaluator, batch: PendingBatch): boolean
}
