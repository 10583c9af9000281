import { Type } from '@sinclair/typebox'
import type { App, AppDeps } from './app.ts'

export const healthRoutes = (deps: AppDeps) => async (app: App) => {
  app.get(
    '/health',
    {
      schema: {
        response: {
          200: Type.Object({ status: Type.Literal('ok') }),
          503: Type.Object({ status: Type.String() }),
        },
      },
    },
    async (_request, reply) =>
      deps.healthy() ? { status: 'ok' as const } : reply.status(503).send({ status: 'unavailable' }),
  )
  // What ingest took and rejected, by reason: for operators and gateway developers.
  app.get('/stats', async () => ({ ingest: deps.stats.toJSON(), processing: await deps.progress() }))
}
