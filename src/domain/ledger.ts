/**
 * The decisions of the action ledger, as pure functions: which candidate actions are new, which
 * open actions are over, and which status changes a person may make. The store only applies them.
 */
import type { ActionStatus } from '../contract/schemas.ts'
import { scopeOf } from '../subjects/scope.ts'
import type { Ticket } from './ticket.ts'

/** What a rule asks for: an action of `type` about one subject of a device or a site, in one episode. */
export interface ActionCandidate {
  rule: string
  type: string
  /** `site`: an action about the whole site, which has no device. Absent: a device's. */
  scope?: 'site'
  /** The device, for a device's action; absent for a site's. */
  deviceId?: string
  siteId: string
  /** The subject key, e.g. `toner:black`, `error:C-2557`, `wasteBox`, `silence`. */
  subject: string
  episode: string
  details: Record<string, unknown>
  /** The instant the rule looked at: the reading's time, or the sweep's. */
  at: number
  /** For a rule that opens service tickets: the ticket, registered at `at`. */
  ticket?: Ticket
}

/** The part of a stored action the ledger decides on. */
export interface LedgerEntry {
  id: string
  rule: string
  type: string
  createdAt: number
  /** null for an action about a whole site. */
  deviceId: string | null
  subject: string
  episode: string
  status: ActionStatus
  /** An order's expected delivery (epoch ms) and its delivery's step, for the rules that follow up on it. */
  expectedDelivery?: number
  deliveryStep?: string
  /** A service request's: the dedup keys of the causes (a device's faults) that joined its ticket. */
  joined?: readonly string[]
}

/** The type of a service call a person opened (`POST /devices/{deviceId}/service-requests`). */
export const SERVICE_REQUEST = 'service-request'

/**
 * An order a person placed is one episode of its part (a cartridge, a box) with a mark of its own
 * after a `+`: `c1732000000000+o3f2a…` is an order for cartridge `c1732000000000`, and `+x…` an
 * extra one. The mark keeps every order a cause of its own (a cancelled order never blocks the next),
 * while the part's episode still says when it is over (a new cartridge seen).
 */
const MARK = '+'

/** The episode of the part an episode is about: itself, or what comes before an order's mark. */
export function episodeBase(episode: string): string {
  const at = episode.indexOf(MARK)
  return at < 0 ? episode : episode.slice(0, at)
}

/** An order a person marked as extra (for the shelf): it answers no reorder and blocks none. */
export function isExtraEpisode(episode: string): boolean {
  return episode.includes(`${MARK}x`)
}

/** The episode of an order a person placed for the part in episode `base`. */
export function orderEpisode(base: string, extra: boolean, id: string): string {
  return `${base}${MARK}${extra ? 'x' : 'o'}${id}`
}

/** Whether an order (of any origin) is the one order for the part in `episode`: not an extra. */
export function ordersPart(orderEpisodeId: string, episode: string): boolean {
  return !isExtraEpisode(orderEpisodeId) && episodeBase(orderEpisodeId) === episode
}

/** The one identity of a cause (what is to be done, for which device, about what, in which episode): no two actions ever share it. */
export function dedupKey(c: {
  type: string
  deviceId?: string | null
  subject: string
  episode: string
}): string {
  // The action type, not the rule: two rules that order toner for one cartridge (a threshold and a
  // vendor's own) must still make one order, and renaming a rule must not repeat open causes.
  // A site's subject (its spare stock) names the site and no device (as the keys of actions made
  // before site actions lost their device did: the migration keeps them).
  return `${c.type}\u0000${c.deviceId ?? ''}\u0000${c.subject}\u0000${c.episode}`
}

export interface LedgerPlan {
  /** Candidates to create if their dedup key is new, each once. */
  create: ActionCandidate[]
  /** Ids of unresolved actions whose episode is over. */
  resolve: string[]
  /** Tickets a device asks for while a person's service request is open: they join it instead. */
  join: { into: string; candidate: ActionCandidate }[]
}

/**
 * `episodes` maps each subject of the device to its current episode. An action whose episode is
 * no longer current is resolved: the cartridge was replaced, the box swapped, the error cleared,
 * the device heard from again. A candidate from an episode that ended later in the same batch of
 * readings (a level of 15, then a new cartridge) is still recorded, and resolved at once by the
 * caller, as if the readings had been processed one by one.
 */
export function planLedger(
  unresolved: readonly LedgerEntry[],
  candidates: readonly ActionCandidate[],
  episodes: ReadonlyMap<string, string>,
): LedgerPlan {
  // Known causes are skipped here, so that a condition that holds reading after reading costs no write.
  const seen = new Set<string>()
  for (const a of unresolved) {
    seen.add(dedupKey(a))
    // A person's order for a part is its order: the rule's own for the same part is not made.
    if (!isExtraEpisode(a.episode)) seen.add(dedupKey({ ...a, episode: episodeBase(a.episode) }))
    for (const key of a.joined ?? []) seen.add(key)
  }
  const request = unresolved.find((a) => a.type === SERVICE_REQUEST && a.status !== 'resolved')
  const create: ActionCandidate[] = []
  const join: LedgerPlan['join'] = []
  for (const c of candidates) {
    const key = dedupKey(c)
    if (seen.has(key)) continue
    seen.add(key)
    // One ticket per device while a person's call is open: the device's fault joins it.
    if (c.ticket && request && c.scope !== 'site') join.push({ into: request.id, candidate: c })
    else create.push(c)
  }
  const resolve = unresolved
    // Some subjects' actions end otherwise than with their episode (a stock count answers its request).
    .filter((a) => a.status !== 'resolved' && scopeOf(a.subject).endsWithEpisode && isOver(a, episodes))
    .map((a) => a.id)
  return { create, resolve, join }
}

/**
 * An action's episode is over when its subject is in another episode now, or in none. An order
 * for a part the device never reported (a printer nobody monitors) stays, as nothing shows it
 * fitted: a person resolves it, or the device's first report of the part does.
 */
function isOver(a: LedgerEntry, episodes: ReadonlyMap<string, string>): boolean {
  const current = episodes.get(a.subject)
  if (current === undefined) return a.deliveryStep === undefined
  return current !== episodeBase(a.episode)
}

export function isCurrent(
  c: Pick<ActionCandidate, 'subject' | 'episode'>,
  episodes: ReadonlyMap<string, string>,
): boolean {
  return !scopeOf(c.subject).endsWithEpisode || episodes.get(c.subject) === episodeBase(c.episode)
}

export type Transition = 'ack' | 'resolve'

/**
 * open → acknowledged → resolved. Repeating a step that is already done changes nothing; going
 * back is refused with the reason.
 */
export function transition(
  from: ActionStatus,
  verb: Transition,
  /** Why the action is blocked (a ticket of a device without an active contract), if it is. */
  blocked?: string,
): { ok: true; to: ActionStatus; changed: boolean } | { ok: false; reason: string } {
  if (verb === 'resolve') return { ok: true, to: 'resolved', changed: from !== 'resolved' }
  if (from === 'resolved') return { ok: false, reason: 'a resolved action cannot be acknowledged' }
  if (blocked !== undefined)
    return { ok: false, reason: `blocked: ${blocked}; it can be acknowledged once the contract is active` }
  return { ok: true, to: 'acknowledged', changed: from === 'open' }
}
