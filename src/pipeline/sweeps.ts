/**
 * The sweeps: what must happen at a time rather than at a reading (a device's silence, a billing
 * month's end, an SLA clock running out, a gateway offline too long, a site's stock count). Each
 * subject says when it next needs a look (a device subject beside its declaration in src/subjects/,
 * a site subject in its gathering, site-sweeps.ts), and a sweep instant only looks at the subjects
 * whose deadline fell due, and those whose state or description changed since they were last
 * looked at: time passing costs the deadlines that fall due, not devices × sweep instants.
 *
 * A sweep instant decides what the periodic scan of every subject decided at it before: between two
 * looks, nothing a decision depends on has changed (the property test in test/pipeline holds the two
 * side by side). Deadlines live in memory only, derived from state: at start every subject is looked
 * at once, so a restart loses none, and the ledger's dedup keys make sure none fires twice.
 */
import type { DeviceState, SubjectKind } from '../domain/device-state.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import type { RuleEvaluator } from '../rules/evaluator.ts'
import type { DeviceInfo } from '../rules/facts.ts'
import type { DeviceDeadline } from '../subjects/device-subject.ts'
import { DEVICE_DEADLINES, episodesChangeAt } from '../subjects/device-subjects.ts'
import { subjectsWoken } from '../subjects/registry.ts'
import { DeadlineQueue, sweepInstantOf } from './deadlines.ts'
import type { SiteEpisodes, SiteSweep } from './site-sweep.ts'
import { siteSweeps } from './site-sweeps.ts'
import type { SweepHost } from './sweep-host.ts'
import { TicketClocks } from './ticket-clocks.ts'

/** The rules of a device that the sweeps run; the others run at its readings. */
const SWEEP_SUBJECTS: readonly SubjectKind[] = subjectsWoken('device', 'deadline')

/** What the loaded rules of the device subjects woken by deadlines look at over time. */
interface DevicePlan {
  /** Each such subject that has rules, with its plan read from them. */
  subjects: { deadline: DeviceDeadline; plan: readonly number[] }[]
  /** A subject's plan cannot be read from its rules: every device is looked at every sweep instant. */
  scan: boolean
}

/** What the loaded rules look at over time, read from their conditions by each subject's declaration. */
function planOf(rules: RuleEvaluator) {
  const device: DevicePlan = { subjects: [], scan: false }
  for (const [kind, deadline] of DEVICE_DEADLINES) {
    if (!rules.hasRulesFor(kind)) continue
    const plan = deadline.plan(rules.rules)
    if (plan === null) device.scan = true
    else device.subjects.push({ deadline, plan })
  }
  return { device, devices: SWEEP_SUBJECTS.some((k) => rules.hasRulesFor(k)) }
}

/** When the sweep's rules about a device may decide otherwise than at instant `at`: the earliest of its subjects' deadlines. */
function deviceDeadline(state: DeviceState, zone: string | undefined, plan: DevicePlan, at: number): number {
  if (plan.scan) return at + 1
  let next = Number.POSITIVE_INFINITY
  for (const s of plan.subjects) next = Math.min(next, s.deadline.next(state, zone, s.plan, at))
  return next
}

/**
 * The device states, telling the sweeps of each change: a changed device is looked at again at the
 * next sweep instant. The processor sets states only after they are committed.
 */
export class WatchedStates extends Map<string, DeviceState> {
  constructor(private readonly changed?: (before: DeviceState | undefined, after: DeviceState) => void) {
    super()
  }

  override set(deviceId: string, state: DeviceState): this {
    this.changed?.(super.get(deviceId), state)
    return super.set(deviceId, state)
  }
}

export class Sweeps {
  /**
   * The periodic scan of before: every subject at every sweep instant. Internal: the oracle that the
   * property test holds the deadlines against.
   */
  scanEverything = false
  private evaluator: RuleEvaluator | undefined
  private plan: ReturnType<typeof planOf> = {
    device: { subjects: [], scan: false },
    devices: false,
  }
  /** Every subject is looked at in the next sweep: at start, after new rules or an outside change. */
  private everything = true
  private readonly dirty = new Set<string>()
  /** Devices by the sweep instant at which their rules may decide otherwise. */
  private readonly atInstant = new DeadlineQueue<string>()
  /** Devices by the clock's time at which their current episodes change. */
  private readonly atClock = new DeadlineQueue<string>()
  private readonly tickets: TicketClocks
  /** The site subjects' gatherings, by kind (src/pipeline/site-sweeps.ts). */
  private readonly sites: ReadonlyMap<SubjectKind, SiteSweep>
  /** Those that tell devices something (a gateway offline) are gathered before the devices, the others after. */
  private readonly sitesBefore: readonly SiteSweep[]
  private readonly sitesAfter: readonly SiteSweep[]
  /** Device states found to decide nothing at any sweep instant before `until`, under `rules`. */
  private readonly quiet = new WeakMap<DeviceState, { rules: RuleEvaluator; until: number }>()

  constructor(private readonly host: SweepHost) {
    this.tickets = new TicketClocks(host)
    this.sites = siteSweeps(host)
    this.sitesBefore = [...this.sites.values()].filter((site) => site.deviceInfo)
    this.sitesAfter = [...this.sites.values()].filter((site) => !site.deviceInfo)
  }

  /** A device's state changed (a reading, or the state read at start). */
  stateChanged(before: DeviceState | undefined, after: DeviceState): void {
    this.dirty.add(after.deviceId)
    for (const site of this.sites.values()) site.stateChanged?.(before, after)
  }

  /** What is known of these devices besides their readings changed (a new birth message). */
  infoChanged(deviceIds: readonly string[]): void {
    // Every group commit tells of its births, most often none: then nothing a ticket reads changed.
    if (deviceIds.length === 0) return
    for (const id of deviceIds) this.dirty.add(id)
    this.tickets.stale = true
  }

  /** Actions were created or changed: tickets may be new, a site's shipped stock may have grown. */
  actionsWritten(): void {
    this.tickets.stale = true
    for (const site of this.sites.values()) site.actionsWritten?.()
  }

  /** Something the sweeps look at changed outside the readings: looked at again at the next sweep instant. */
  reconsider(what: 'everything' | SubjectKind): void {
    if (what === 'everything') this.everything = true
    else this.sites.get(what)?.reconsider?.()
  }

  /**
   * The first instant of the sweep grid `from`, `from + every`, … at which something is due (as the
   * clock stands now), or Infinity: the instants before it would decide nothing new.
   */
  nextDue(from: number, every: number, dirtyToo = true): number {
    const plan = this.plan
    const scanning =
      this.scanEverything ||
      this.everything ||
      this.host.rules() !== this.evaluator ||
      (plan.devices && plan.device.scan) ||
      this.anySite((site) => site.scans)
    if (
      scanning ||
      (dirtyToo && this.dirty.size > 0) ||
      this.anySite((site) => site.stale) ||
      this.tickets.stale
    )
      return from
    if (this.atClock.peek() <= this.host.clock.now()) return from
    let due = Math.min(this.atInstant.peek(), this.tickets.due)
    for (const site of this.sites.values()) due = Math.min(due, site.nextDue())
    return Number.isFinite(due) ? sweepInstantOf(due, from, every) : Number.POSITIVE_INFINITY
  }

  /**
   * In event time, at a reading of a batch not committed yet: whether every sweep instant from
   * `from` up to `until` would decide nothing, seeing the batch's readings before it. Then the batch
   * goes on past them without a commit. Anything the batch may have changed beyond its devices'
   * states (a ticket opened, a cartridge installed, an order shipped to a site that counts its
   * stock, a new device) makes them run.
   */
  async quietUntil(
    from: number,
    every: number,
    until: number,
    batch: {
      states: ReadonlyMap<string, DeviceState>
      candidates: readonly ActionCandidate[]
      installs: number
    },
  ): Promise<boolean> {
    const last = Math.floor(until / every) * every
    // Tickets changed, and devices changed since the last sweep, are looked at here as a sweep
    // would, rather than make one.
    if (this.tickets.stale && !(await this.tickets.quiet(from))) return false
    if (this.nextDue(from, every, false) <= last) return false
    if (batch.installs > 0 || batch.candidates.some((c) => c.ticket !== undefined)) return false
    const rules = this.host.rules()
    const known = this.host.states()
    if (this.anySite((site) => site.batchMatters?.(rules, batch) === true)) return false
    if (!this.plan.devices) {
      // No rule looks at devices over time: a sweep would look at none of them either.
      this.dirty.clear()
      return true
    }
    // Each as the sweeps from `from` to `last` would see it: the batch's state, or the committed one.
    const looked = new Map<string, { state: DeviceState; zone: string | undefined }>()
    for (const id of [...batch.states.keys(), ...this.dirty]) {
      if (looked.has(id)) continue
      const state = batch.states.get(id) ?? known.get(id)
      if (!state) continue
      const info = await this.host.info(state.deviceId, state.siteId)
      const zone = info.calendar?.zone
      looked.set(id, { state, zone })
      // A state already found quiet up to a deadline past `last` (at an earlier crossing of this
      // batch) is quiet still: nothing it depends on changed, or the sweeps would not be here.
      const proven = this.quiet.get(state)
      if (proven !== undefined && proven.rules === rules && proven.until > last) continue
      // Between its deadlines a device's sweep rules decide at every instant as at the first one.
      const until = deviceDeadline(state, zone, this.plan.device, from)
      if (until <= last) return false
      const seen = this.toldBySites(id, info)
      if ((await rules.evaluate(SWEEP_SUBJECTS, state, seen, from)).length > 0) return false
      this.quiet.set(state, { rules, until })
    }
    // The changed devices were looked at as the sweep at `from` would have: their next deadlines
    // are known, and they are changed no more.
    for (const id of [...this.dirty]) {
      const seen = looked.get(id)
      if (!seen) continue
      this.atInstant.set(id, deviceDeadline(seen.state, seen.zone, this.plan.device, from))
      this.atClock.set(id, episodesChangeAt(seen.state, seen.zone, this.host.clock.now()))
      this.dirty.delete(id)
    }
    return true
  }

  /** Subjects that keep a scan at every sweep instant: their rules' thresholds cannot be read. */
  get scanned(): string[] {
    return [
      ...(this.plan.devices && this.plan.device.scan ? SWEEP_SUBJECTS : []),
      ...[...this.sites].filter(([, site]) => site.scans).map(([kind]) => kind),
    ]
  }

  /** One sweep instant: the subjects due at `now` are looked at, and what they ask for is committed. */
  async run(now: number): Promise<void> {
    const rules = this.host.rules()
    if (rules !== this.evaluator) {
      this.evaluator = rules
      this.plan = planOf(rules)
      for (const site of this.sites.values()) site.plan(rules)
      this.everything = true
    }
    const everything = this.everything || this.scanEverything
    this.everything = false
    try {
      const candidates: ActionCandidate[] = []
      if (everything || this.tickets.dueAt(now)) candidates.push(...(await this.tickets.check(now)))
      const siteEpisodes: SiteEpisodes = new Map()
      for (const site of this.sitesBefore) {
        candidates.push(...(await site.gather(rules, now, everything)))
        for (const [siteId, episodes] of site.gathered ?? []) siteEpisodes.set(siteId, episodes)
      }
      candidates.push(...(await this.deviceCandidates(rules, now, everything)))
      for (const site of this.sitesAfter) {
        const found = await site.gather(rules, now, everything)
        candidates.push(...found)
        // A site planned for these is planned with its other subjects' episodes, as in every sweep.
        for (const c of found)
          for (const other of this.sites.values()) {
            const episodes = other.episodesOf?.(c.siteId)
            if (episodes && !siteEpisodes.has(c.siteId)) siteEpisodes.set(c.siteId, new Map(episodes))
          }
      }
      if (candidates.length > 0 || siteEpisodes.size > 0) await this.host.commit(candidates, siteEpisodes)
    } catch (err) {
      // What this sweep took off its queues is looked at again by the next one.
      this.everything = true
      throw err
    }
  }

  /** The sweep rules of each device due, with its next deadlines. */
  private async deviceCandidates(rules: RuleEvaluator, now: number, everything: boolean) {
    const states = this.host.states()
    const plan = this.plan.device
    let due: Iterable<string>
    if (everything || plan.scan || !this.plan.devices) {
      due = this.plan.devices ? states.keys() : []
      this.dirty.clear()
      this.atInstant.popDue(Number.POSITIVE_INFINITY)
      this.atClock.popDue(Number.POSITIVE_INFINITY)
    } else {
      const ids = new Set(this.dirty)
      this.dirty.clear()
      for (const id of this.atInstant.popDue(now)) ids.add(id)
      for (const id of this.atClock.popDue(this.host.clock.now())) ids.add(id)
      due = ids
    }
    const out: ActionCandidate[] = []
    for (const deviceId of due) {
      const state = states.get(deviceId)
      if (!state) continue
      const info = this.toldBySites(deviceId, await this.host.info(deviceId, state.siteId))
      out.push(...(await rules.evaluate(SWEEP_SUBJECTS, state, info, now)))
      const zone = info.calendar?.zone
      this.atInstant.set(deviceId, deviceDeadline(state, zone, plan, now))
      this.atClock.set(deviceId, episodesChangeAt(state, zone, this.host.clock.now()))
    }
    return out
  }

  private anySite(test: (site: SiteSweep) => boolean): boolean {
    for (const site of this.sites.values()) if (test(site)) return true
    return false
  }

  /** A device as its sweep rules see it: what the site subjects tell of it besides (a gateway offline). */
  private toldBySites(deviceId: string, info: DeviceInfo): DeviceInfo {
    let told = info
    for (const site of this.sites.values()) {
      const more = site.deviceInfo?.(deviceId)
      if (more) told = { ...told, ...more }
    }
    return told
  }
}
