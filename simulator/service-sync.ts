/**
 * The simulator waiting on the service, through its API: until every reading sent is stored and
 * processed, and, in lockstep, until every open action has reached the closed loop and every order
 * that arrived is reported delivered. What makes a closed-loop run reproducible.
 */
import type { Action } from '../src/contract/schemas.ts'
import type { Simulation } from './engine.ts'
import type { Link, Listener, ServiceApi } from './in-process.ts'

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export class ServiceSync {
  /** Actions the closed loop took from the API, not from their message. */
  takenFromApi = 0

  constructor(
    private readonly o: {
      links: readonly Link[]
      api: ServiceApi
      sim: Simulation
      listener: Listener | null
      log: (line: string) => void
    },
  ) {}

  /** Waits until the service has stored and processed everything sent. */
  async processed(): Promise<void> {
    await Promise.all(this.o.links.map((l) => l.drain()))
    for (let wait = 2; ; wait = Math.min(50, wait * 2)) {
      const stats = await this.o.api.get<{ processing: { backlog: number } }>('/stats')
      if (stats.processing.backlog === 0) return
      await sleep(wait)
    }
  }

  /** ... then reports the orders that arrived, and waits for every open action to reach the loop. */
  async sync(): Promise<void> {
    await this.processed()
    // After the readings before it were processed: the same run reports at the same point.
    await this.reportArrivals()
    if (!this.o.listener) return
    const { sim, api } = this.o
    const open = (await api.get<{ items: Action[] }>('/actions?status=open')).items
    let missing = open.filter((a) => !sim.hasSeen(a.id))
    for (let waited = 0; missing.length > 0 && waited < 5000; waited += 5) {
      await sleep(5)
      missing = missing.filter((a) => !sim.hasSeen(a.id))
    }
    // Published but never delivered to us (a dropped subscription): the API has the record.
    for (const a of missing) if (sim.applyAction(a)) this.takenFromApi++
  }

  /** Waits until the service has heard the gateway go offline (its will). */
  async offlineSeen(site: { siteId: string; gatewayId: string } | undefined): Promise<void> {
    if (!site) return
    for (let waited = 0; waited < 5000; waited += 5) {
      const { items } = await this.o.api.get<{ items: { gatewayId: string; state: string }[] }>(
        `/sites/${encodeURIComponent(site.siteId)}/gateways`,
      )
      if (items.some((g) => g.gatewayId === site.gatewayId && g.state === 'offline')) return
      await sleep(5)
    }
    this.o.log(`simulate: the service did not hear gateway ${site.gatewayId} go offline within 5 s`)
  }

  /**
   * The closed loop's ERP: each order taken in at its site since the last sync is reported shipped
   * and delivered, at the simulated instant it came, so that the service stops waiting for it.
   */
  private async reportArrivals(): Promise<void> {
    for (const { id, at } of this.o.sim.takeArrivals()) {
      const ts = new Date(at).toISOString()
      for (const body of [
        { step: 'shipped', carrier: 'SIM', trackingNumber: id.slice(0, 8), at: ts },
        { step: 'delivered', at: ts },
      ]) {
        const res = await this.o.api.post(`/actions/${id}/delivery`, body).catch((err: Error) => err)
        if (res instanceof Error || !res.ok) {
          this.o.log(
            `simulate: the service took no ${body.step} for ${id}: ${res instanceof Error ? res.message : res.status}`,
          )
          break
        }
      }
    }
  }
}
