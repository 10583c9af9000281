import { Type } from '@sinclair/typebox'
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
      return { items: await deps.store.actions({ ...filters, limit: limit ?? Number.MAX_SAFE_INTEGER }) }
    },
  )

  app.get('/actions/:id', { schema: { params: Params, response: { 200: Action } } }, async (request) => {
    const action = await deps.store.action(request.params.id)
    if (!action) throw notFound(`action ${request.params.id}`)
    return action
  })

  const change = (verb: Transition) => async (request: { params: { id: string } }) => {
    const result = await deps.store.transition(request.params.id, verb, deps.clock.now())
    if (result === null) throw notFound(`action ${request.params.id}`)
    if ('refused' in result) throw badRequest(result.refused)
    if (result.changed) deps.onActionChanged()
    return result.action
  }
  // A service ticket moves on: support called back, an engineer on site, the device restored, closed.
  app.post(
    '/actions/:id/ticket',
    {
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
    { schema: { params: Params, body: DeliveryReport, response: { 200: Action } } },
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

  app.post('/actions/:id/ack', { schema: { params: Params, response: { 200: Action } } }, change('ack'))
  app.post(
    '/actions/:id/resolve',
    { schema: { params: Params, response: { 200: Action } } },
    change('resolve'),
  )
}
