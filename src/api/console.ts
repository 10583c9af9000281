import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import fastifyStatic from '@fastify/static'
import { Type } from '@sinclair/typebox'
import { ROLES_OF } from '../access/http.ts'
import { EVERYTHING, inScope } from '../access/permissions.ts'
import type { LiveActions } from '../actions/live.ts'
import type { App } from './app.ts'

/** Where `npm run build:console` puts the console (console/build.ts). */
export const CONSOLE_DIST = resolve(import.meta.dirname, '../../console/dist')

/** How often an idle event stream gets a comment line, so proxies keep it open. */
const KEEPALIVE_MS = 15_000

/**
 * The console: its page at `/`, its files under `/console/`, served from the package (no CDN, no
 * second server), and `GET /events`, the action changes as server-sent events for its live view.
 */
export const consoleRoutes = (live: LiveActions | undefined) => async (app: App) => {
  const built = existsSync(join(CONSOLE_DIST, 'index.html'))
  if (built) {
    app.register(fastifyStatic, {
      root: CONSOLE_DIST,
      prefix: '/console/',
      decorateReply: false,
      index: false,
    })
  }

  app.get(
    '/',
    {
      schema: {
        produces: ['text/html'],
        response: {
          200: Type.String({ description: 'the console page' }),
          503: Type.Object({ error: Type.String(), message: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      if (!built)
        return reply.status(503).send({
          error: 'PW_ERR_CONSOLE_NOT_BUILT',
          message: 'the console is not built: run npm run build:console (npm ci does it)',
        })
      return reply
        .type('text/html; charset=utf-8')
        .send(readFileSync(join(CONSOLE_DIST, 'index.html'), 'utf8'))
    },
  )

  const streams = new Set<import('node:http').ServerResponse>()
  // Open streams would hold the server's close forever: they end before it.
  app.addHook('preClose', async () => {
    for (const s of streams) s.end()
  })
  app.get(
    '/events',
    {
      // Each account gets the changes of the actions it may see, no others.
      config: { roles: ROLES_OF.read },
      schema: {
        produces: ['text/event-stream'],
        response: {
          200: Type.String({
            description:
              'server-sent events: one `action` event per action change (the action as JSON), as on MQTT',
          }),
        },
      },
    },
    async (request, reply) => {
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      })
      res.write(': printwarden action changes\n\n')
      streams.add(res)
      const scope = request.scope ?? EVERYTHING
      const unsubscribe = live?.subscribe((action) => {
        if (inScope(scope, action.siteId, action.deviceId))
          res.write(`event: action\ndata: ${JSON.stringify(action)}\n\n`)
      })
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS)
      request.raw.once('close', () => {
        clearInterval(keepalive)
        unsubscribe?.()
        streams.delete(res)
      })
    },
  )
}
