/**
 * The gateways, gathered by the sweeps: each offline one is a subject of its site (one episode per
 * outage), and its devices (those its last online state named, or else those it last published
 * for) are told of it. Every site with a gateway gets its episodes, so that an outage's action ends
 * when the gateway is back. Gathered again when a gateway's state changed, or an outage crosses a
 * threshold of its rules.
 */
import type { ActionCandidate } from '../domain/ledger.ts'
import type { RuleEvaluator } from '../rules/evaluator.ts'
import { gatewaySubject } from '../subjects/gateway.ts'
import { nextCrossing, thresholdsOf } from '../subjects/thresholds.ts'
import type { SiteEpisodes, SiteSweep } from './site-sweep.ts'
import type { SweepHost } from './sweep-host.ts'

export class GatewaySweep implements SiteSweep {
  stale = true
  /** The `offlineForHours` its rules compare with; null: they cannot be read, gathered every instant. */
  private hours: number[] | null = []
  private due = Number.POSITIVE_INFINITY
  private episodes: SiteEpisodes = new Map()
  private offlineOf = new Map<string, { gatewayId: string; since: number }>()
  gathered: SiteEpisodes | undefined

  constructor(private readonly host: SweepHost) {}

  plan(rules: RuleEvaluator): void {
    this.hours = thresholdsOf(rules.rules, ['gateway'], 'gateway', 'offlineForHours')
  }

  get scans(): boolean {
    return this.hours === null
  }

  nextDue(): number {
    return this.due
  }

  reconsider(): void {
    this.stale = true
  }

  deviceInfo(deviceId: string) {
    const offline = this.offlineOf.get(deviceId)
    return offline ? { gatewayOffline: offline } : undefined
  }

  episodesOf(siteId: string): ReadonlyMap<string, string> | undefined {
    return this.episodes.get(siteId)
  }

  async gather(rules: RuleEvaluator, now: number, everything: boolean): Promise<ActionCandidate[]> {
    this.gathered = undefined
    if (!(everything || this.stale || now >= this.due || this.hours === null)) return []
    const episodes: SiteEpisodes = new Map()
    const offlineOf = new Map<string, { gatewayId: string; since: number }>()
    const candidates: ActionCandidate[] = []
    let due = Number.POSITIVE_INFINITY
    this.stale = false
    for (const g of await this.host.store.gateways()) {
      let site = episodes.get(g.siteId)
      if (!site) {
        site = new Map()
        episodes.set(g.siteId, site)
      }
      if (g.state !== 'offline') continue
      const devices = g.devices ?? g.publishedFor
      for (const d of devices) offlineOf.set(d, { gatewayId: g.gatewayId, since: g.since })
      const subject = gatewaySubject({ ...g, devices }, this.host.site(g.siteId), now)
      if (!subject) continue
      site.set(subject.key, subject.episode)
      if (!rules.hasRulesFor('gateway')) continue
      candidates.push(
        ...(await rules.evaluateSite(subject, g.siteId, this.host.site(g.siteId)?.contact, now)),
      )
      due = Math.min(due, nextCrossing(g.since, this.hours ?? [], now))
    }
    this.episodes = episodes
    this.offlineOf = offlineOf
    this.due = due
    this.gathered = new Map(episodes)
    return candidates
  }
}
