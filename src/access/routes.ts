/**
 * Accounts through the API: an admin manages every account; a customer-admin the customer-user
 * accounts of its own customer (others are 404, absent from its list), and which devices and
 * groups they see.
 */
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import type { App, AppDeps } from '../api/app.ts'
import { Id } from '../contract/schemas.ts'
import { badRequest, notFound } from '../errors.ts'
import { type AccountBook, AccountView, NewAccount } from './accounts.ts'
import { ROLES_OF } from './http.ts'

const Params = Type.Object({ name: Id })
const WithToken = Type.Object({ account: AccountView, token: Type.String() })
const Assignment = Type.Object(
  { devices: Type.Array(Id), groups: Type.Array(Id) },
  { additionalProperties: false },
)

export const accountRoutes = (deps: AppDeps & { accounts: AccountBook }) => async (app: App) => {
  const book = deps.accounts
  /** The customer a customer-admin is limited to; undefined for an admin (or the open mode). */
  const limitOf = (request: FastifyRequest) =>
    request.account?.role === 'customer-admin' ? (request.account.customer ?? '') : undefined

  /** An account the request may manage, or 404. */
  const manageable = (request: FastifyRequest, name: string): AccountView => {
    const account = book.get(name)
    const limit = limitOf(request)
    if (!account || (limit !== undefined && (account.customer !== limit || account.role !== 'customer-user')))
      throw notFound(`account ${name}`)
    return account
  }

  /** A customer-admin assigns only its own customer's devices and groups. */
  const checkAssignment = (customer: string, devices: readonly string[]) => {
    const own = new Set(deps.scope?.sitesOfCustomer(customer) ?? [])
    for (const d of devices) {
      const site = deps.scope?.siteOf(d)
      if (site === undefined || !own.has(site)) throw badRequest(`device ${d} is not a device of ${customer}`)
    }
  }

  app.get(
    '/accounts',
    {
      config: { roles: ROLES_OF.accounts },
      schema: { response: { 200: Type.Object({ items: Type.Array(AccountView) }) } },
    },
    async (request) => {
      const limit = limitOf(request)
      return { items: book.list(limit === undefined ? {} : { customer: limit }) }
    },
  )

  app.post(
    '/accounts',
    { config: { roles: ROLES_OF.accounts }, schema: { body: NewAccount, response: { 201: WithToken } } },
    async (request, reply) => {
      const limit = limitOf(request)
      const body = request.body
      if (limit !== undefined) {
        if (body.role !== 'customer-user')
          throw badRequest('a customer-admin makes customer-user accounts only')
        if (body.customer !== undefined && body.customer !== limit)
          throw badRequest(`customer: a customer-admin of ${limit} makes accounts of ${limit} only`)
        checkAssignment(limit, body.devices ?? [])
      }
      const made = await book.add(limit === undefined ? body : { ...body, customer: limit })
      return reply.status(201).send(made)
    },
  )

  app.delete(
    '/accounts/:name',
    { config: { roles: ROLES_OF.accounts }, schema: { params: Params } },
    async (request, reply) => {
      manageable(request, request.params.name)
      await book.remove(request.params.name)
      return reply.status(204).send()
    },
  )

  app.post(
    '/accounts/:name/rotate',
    { config: { roles: ROLES_OF.accounts }, schema: { params: Params, response: { 200: WithToken } } },
    async (request) => {
      manageable(request, request.params.name)
      return book.rotate(request.params.name)
    },
  )

  app.put(
    '/accounts/:name/assignments',
    {
      config: { roles: ROLES_OF.accounts },
      schema: { params: Params, body: Assignment, response: { 200: AccountView } },
    },
    async (request) => {
      const account = manageable(request, request.params.name)
      checkAssignment(account.customer ?? '', request.body.devices)
      return book.assign(request.params.name, request.body)
    },
  )
}
