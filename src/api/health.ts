import { Type } from '@sinclair/typebox'
import { RejectReasons } from '../errors.ts'
import type { App, AppDeps } from './app.ts'

const Count = Type.Integer({ minimum: 0 })

const Stats = Type.Object({
  ingest: Type.Object({
    messages: Count,
    readingsStored: Count,
    duplicates: Count,
    births: Count,
    rejected: Type.Object(Object.fromEntries(RejectReasons.map((r) => [r, Count]))),
    rejectedTotal: Count,
  }),
  processing: Type.Object({ position: Count, backlog: Count, lateReadings: Count }),
})

export const healthRoutes = (deps: AppDeps) => async (app: App) => {
  app.get(
    '/health',
    {
      schema: {
        response: {
          200: Type.Object({ status: Type.Literal('ok') }),
          503: Type.Object({ status: Type.Literal('unavailable'), problems: Type.Array(Type.String()) }),
        },
      },
    },
    async (_request, reply) => {
      const problems = await deps.problems()
      if (problems.length === 0) return { status: 'ok' as const }
      return reply.status(503).send({ status: 'unavailable' as const, problems })
    },
  )
  // What ingest took, dropped and rejected (by reason), and how far processing is: for operators
  // and gateway developers.
  app.get('/stats', { schema: { response: { 200: Stats } } }, async () => ({
    ingest: deps.stats.toJSON(),
    processing: await deps.progress(),
  }))
}
