/**
 * The rules about a site's spare stock, gathered by the sweeps: each site of the inventory with
 * devices heard from, its spare stock reckoned from its last count. A site's action belongs to the
 * site: it has no device. Gathered when its count falls due (a half-year's first working time), or
 * its devices, its shipped stock or the inventory changed.
 */
import type { DeviceState } from '../domain/device-state.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import { expectedStock, owedCount } from '../domain/stock.ts'
import type { RuleEvaluator } from '../rules/evaluator.ts'
import { siteCountCalendar, stockDeadline, stockSubject } from '../subjects/stock.ts'
import { DeadlineQueue } from './deadlines.ts'
import type { PendingBatch, SiteSweep } from './site-sweep.ts'
import type { SweepHost } from './sweep-host.ts'

export class StockSweep implements SiteSweep {
  readonly scans = false
  private readonly staleSites = new Set<string>()
  private readonly queue = new DeadlineQueue<string>()
  /** Each site with devices heard from, and when the first of them was. */
  private readonly knownSince = new Map<string, number>()

  constructor(private readonly host: SweepHost) {}

  plan(): void {}

  get stale(): boolean {
    return this.staleSites.size > 0
  }

  nextDue(): number {
    return this.queue.peek()
  }

  stateChanged(before: DeviceState | undefined, after: DeviceState): void {
    if (before !== undefined && before.siteId !== after.siteId) {
      this.staleSites.add(before.siteId)
      this.knownSince.clear()
      for (const s of this.host.states().values()) if (s.deviceId !== after.deviceId) this.know(s)
    }
    this.know(after)
    // A site's stock facts follow its devices' cartridges (each new one is an install).
    const installed = Object.entries(after.toner).some(
      ([color, t]) => before?.toner[color]?.cartridge !== t.cartridge,
    )
    if (before === undefined || installed) this.staleSites.add(after.siteId)
  }

  private know(s: DeviceState): void {
    const known = this.knownSince.get(s.siteId)
    if (known === undefined || s.firstTs < known) this.knownSince.set(s.siteId, s.firstTs)
  }

  /** A site's shipped stock may have grown. */
  actionsWritten(): void {
    for (const siteId of this.knownSince.keys()) this.staleSites.add(siteId)
  }

  /** An order, or a device new to the sweeps, changes what a site holds or which sites count. */
  batchMatters(rules: RuleEvaluator, batch: PendingBatch): boolean {
    if (!rules.hasRulesFor('stock')) return false
    if (batch.candidates.length > 0) return true
    const known = this.host.states()
    for (const id of batch.states.keys()) if (!known.has(id)) return true
    return false
  }

  async gather(rules: RuleEvaluator, now: number, everything: boolean): Promise<ActionCandidate[]> {
    if (!rules.hasRulesFor('stock')) {
      this.staleSites.clear()
      return []
    }
    const due = new Set(everything ? this.knownSince.keys() : this.staleSites)
    this.staleSites.clear()
    for (const siteId of this.queue.popDue(now)) due.add(siteId)
    const out: ActionCandidate[] = []
    for (const siteId of due) {
      const knownSince = this.knownSince.get(siteId)
      const site = this.host.site(siteId)
      if (knownSince === undefined || !site) continue
      const calendar = siteCountCalendar(site)
      this.queue.set(siteId, stockDeadline(now, calendar))
      // Most sweeps find nothing owed: the count's time says so before the history is read.
      const last = await this.host.store.lastStockCount(siteId)
      if (owedCount(last?.ts ?? null, knownSince, now, calendar) === null) continue
      const history = await this.host.store.stockHistory(siteId)
      const lines = expectedStock(history.count, history.shipped, history.installed)
      const subject = stockSubject(site, { count: history.count, lines }, knownSince, now)
      if (subject) out.push(...(await rules.evaluateSite(subject, siteId, site.contact, now)))
    }
    return out
  }
}
