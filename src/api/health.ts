import { Type } from '@sinclair/typebox'
import { ROLES_OF } from '../access/http.ts'
import { ConnectionRefusals } from '../access/mqtt.ts'
import { RejectReasons } from '../errors.ts'
import type { App, AppDeps } from './app.ts'

const Count = Type.Integer({ minimum: 0 })

const Spool = Type.Object({
  pending: Count,
  max: Count,
  influx: Type.Union([Type.Literal('up'), Type.Literal('down')]),
})

// Only the sinks that fail now: a service whose sinks all work answers as before.
const FailingSinks = Type.Array(
  Type.Object({
    name: Type.String(),
    pending: Count,
    failures: Count,
    failingSince: Type.String({ format: 'date-time' }),
    lastError: Type.String(),
  }),
)

const Stats = Type.Object({
  ingest: Type.Object({
    messages: Count,
    readingsStored: Count,
    duplicates: Count,
    births: Count,
    refused: Count,
    rejected: Type.Object(Object.fromEntries(RejectReasons.map((r) => [r, Count]))),
    rejectedTotal: Count,
  }),
  processing: Type.Object({ position: Count, backlog: Count, lateReadings: Count, sweeps: Count }),
  // Access: MQTT connections open, and connections refused by reason.
  access: Type.Optional(
    Type.Object({
      connections: Count,
      refused: Type.Object(Object.fromEntries(ConnectionRefusals.map((r) => [r, Count]))),
    }),
  ),
})

export const healthRoutes = (deps: AppDeps) => async (app: App) => {
  app.get(
    '/health',
    {
      config: { roles: ROLES_OF.public },
      schema: {
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            spool: Type.Optional(Spool),
            failingSinks: Type.Optional(FailingSinks),
          }),
          503: Type.Object({
            status: Type.Literal('unavailable'),
            problems: Type.Array(Type.String()),
            spool: Type.Optional(Spool),
            failingSinks: Type.Optional(FailingSinks),
          }),
        },
      },
    },
    async (_request, reply) => {
      const problems = await deps.problems()
      // With --store influx, the spool of readings waiting for InfluxDB is part of the answer.
      const spool = deps.spool()
      // A sink that fails (a webhook answering 500) stops nothing else, so it is no 503: it is said here.
      const failing = ((await deps.sinks?.()) ?? [])
        .filter((s) => s.failingSince !== undefined)
        .map((s) => ({
          name: s.name,
          pending: s.pending,
          failures: s.failures,
          failingSince: new Date(s.failingSince as number).toISOString(),
          lastError: s.lastError ?? '',
        }))
      const extra = { ...(spool ? { spool } : {}), ...(failing.length > 0 ? { failingSinks: failing } : {}) }
      if (problems.length === 0) return { status: 'ok' as const, ...extra }
      return reply.status(503).send({ status: 'unavailable' as const, problems, ...extra })
    },
  )
  // What ingest took, dropped and rejected (by reason), and how far processing is: for operators
  // and gateway developers.
  app.get(
    '/stats',
    { config: { roles: ROLES_OF.staff }, schema: { response: { 200: Stats } } },
    async () => ({
      ingest: await deps.stats.toJSON(),
      processing: await deps.progress(),
      ...(deps.access ? { access: deps.access() } : {}),
    }),
  )
}

/**
 * The service's own health for Prometheus, from its one registry: the same counters `GET /stats`
 * reads. Behind a `monitor` (or stronger) token once accounts exist.
 */
export const metricsRoutes = (deps: AppDeps) => async (app: App) => {
  app.get(
    '/metrics',
    {
      config: { roles: ROLES_OF.metrics },
      schema: {
        produces: ['text/plain'],
        response: {
          200: Type.String({ description: 'Prometheus text exposition format, version 0.0.4' }),
        },
      },
    },
    async (_request, reply) => {
      const registry = deps.stats.registry
      return reply.type(registry.contentType).send(await registry.metrics())
    },
  )
}
