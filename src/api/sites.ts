import { Type } from '@sinclair/typebox'
import { ROLES_OF } from '../access/http.ts'
import { inScope, type Scope } from '../access/permissions.ts'
import { GatewayView, Id, Site, StockCountBody, StockView } from '../contract/schemas.ts'
import { toEpochMs } from '../domain/reading.ts'
import { expectedStock } from '../domain/stock.ts'
import { badRequest, notFound } from '../errors.ts'
import type { App, AppDeps } from './app.ts'

const Params = Type.Object({ siteId: Id })

export const siteRoutes = (deps: AppDeps) => async (app: App) => {
  app.get(
    '/sites',
    {
      config: { roles: ROLES_OF.read },
      schema: { response: { 200: Type.Object({ items: Type.Array(Site) }) } },
    },
    async (request) => ({
      items: deps.inventory.sitesInScope(request.scope),
    }),
  )

  // A site's gateways, known from their status topic (the inventory need not know the site).
  app.get(
    '/sites/:siteId/gateways',
    {
      config: { roles: ROLES_OF.read },
      schema: { params: Params, response: { 200: Type.Object({ items: Type.Array(GatewayView) }) } },
    },
    async (request) => {
      // Known from the status topic, so the inventory need not know the site: only the scope counts.
      if (!inScope(request.scope, request.params.siteId)) throw notFound(`site ${request.params.siteId}`)
      return {
        items: (await deps.store.gateways())
          .filter((g) => g.siteId === request.params.siteId)
          .map((g) => ({
            siteId: g.siteId,
            gatewayId: g.gatewayId,
            state: g.state,
            since: new Date(g.since).toISOString(),
            devices: g.devices,
            publishedFor: g.publishedFor,
            software: g.software,
          })),
      }
    },
  )

  app.get(
    '/sites/:siteId',
    { config: { roles: ROLES_OF.read }, schema: { params: Params, response: { 200: Site } } },
    async (request) => knownSite(request.params.siteId, request.scope),
  )

  const stockOf = async (site: Site): Promise<StockView> => {
    const { count, shipped, installed } = await deps.store.stockHistory(site.siteId)
    return {
      siteId: site.siteId,
      stockMode: site.stockMode ?? 'threshold',
      countedAt: count ? new Date(count.ts).toISOString() : null,
      items: expectedStock(count, shipped, installed),
    }
  }
  const knownSite = (siteId: string, scope: Scope): Site => {
    const site = deps.inventory.siteInScope(siteId, scope)
    if (!site) throw notFound(`site ${siteId}`)
    return site
  }

  app.get(
    '/sites/:siteId/stock',
    { config: { roles: ROLES_OF.read }, schema: { params: Params, response: { 200: StockView } } },
    async (request) => stockOf(knownSite(request.params.siteId, request.scope)),
  )

  // The site's count of its spare toner: the new base of its expected stock. It answers the
  // site's open stock-reconciliation actions, which are resolved with it.
  app.post(
    '/sites/:siteId/stock-counts',
    {
      config: { roles: ROLES_OF.work },
      schema: { params: Params, body: StockCountBody, response: { 201: StockView } },
    },
    async (request, reply) => {
      const site = knownSite(request.params.siteId, request.scope)
      const now = deps.clock.now()
      const ts = request.body.ts === undefined ? now : toEpochMs(request.body.ts)
      if (!Number.isFinite(ts)) throw badRequest(`body/ts: ${request.body.ts} is not a date`)
      const last = await deps.store.lastStockCount(site.siteId)
      if (last !== null && ts < last.ts)
        throw badRequest(
          `body/ts: a later count exists (${new Date(last.ts).toISOString()}); a count replaces the one before it, not the one after`,
        )
      if (ts > now)
        throw badRequest(
          `body/ts: ${new Date(ts).toISOString()} is in the future; a count is of stock already on the shelf`,
        )
      const seen = new Set<string>()
      const items = request.body.items.map((i, n) => {
        const key = `${i.model ?? ''}\u0000${i.color}`
        if (seen.has(key))
          throw badRequest(`body/items/${n}: ${i.color}${i.model ? ` for ${i.model}` : ''} is counted twice`)
        seen.add(key)
        return { model: i.model ?? null, color: i.color, count: i.count }
      })
      await deps.store.recordStockCount(site.siteId, { ts, items }, now, site.calendar?.zone)
      // Also when it resolved nothing: the count changes the stock the next sweep reckons with.
      deps.onActionChanged()
      return reply.status(201).send(await stockOf(site))
    },
  )

  app.put(
    '/sites/:siteId',
    {
      config: { roles: ROLES_OF.staff },
      schema: { params: Params, body: Type.Omit(Site, ['siteId']), response: { 200: Site } },
    },
    async (request) => {
      const site = { ...request.body, siteId: request.params.siteId }
      await deps.inventory.putSite(site)
      return site
    },
  )
}
