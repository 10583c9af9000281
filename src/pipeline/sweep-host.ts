/** What the sweeps, the site subjects' gatherings and the ticket clocks need of the processor they run in. */
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Site } from '../contract/schemas.ts'
import type { DeviceState } from '../domain/device-state.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import type { RuleEvaluator } from '../rules/evaluator.ts'
import type { DeviceInfo } from '../rules/facts.ts'
import type { Store } from '../store/store.ts'

/** What the sweeps need of the processor they run in. */
export interface SweepHost {
  readonly store: Store
  readonly clock: Clock
  readonly log: Logger
  rules(): RuleEvaluator
  states(): ReadonlyMap<string, DeviceState>
  info(deviceId: string, siteId: string): Promise<DeviceInfo>
  site(siteId: string): Site | undefined
  /** Commits the sweep's candidates, planning these sites' actions by these episodes too. */
  commit(
    candidates: ActionCandidate[],
    siteEpisodes: ReadonlyMap<string, ReadonlyMap<string, string>>,
  ): Promise<void>
  /** The sweep wrote outbox messages (a ticket's breach). */
  onActions(): void
}
