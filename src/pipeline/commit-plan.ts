/**
 * What one commit changes in the ledger: the candidates of a batch (or a sweep), grouped by device
 * and by site, each group planned against its unresolved actions and its current episodes; a down
 * device's new ticket names where else to print.
 */
import { somewhereElse } from '../domain/alternatives.ts'
import type { DeviceState } from '../domain/device-state.ts'
import { type ActionCandidate, dedupKey, isCurrent, type LedgerEntry, planLedger } from '../domain/ledger.ts'
import type { DeviceInfo } from '../rules/facts.ts'
import type { Store } from '../store/store.ts'
import { currentEpisodes } from '../subjects/device-subjects.ts'

export interface LedgerChange {
  create: ActionCandidate[]
  resolve: string[]
  /** Created for an episode already over: resolved in the same commit. */
  resolveAtOnce: Set<string>
  join: { into: string; candidate: ActionCandidate }[]
}

export interface CommitInput {
  store: Pick<Store, 'unresolvedActions' | 'unresolvedSiteActions'>
  /** The batch's new states, by device. */
  states: ReadonlyMap<string, DeviceState>
  candidates: readonly ActionCandidate[]
  /** Unresolved actions already read for this batch, by device. */
  known: ReadonlyMap<string, LedgerEntry[]>
  /**
   * The episode each subject of a site is in now, for the sites whose actions may end (a gateway
   * back online); sites with candidates are planned too.
   */
  siteEpisodes: ReadonlyMap<string, ReadonlyMap<string, string>>
  /** A device's committed state, for a device with candidates and no new state (a sweep's). */
  committed: (deviceId: string) => DeviceState | undefined
  /** The committed states of a site's devices (the ones a down device's ticket may send work to). */
  siteStates: (siteId: string) => DeviceState[]
  /** What is known of a device: its site's zone (billing months are in it), its capabilities. */
  info: (deviceId: string, siteId: string) => Promise<DeviceInfo>
  /** The clock's now: which episodes are current. */
  now: number
}

export async function planCommit(o: CommitInput): Promise<LedgerChange> {
  const byDevice = new Map<string, ActionCandidate[]>()
  const bySite = new Map<string, ActionCandidate[]>()
  for (const deviceId of o.states.keys()) byDevice.set(deviceId, [])
  for (const siteId of o.siteEpisodes.keys()) bySite.set(siteId, [])
  for (const c of o.candidates) {
    const [group, key] = c.scope === 'site' ? [bySite, c.siteId] : [byDevice, c.deviceId as string]
    const list = group.get(key)
    if (list) list.push(c)
    else group.set(key, [c])
  }
  const change: LedgerChange = { create: [], resolve: [], resolveAtOnce: new Set(), join: [] }
  const take = (plan: ReturnType<typeof planLedger>, episodes: ReadonlyMap<string, string>, joins = true) => {
    change.create.push(...plan.create)
    change.resolve.push(...plan.resolve)
    // A fault joins a device's open service request; a site has none.
    if (joins) change.join.push(...plan.join)
    for (const c of plan.create) if (!isCurrent(c, episodes)) change.resolveAtOnce.add(dedupKey(c))
  }
  for (const [siteId, unresolved] of await o.store.unresolvedSiteActions([...bySite.keys()])) {
    const episodes = o.siteEpisodes.get(siteId) ?? new Map<string, string>()
    take(planLedger(unresolved, bySite.get(siteId) ?? [], episodes), episodes, false)
  }
  const read = await o.store.unresolvedActions([...byDevice.keys()].filter((id) => !o.known.has(id)))
  for (const [deviceId, list] of byDevice) {
    const state = o.states.get(deviceId) ?? o.committed(deviceId)
    // A device never heard from has no episodes, and may still have follow-ups (a person's
    // service call on a printer that never reported gets its replacement device).
    if (!state && list.length === 0) continue
    const siteId = state?.siteId ?? (list[0] as ActionCandidate).siteId
    const episodes = state
      ? currentEpisodes(state, o.now, (await o.info(deviceId, siteId)).calendar?.zone)
      : new Map<string, string>()
    const unresolved = o.known.get(deviceId) ?? read.get(deviceId) ?? []
    take(planLedger(unresolved, list, episodes), episodes)
  }
  for (const c of [...change.create, ...change.join.map((j) => j.candidate)]) await withAlternatives(c, o)
  return change
}

/**
 * A ticket of a device that is down (a critical fault, or it reports itself stopped) names the
 * site's ready devices that can do its work, nearest office first: somewhere else to print.
 */
async function withAlternatives(c: ActionCandidate, o: CommitInput): Promise<void> {
  if (!c.ticket || c.deviceId === undefined) return
  const state = o.states.get(c.deviceId) ?? o.committed(c.deviceId) ?? null
  const down = c.ticket.severity === 'critical' || state?.status === 'stopped' || state?.status === 'error'
  if (!down) return
  // The site as this batch leaves it: its committed states, with the batch's newer ones.
  const site = new Map(o.siteStates(c.siteId).map((s) => [s.deviceId, s]))
  for (const s of o.states.values()) if (s.siteId === c.siteId) site.set(s.deviceId, s)
  const target = { deviceId: c.deviceId, siteId: c.siteId, state }
  c.details = { ...c.details, alternatives: await somewhereElse(target, site.values(), o.info, c.at) }
}
