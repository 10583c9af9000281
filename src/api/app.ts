import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Ajv } from 'ajv'
import Fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify'
import type { Logger } from 'pino'
import type { AccountBook } from '../access/accounts.ts'
import { httpAccess } from '../access/http.ts'
import type { ConnectionRefusal } from '../access/mqtt.ts'
import type { ScopeSources } from '../access/permissions.ts'
import { accountRoutes } from '../access/routes.ts'
import type { TlsServerOptions } from '../access/tls.ts'
import type { LiveActions } from '../actions/live.ts'
import type { SinkStatus } from '../actions/outbox-relay.ts'
import type { Clock } from '../clock.ts'
import { PrintwardenError } from '../errors.ts'
import type { Refusal } from '../ingest/ingest.ts'
import type { IngestStats } from '../ingest/stats.ts'
import type { InventoryBook } from '../inventory/inventory.ts'
import type { CustomerRequests } from '../requests/requests.ts'
import type { RuleRuntimeError } from '../rules/evaluator.ts'
import type { RuleSet } from '../rules/loader.ts'
import type { SpoolStatus } from '../store/influx/forwarder.ts'
import type { MailRecord } from '../store/sqlite/mail-log.ts'
import type { Store } from '../store/store.ts'
import type { TimeSeries } from '../store/timeseries.ts'
import { actionRoutes } from './actions.ts'
import { consoleRoutes } from './console.ts'
import { deviceRoutes } from './devices.ts'
import { healthRoutes, metricsRoutes } from './health.ts'
import { messageRoutes } from './messages.ts'
import { registerOpenApi } from './openapi.ts'
import { portalRoutes } from './portal.ts'
import { requestRoutes } from './requests.ts'
import { ruleRoutes } from './rules.ts'
import { siteRoutes } from './sites.ts'

export interface AppDeps {
  store: Store
  inventory: InventoryBook
  /** Takes a reading that did not come over MQTT through ingest: the reason it was refused, or null. */
  acceptReading: (siteId: string, deviceId: string, reading: unknown) => Promise<Refusal | null>
  /** Where readings are read from: the store itself, or InfluxDB. */
  timeseries: TimeSeries
  /** With --store influx: the readings waiting for InfluxDB. */
  spool: () => SpoolStatus | undefined
  /** The action sinks (MQTT, InfluxDB, a webhook, email): what each has still to send, and its failures. */
  sinks?: () => Promise<SinkStatus[]>
  clock: Clock
  stats: IngestStats
  rules: () => RuleSet & { runtimeErrors: RuleRuntimeError[] }
  progress: () => Promise<{ position: number; backlog: number; lateReadings: number; sweeps: number }>
  /** What is not running, of broker, store and rules: empty when all are. */
  problems: () => Promise<string[]>
  /** Called after a person changed an action, so its message goes out. */
  onActionChanged: () => void
  log: Logger
  /** The emails about an action, from the mail log. */
  mailMessages?: (actionId: string) => MailRecord[]
  /** Action changes as they are published, for the console's live view. */
  live?: LiveActions
  /** Access: the accounts (none given: open), what a tenant scope is made of, the broker's refusals. */
  accounts?: AccountBook
  scope?: ScopeSources
  access?: () => { connections: number; refused: Record<ConnectionRefusal, number> }
  /** With --tls-cert: the API is HTTPS. */
  https?: TlsServerOptions
  /** What people ask for: service calls, orders, cancelling (the routes exist with it). */
  requests?: CustomerRequests
}

/** Requests are logged once each, when answered, at debug: at info they drown what matters. */
class RequestLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(
    error: Error | null | undefined,
    request: Parameters<LogController['requestCompleted']>[1],
    reply: Parameters<LogController['requestCompleted']>[2],
  ): void {
    if (error) {
      super.requestCompleted(error, request, reply)
      return
    }
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    )
  }
}

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>

/** Builds the HTTP API. It never listens: the caller decides (main.ts, or a test with inject()). */
export function buildApp(deps: AppDeps): App {
  const app = Fastify({
    loggerInstance: deps.log,
    // An unknown query parameter (a misspelt filter) is an error, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    logController: new RequestLog(),
    ...(deps.https ? { https: deps.https } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>()
  // robust: a body is taken as sent ({"contact": 5} is a 400, not "5"); query strings and path
  // parameters are text by nature, so they are still converted (limit=5 is 5).
  const ajvOptions = { useDefaults: true, removeAdditional: false, addUsedSchema: false, allErrors: false }
  const asText = new Ajv({ ...ajvOptions, coerceTypes: 'array' })
  const asSent = new Ajv({ ...ajvOptions, coerceTypes: false })
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? asSent : asText).compile(schema))

  app.setErrorHandler((err: FastifyError | PrintwardenError, request, reply) => {
    if (err instanceof PrintwardenError) {
      return reply.status(err.statusCode).send({ error: err.code, message: err.message })
    }
    if ((err as FastifyError).validation) {
      return reply.status(400).send({ error: 'PW_ERR_BAD_REQUEST', message: err.message })
    }
    const status = (err as FastifyError).statusCode ?? 500
    if (status < 500) return reply.status(status).send({ error: 'PW_ERR_BAD_REQUEST', message: err.message })
    // 5xx: the details go to the log, not to the client.
    request.log.error({ err }, 'request failed')
    return reply
      .status(500)
      .send({ error: 'PW_ERR_INTERNAL', message: 'internal error; see the service log' })
  })
  // The contract writes its filters as `?type=&deviceId=…`: an empty value means no filter.
  app.addHook('preValidation', async (request) => {
    const query = request.query as Record<string, unknown> | undefined
    if (query) for (const [k, v] of Object.entries(query)) if (v === '') delete query[k]
  })
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: 'PW_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url}` }),
  )

  // Access first: its hooks see every route registered after it.
  if (deps.accounts && deps.scope) httpAccess(app, { book: deps.accounts, scope: deps.scope, log: deps.log })
  if (deps.accounts) app.register(accountRoutes({ ...deps, accounts: deps.accounts }))
  registerOpenApi(app as unknown as App)
  app.register(healthRoutes(deps))
  app.register(metricsRoutes(deps))
  app.register(consoleRoutes(deps.live))
  app.register(actionRoutes(deps))
  app.register(deviceRoutes(deps))
  app.register(ruleRoutes(deps))
  app.register(siteRoutes(deps))
  app.register(portalRoutes(deps))
  app.register(messageRoutes(deps))
  if (deps.requests) app.register(requestRoutes({ ...deps, requests: deps.requests }))
  return app as unknown as App
}
