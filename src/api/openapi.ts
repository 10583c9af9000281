import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import pkg from '../../package.json' with { type: 'json' }
import type { App } from './app.ts'

/**
 * Routes anyone may call without a token (CONTRACT.md, Access): the health check for load
 * balancers, the description of the API itself, and the console's page and files.
 */
export const PUBLIC_ROUTES: readonly string[] = ['/health', '/openapi.json', '/docs', '/']

export const isPublicRoute = (url: string): boolean =>
  PUBLIC_ROUTES.includes(url) || url.startsWith('/docs/') || url.startsWith('/console/')

/**
 * OpenAPI 3 at /openapi.json and a page to browse it at /docs, both generated from the TypeBox
 * schemas each route already validates with, so the description cannot drift from the code.
 * Registered before the routes: @fastify/swagger collects them as they are added.
 */
export function registerOpenApi(app: App): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'printwarden',
        version: pkg.version,
        description:
          'The HTTP API of printwarden: devices, readings, rules and the actions they lead to. ' +
          'The MQTT side is described by docs/asyncapi.json.',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'an account token (CONTRACT.md, Access); with no account the service runs open',
          },
        },
      },
    },
    // Every route but the public ones is declared behind the bearer token. While no account
    // exists the service runs open, so the empty alternative (`{}`) is listed too.
    transform: ({ schema, url }) => {
      const transformed = { ...(schema ?? {}) } as Record<string, unknown>
      transformed.security = isPublicRoute(url) ? [] : [{ bearer: [] }, {}]
      return { schema: transformed as never, url }
    },
  })
  app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } })
  app.register(async (scoped) => {
    scoped.get('/openapi.json', async () => scoped.swagger())
  })
}
