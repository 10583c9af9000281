import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { actor, ROLES_OF } from '../access/http.ts'
import { Action, ActionStatus, Id, Limit } from '../contract/schemas.ts'
import { DeliveryReport, recordDeliveryStep } from '../domain/delivery.ts'
import type { Transition } from '../domain/ledger.ts'
import { toEpochMs } from '../domain/reading.ts'
import { advance, TICKET_EVENTS, type TicketEventType } from '../domain/ticket.ts'
import { badRequest, notFound } from '../errors.ts'
import type { App, AppDeps } from './app.ts'

const Params = Type.Object({ id: Type.String({ minLength: 1 }) })

export const actionRoutes = (deps: AppDeps) => async (app: App) => {
  app.get(
    '/actions',
    {
      config: { roles: ROLES_OF.read },
      schema: {
        querystring: Type.Object(
          {
            type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' })),
            deviceId: Type.Optional(Id),
            siteId: Type.Optional(Id),
            status: Type.Optional(ActionStatus),
            limit: Type.Optional(Limit),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Action) }) },
      },
    },
    async (request) => {
      const { limit, ...filters } = request.query
      return {
        items: await deps.store.actions({
          ...filters,
          limit: limit ?? Number.MAX_SAFE_INTEGER,
          scope: request.scope,
        }),
      }
    },
  )

  app.get(
    '/actions/:id',
    { config: { roles: ROLES_OF.read }, schema: { params: Params, response: { 200: Action } } },
    async (request) => {
      const action = await deps.store.action(request.params.id, request.scope)
      if (!action) throw notFound(`action ${request.params.id}`)
      return action
    },
  )

  const change = (verb: Transition) => async (request: FastifyRequest<{ Params: { id: string } }>) => {
    // Another customer's action is unknown (404), found by a lookup in the request's scope.
    if (!(await deps.store.action(request.params.id, request.scope)))
      throw notFound(`action ${request.params.id}`)
    const result = await deps.store.transition(request.params.id, verb, deps.clock.now(), actor(request))
    if (result === null) throw notFound(`action ${request.params.id}`)
    if ('refused' in result) throw badRequest(result.refused)
    if (result.changed) deps.onActionChanged()
    return result.action
  }
  // A service ticket moves on: support called back, an engineer on site, the device restored, closed.
  app.post(
    '/actions/:id/ticket',
    {
      config: { roles: ROLES_OF.manage },
      schema: {
        params: Params,
        body: Type.Object(
          {
            type: Type.Unsafe<TicketEventType>({ type: 'string', enum: [...TICKET_EVENTS] }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Action },
      },
    },
    async (request) => {
      if (!(await deps.store.action(request.params.id, request.scope)))
        throw notFound(`action ${request.params.id}`)
      const at = deps.clock.now()
      const result = await deps.store.updateTicket(
        request.params.id,
        (ticket) => {
          const step = advance(ticket, { type: request.body.type }, at)
          return step.ok ? { ticket: step.ticket } : { refused: step.reason }
        },
        at,
      )
      if (result === null) throw notFound(`action ${request.params.id}`)
      if ('refused' in result) throw badRequest(result.refused)
      deps.onActionChanged()
      return result.action
    },
  )

  // An ERP reports an order's delivery: shipped (carrier, tracking number), then delivered.
  app.post(
    '/actions/:id/delivery',
    {
      config: { roles: ROLES_OF.staff },
      schema: { params: Params, body: DeliveryReport, response: { 200: Action } },
    },
    async (request) => {
      const now = deps.clock.now()
      const at = request.body.at === undefined ? now : toEpochMs(request.body.at)
      if (!Number.isFinite(at)) throw badRequest(`at: ${request.body.at} is not a real time`)
      const result = await deps.store.updateDelivery(
        request.params.id,
        (delivery) => {
          const step = recordDeliveryStep(delivery, request.body, at)
          return step.ok ? { delivery: step.delivery } : { refused: step.reason }
        },
        now,
      )
      if (result === null) throw notFound(`action ${request.params.id}`)
      if ('refused' in result) throw badRequest(result.refused)
      deps.onActionChanged()
      return result.action
    },
  )

  app.post(
    '/actions/:id/ack',
    { config: { roles: ROLES_OF.work }, schema: { params: Params, response: { 200: Action } } },
    change('ack'),
  )
  app.post(
    '/actions/:id/resolve',
    { config: { roles: ROLES_OF.manage }, schema: { params: Params, response: { 200: Action } } },
    change('resolve'),
  )
}
