import { Type } from '@sinclair/typebox'
import { Id, Site } from '../contract/schemas.ts'
import { notFound } from '../errors.ts'
import type { App, AppDeps } from './app.ts'

const Params = Type.Object({ siteId: Id })

export const siteRoutes = (deps: AppDeps) => async (app: App) => {
  app.get(
    '/sites',
    { schema: { response: { 200: Type.Object({ items: Type.Array(Site) }) } } },
    async () => ({
      items: deps.inventory.allSites(),
    }),
  )

  app.get('/sites/:siteId', { schema: { params: Params, response: { 200: Site } } }, async (request) => {
    const site = deps.inventory.site(request.params.siteId)
    if (!site) throw notFound(`site ${request.params.siteId}`)
    return site
  })

  app.put(
    '/sites/:siteId',
    { schema: { params: Params, body: Type.Omit(Site, ['siteId']), response: { 200: Site } } },
    async (request) => {
      const site = { ...request.body, siteId: request.params.siteId }
      await deps.inventory.putSite(site)
      return site
    },
  )
}
