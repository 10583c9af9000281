/**
 * The API's access: one hook that reads `Authorization: Bearer TOKEN`, finds the account, checks the
 * route's declared roles and sets the request's tenant scope, which the routes hand to the store.
 * Each route declares its roles in `config.roles`; they are copied into its schema (`x-roles`), so
 * the OpenAPI document shows them. A route that declares none is for admins only.
 */

import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { App } from '../api/app.ts'
import { isPublicRoute } from '../api/openapi.ts'
import { PrintwardenError } from '../errors.ts'
import type { AccountBook, AccountView, Role } from './accounts.ts'
import { EVERYTHING, type Scope, type ScopeSources, scopeOf } from './permissions.ts'

/** Who may use a route: roles, or `public` (no token: /health, /openapi.json, /docs, the console). */
export type RouteRoles = readonly Role[] | 'public'

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: RouteRoles
  }
  interface FastifyRequest {
    /** The account behind the request; null in the open mode (no account exists) and on public routes. */
    account: AccountView | null
    /** What of the fleet the request may see: the store and the inventory apply it in their queries. */
    scope: Scope
  }
}

/** The role sets the routes use. `admin` may use every route. */
export const ROLES_OF = {
  public: 'public',
  /** Reading the fleet: devices, readings, actions, reports. */
  read: ['admin', 'operator', 'customer-admin', 'customer-user'],
  /** What a site's people do with their actions: acknowledge, meter readings, stock counts. */
  work: ['admin', 'operator', 'customer-admin', 'customer-user'],
  /** What the provider's staff and a customer's admin do: resolve, tickets, requests. */
  manage: ['admin', 'operator', 'customer-admin'],
  /** The provider's own: inventory, rules, service statistics. */
  staff: ['admin', 'operator'],
  metrics: ['admin', 'operator', 'monitor'],
  accounts: ['admin', 'customer-admin'],
  admin: ['admin'],
} as const satisfies Record<string, RouteRoles>

const DEFAULT_ROLES: RouteRoles = ROLES_OF.admin

const unauthorized = () =>
  new PrintwardenError(
    'PW_ERR_UNAUTHORIZED',
    'send Authorization: Bearer TOKEN with the token of an account',
    401,
  )
const forbidden = (role: string, method: string, url: string) =>
  new PrintwardenError('PW_ERR_FORBIDDEN', `a ${role} account may not use ${method} ${url}`, 403)

export interface HttpAccessDeps {
  book: AccountBook
  scope: ScopeSources
  log: Logger
}

/** Registers the access hook on an app (before its routes, so that each route's roles are seen). */
export function httpAccess(app: App, deps: HttpAccessDeps): void {
  app.decorateRequest('account', null)
  app.decorateRequest('scope', null as unknown as Scope)
  // The roles of each route go into its schema too, for the OpenAPI document.
  app.addHook('onRoute', (route) => {
    // The API's description and the console's page and files are public (CONTRACT.md, Access);
    // @fastify/swagger-ui and @fastify/static declare their routes themselves, so they are named here.
    const declared = (route.config as { roles?: RouteRoles } | undefined)?.roles
    const roles = declared ?? (isPublicRoute(route.url) ? ROLES_OF.public : DEFAULT_ROLES)
    route.config = { ...(route.config ?? {}), roles } as typeof route.config
    route.schema = { ...(route.schema ?? {}), 'x-roles': roles } as typeof route.schema
  })
  app.addHook('onRequest', async (request: FastifyRequest) => {
    request.scope = EVERYTHING
    const roles = request.routeOptions.config?.roles ?? DEFAULT_ROLES
    if (roles === 'public' || deps.book.empty) return
    const header = request.headers.authorization
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null
    const account = m ? await deps.book.verify(m[1] as string) : null
    if (!account) throw unauthorized()
    if (account.role !== 'admin' && !roles.includes(account.role))
      throw forbidden(account.role, request.method, request.routeOptions.url ?? request.url)
    request.account = account
    request.scope = scopeOf(account, deps.scope)
  })
  // The audit trail: every change a person makes names its account in the log.
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400) return
    deps.log.info(
      {
        audit: true,
        account: request.account?.name ?? null,
        role: request.account?.role ?? null,
        method: request.method,
        route: request.routeOptions.url,
        params: request.params,
        status: reply.statusCode,
      },
      'change made',
    )
  })
}

/** The name an action's history records for a request: its account, or `anonymous` in the open mode. */
export function actor(request: FastifyRequest): string {
  return request.account?.name ?? 'anonymous'
}
