/**
 * Requests people make through the API (and the console): a service call for a device, an order of
 * toner or a waste box, and cancelling either. What they become is `src/requests/`'s.
 */
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { actor, ROLES_OF } from '../access/http.ts'
import { Action, COLOR_PATTERN, Id } from '../contract/schemas.ts'
import { badRequest, notFound } from '../errors.ts'
import { type CustomerRequests, ORDER_TYPES } from '../requests/requests.ts'
import type { App, AppDeps } from './app.ts'

const DeviceParams = Type.Object({ deviceId: Id })
const ActionParams = Type.Object({ id: Type.String({ minLength: 1 }) })

/** At most this many of one item in one order: more is a typing error, not an order. */
export const MAX_ORDER_QUANTITY = 50

export const ServiceCallBody = Type.Object(
  {
    description: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'what is wrong, in the words of the person',
    }),
    stopped: Type.Optional(
      Type.Boolean({
        description: 'true: the device prints nothing (an engineer comes on site); false or absent: degraded',
      }),
    ),
  },
  { additionalProperties: false },
)

export const OrderBody = Type.Object(
  {
    item: Type.Unsafe<keyof typeof ORDER_TYPES>({ type: 'string', enum: Object.keys(ORDER_TYPES) }),
    color: Type.Optional(
      Type.String({ pattern: COLOR_PATTERN, description: 'the toner colour; not for a waste box' }),
    ),
    quantity: Type.Integer({ minimum: 1, maximum: MAX_ORDER_QUANTITY }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    extra: Type.Optional(
      Type.Boolean({ description: 'one more for the shelf, beside the order of the cartridge in use' }),
    ),
  },
  { additionalProperties: false },
)

export const CancelBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) },
  { additionalProperties: false },
)

/** The roles that may cancel what anyone asked for; a site's user cancels only its own. */
const CANCELS_ANY: readonly string[] = ROLES_OF.manage

export const requestRoutes = (deps: AppDeps & { requests: CustomerRequests }) => async (app: App) => {
  /** The device, in the request's scope: known to the inventory or heard from; else 404. */
  const deviceOf = async (deviceId: string, scope: FastifyRequest['scope']) => {
    const siteId =
      deps.inventory.deviceInScope(deviceId, scope)?.siteId ??
      (await deps.store.device(deviceId, scope))?.siteId
    if (siteId === undefined) throw notFound(`device ${deviceId}`)
    return { deviceId, siteId }
  }
  // The account behind the request (`anonymous` in the open mode), as the action's history names it.
  const by = actor

  app.post(
    '/devices/:deviceId/service-requests',
    {
      config: { roles: ROLES_OF.work },
      schema: {
        params: DeviceParams,
        body: ServiceCallBody,
        response: { 200: Action, 201: Action },
        description:
          'A person opens a service call: a service-request ticket with the SLA clocks of a fault (201). With a ticket open on the device already, the call joins it (200, that ticket).',
      },
    },
    async (request, reply) => {
      const device = await deviceOf(request.params.deviceId, request.scope)
      const { action, joined } = await deps.requests.serviceCall(device, request.body, by(request))
      deps.onActionChanged()
      return reply.status(joined ? 200 : 201).send(action)
    },
  )

  app.post(
    '/devices/:deviceId/orders',
    {
      config: { roles: ROLES_OF.work },
      schema: {
        params: DeviceParams,
        body: OrderBody,
        response: { 201: Action },
        description:
          'A person orders toner of a colour or a waste box: an order with its expected delivery and delivery steps. A part with an open order is refused unless extra.',
      },
    },
    async (request, reply) => {
      const device = await deviceOf(request.params.deviceId, request.scope)
      const result = await deps.requests.order(device, request.body, by(request))
      if ('refused' in result) throw badRequest(result.refused)
      deps.onActionChanged()
      return reply.status(201).send(result.action)
    },
  )

  app.post(
    '/actions/:id/cancel',
    {
      config: { roles: ROLES_OF.work },
      // The body is optional: a cancel without a reason may send none.
      preValidation: async (request) => {
        request.body ??= {}
      },
      schema: {
        params: ActionParams,
        body: CancelBody,
        response: { 200: Action },
        description:
          'Cancels an order not yet shipped, or a service call not yet worked on: resolved, with details.resolution "cancelled", by whom and why.',
      },
    },
    async (request) => {
      const { id } = request.params
      if (!(await deps.store.action(id, request.scope))) throw notFound(`action ${id}`)
      const account = request.account
      const ownOnly = account !== null && !CANCELS_ANY.includes(account.role)
      const result = await deps.requests.cancel(id, by(request), request.body.reason, ownOnly)
      if (result === null) throw notFound(`action ${id}`)
      if ('refused' in result) throw badRequest(result.refused)
      deps.onActionChanged()
      return result.action
    },
  )
}
