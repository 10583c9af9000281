/**
 * The one place that wires IO together. Every component has start() and stop() (src/lifecycle.ts):
 * they start in the order added here and stop in reverse, so in-flight readings finish before the
 * database closes. They talk through the typed events of src/events.ts; the decision core (the
 * processor and what it knows) is built by src/pipeline/core.ts, as the dry run builds it too.
 */
import type { Logger } from 'pino'
import { AccountBook } from './access/accounts.ts'
import { DeviceSites } from './access/device-sites.ts'
import { hardPacketLimit } from './access/guard.ts'
import { DEFAULT_LIMITS, MqttAccess } from './access/mqtt.ts'
import { isLoopback } from './access/secure-default.ts'
import { TlsFiles } from './access/tls.ts'
import { type EmailSink, emailSink } from './actions/email-sink.ts'
import { LiveActions } from './actions/live.ts'
import { OutboxRelay, type SinkStatus } from './actions/outbox-relay.ts'
import { actionSinks } from './actions/sinks.ts'
import { type App, buildApp } from './api/app.ts'
import { Broker } from './broker/broker.ts'
import { type Clock, EventClock, wallClock } from './clock.ts'
import { type Config, mayCreateDataDir, parseInfluxUrl, supportCalendar } from './config/config.ts'
import { configError } from './errors.ts'
import { ServiceEvents } from './events.ts'
import { Ingest } from './ingest/ingest.ts'
import { InventoryBook } from './inventory/inventory.ts'
import { Components } from './lifecycle.ts'
import { createLogger } from './log.ts'
import { Metrics } from './metrics.ts'
import { NotificationLibrary } from './notify/library.ts'
import { decisionCore } from './pipeline/core.ts'
import type { Processor } from './pipeline/processor.ts'
import { assertPortsFree, portError } from './ports.ts'
import { CustomerRequests } from './requests/requests.ts'
import { RuleLibrary } from './rules/library.ts'
import { InfluxForwarder } from './store/influx/forwarder.ts'
import { InfluxStore } from './store/influx/influx-store.ts'
import { fleetSnapshots } from './store/influx/snapshots.ts'
import { MailLog } from './store/sqlite/mail-log.ts'
import { SqliteStore } from './store/sqlite/sqlite-store.ts'
import type { TimeSeries } from './store/timeseries.ts'

export interface Service {
  readonly mqttPort: number
  readonly wsPort: number
  readonly httpPort: number
  /** With TLS: MQTT over TLS and over secure WebSocket (0 when off). */
  readonly mqttsPort: number
  readonly wssPort: number
  readonly app: App
  readonly processor: Processor
  /**
   * The broker's gate, for a caller in this process (the in-process what-if): a message on a
   * contract topic, as if a client had published it; resolves true once stored, false if refused.
   */
  readonly accept: Ingest['accept']
  /** Every action message, as MQTT subscribers get it. */
  readonly live: Pick<LiveActions, 'subscribe'>
  stop(): Promise<void>
}

export interface StartOptions {
  log?: Logger
  clock?: Clock
  /** false: no fsync (a what-if on a throw-away data directory); nothing survives a crash. */
  durable?: boolean
  /** false: the HTTP API answers `app.inject` only, on no port (httpPort is then 0). */
  listen?: boolean
}

export async function startService(config: Config, options: StartOptions = {}): Promise<Service> {
  const log = options.log ?? createLogger(config.logLevel)
  // Before anything is made on disk: a port in use stops the start with nothing left behind.
  await assertPortsFree(config.host, [
    { port: config.mqttPort, flag: 'mqtt-port' },
    { port: config.wsPort, flag: 'ws-port' },
    { port: config.httpPort, flag: 'http-port' },
    ...(config.tlsCert === ''
      ? []
      : [
          { port: config.mqttsPort, flag: 'mqtts-port' },
          { port: config.wssPort, flag: 'wss-port' },
        ]),
  ])
  // The wall clock times what happens to the service (receipt of a message); the decision clock is
  // "now" for the rules, the same one but for --clock event, where it follows the readings.
  const wall = options.clock ?? wallClock
  const eventClock = config.clock === 'event' ? new EventClock() : undefined
  const clock: Clock = eventClock ?? wall
  // SQLite always holds the journal, device state and the action ledger (one transaction for all of
  // them); the time series of readings is SQLite's too by default, or InfluxDB's.
  const store = new SqliteStore(config.dataDir, options.durable ?? true, { create: mayCreateDataDir(config) })
  const influx = config.store === 'influx' ? new InfluxStore(parseInfluxUrl(config.influxUrl)) : undefined
  const timeseries: TimeSeries = influx ?? store

  const rules = new RuleLibrary(config.rulesDir, log.child({ module: 'rules' }))
  const inventory = new InventoryBook(config.dataDir)
  // Access (src/access): accounts, the device-to-site binding, the broker's hooks and limits, TLS.
  const accounts = new AccountBook(config.dataDir, wall)
  await accounts.load()
  if (accounts.empty && !isLoopback(config.host)) {
    throw configError(
      `--host ${config.host} is not a loopback address, and ${accounts.path} holds no account: with no account the service is open, so it listens on loopback only. Create the first account with \`npm run accounts -- add admin --role admin --data-dir ${config.dataDir}\`, then start again`,
    )
  }
  const tlsFiles =
    config.tlsCert !== ''
      ? new TlsFiles(
          { cert: config.tlsCert, key: config.tlsKey, ca: config.tlsCa },
          log.child({ module: 'tls' }),
        )
      : undefined
  const deviceSites = new DeviceSites(
    (deviceId) => inventory.device(deviceId)?.siteId,
    () => store.devices(),
  )
  const scopeSources = {
    sitesOfCustomer: (c: string) => inventory.sitesOfCustomer(c),
    devicesOfGroups: (c: string, g: readonly string[]) => inventory.devicesOfGroups(c, g),
    siteOf: deviceSites.siteOf,
  }

  // Read at scrape time, once they exist (below).
  const metrics = new Metrics({
    unresolvedActions: () => store.unresolvedCounts(),
    mqttConnections: (): number => broker.connections,
    spool: () => forwarder?.status(),
    sinks: (): Promise<SinkStatus[]> => relay.status(),
    progress: () => processor.progress(),
    ruleDecisions: () => rules.decisions(),
    ruleFiles: () => {
      const view = rules.view()
      return {
        rules: view.rules.length,
        failedFiles: view.failures.length,
        reloadFailures: rules.reloadFailures,
      }
    },
  })
  const events = new ServiceEvents()
  const core = decisionCore({
    store,
    clock,
    eventTime: eventClock && { clock: eventClock, sweepIntervalMs: config.sweepIntervalMs },
    rules: () => rules.current,
    log: log.child({ module: 'processor' }),
    events,
    inventory,
    support: supportCalendar(config),
    timeBatch: () => metrics.timeBatch(),
  })
  const { processor, describe } = core
  const requests = new CustomerRequests({
    store,
    now: () => clock.now(),
    describe,
    monitored: (deviceId) => inventory.device(deviceId)?.monitored !== false,
    rules: () => rules.view().rules,
    processing: processor,
  })
  const forwarder =
    influx &&
    new InfluxForwarder(
      store,
      influx,
      wall,
      log.child({ module: 'influx' }),
      config.spoolMax,
      () => processor.processedUpTo,
    )
  const ingest = new Ingest({
    store,
    // A reading's receipt is when the service learned of it (SLA clocks start there): in event time,
    // the newest instant it had seen, so that a replayed buffer is stamped with simulated time.
    clock: eventClock ?? wall,
    // In event time the readings define the time: none is "ahead of the clock".
    settings: eventClock ? { ...config, maxFutureSkewMs: Number.POSITIVE_INFINITY } : config,
    log: log.child({ module: 'ingest' }),
    events,
    admission: () => forwarder?.full() ?? null,
    stats: metrics.ingest,
    decisionClock: clock,
  })
  events.on('committed', ({ end, births }) => {
    forwarder?.forgetBirths(births)
    forwarder?.poke(end)
  })
  const access = new MqttAccess({
    book: accounts,
    clock: wall,
    log: log.child({ module: 'access' }),
    topicRoot: config.topicRoot,
    limits: {
      ...DEFAULT_LIMITS,
      maxConnections: config.maxConnections,
      maxConnectionsPerAccount: config.maxConnectionsPerAccount,
      maxPacketBytes: hardPacketLimit(config.maxPayloadBytes),
      connectTimeoutMs: config.connectTimeoutMs,
      publishRate: config.publishRate,
      publishBurst: config.publishBurst,
    },
    sitesOfCustomer: scopeSources.sitesOfCustomer,
    siteOf: deviceSites.siteOf,
    bind: deviceSites.bind,
    countRejected: (reason) => {
      ingest.stats.messages.inc()
      ingest.stats.reject(reason)
    },
  })
  const broker = new Broker({
    log: log.child({ module: 'broker' }),
    host: config.host,
    mqttPort: config.mqttPort,
    wsPort: config.wsPort,
    gate: ingest.accept,
    onBadTopicName: (clientId, detail) => ingest.refuseTopicName(clientId, detail),
    access,
    ...(tlsFiles ? { tls: { files: tlsFiles, mqttsPort: config.mqttsPort, wssPort: config.wssPort } } : {}),
  })
  // Email: a sink of its own on the outbox, with its own cursor and backoff, and a mail log in SQLite.
  const mailLog = new MailLog(config.dataDir)
  const notifications = config.smtpUrl
    ? new NotificationLibrary(config.notificationsDir, log.child({ module: 'notify' }))
    : undefined
  const email: EmailSink | undefined =
    notifications &&
    emailSink({
      smtpUrl: config.smtpUrl,
      from: config.mailFrom,
      ...(config.serviceDesk ? { serviceDesk: config.serviceDesk } : {}),
      library: notifications,
      inventory,
      mailLog,
      clock,
      wall,
      log: log.child({ module: 'email' }),
      retry: { initialMs: config.mailRetryMs, maxMs: Math.max(config.mailRetryMs, config.mailRetryMaxMs) },
      digestCheckMs: Math.min(config.sweepIntervalMs, 1000),
    })
  const live = new LiveActions()
  const relay = new OutboxRelay(
    store,
    actionSinks({
      config,
      broker,
      influx,
      email,
      published: (a) => {
        metrics.observeAction(a)
        live.publish(a)
      },
      log,
    }),
    log.child({ module: 'relay' }),
  )
  events.on('actionsWritten', () => relay.poke())
  events.on('actionChanged', () => relay.poke())

  let running = false
  const app = buildApp({
    store,
    inventory,
    acceptReading: (siteId, deviceId, reading) => ingest.acceptReading(siteId, deviceId, reading),
    timeseries,
    clock,
    spool: () => forwarder?.status(),
    sinks: () => relay.status(),
    stats: ingest.stats,
    rules: () => rules.view(),
    progress: () => processor.progress(),
    problems: async () => {
      const problems: string[] = []
      if (!running) problems.push('the service is starting or stopping')
      if (!broker.listening) problems.push('the MQTT broker is not listening')
      if (!processor.running) problems.push('rule processing is stopped')
      if (processor.failing) problems.push(`rule processing fails: ${processor.failing}`)
      await store.ping().catch((err: Error) => problems.push(`the store does not answer: ${err.message}`))
      // robust: after a failed commit (a full disk), one probe write tells whether it takes writes again.
      if (ingest.failing)
        await store.probeWrite().then(
          () => ingest.recovered(),
          (err: Error) => problems.push(`readings are not acknowledged: ${err.message}`),
        )
      const full = forwarder?.full()
      if (full) problems.push(full)
      return problems
    },
    onActionChanged: () => events.emit('actionChanged'),
    log: log.child({ module: 'api' }),
    mailMessages: (actionId) => mailLog.messagesOf(actionId),
    live,
    accounts,
    scope: scopeSources,
    access: () => ({ connections: access.connectionCount, refused: { ...access.refused } }),
    requests,
    ...(tlsFiles ? { https: tlsFiles.options() } : {}),
  })
  if (tlsFiles) tlsFiles.track(app.server as unknown as import('node:https').Server)

  const listen = options.listen ?? true
  let httpPort = 0
  // Started in this order, stopped in reverse: the API closes first; then ingest takes no new
  // readings and commits those taken; processing finishes and its messages go out while the broker
  // is still up; the database closes last.
  const components = new Components(log)
    .add('tls', { start: () => tlsFiles?.start(), stop: () => tlsFiles?.stop() })
    .add('rules', rules)
    .add('notifications', { start: () => notifications?.start(), stop: () => notifications?.stop() })
    .add('inventory', { start: () => inventory.load(), stop: () => core.detach() })
    .add('store', store)
    .add('mail log', mailLog)
    .add('accounts', {
      // After the store, which makes the data directory the accounts file is watched in.
      start: () =>
        accounts.start((err) =>
          log.error({ err }, 'the accounts file changed but cannot be read; the accounts before stay'),
        ),
      stop: () => accounts.stop(),
    })
    .add('device sites', { start: () => deviceSites.start(), stop: () => {} })
    .add('broker', broker)
    .add('influx forwarder', { start: () => forwarder?.start(), stop: () => forwarder?.stop() })
    .add('email', { start: () => email?.start(), stop: () => email?.stop() })
    .add('relay', relay)
    .add('processor', processor)
    .add('ingest', { start: () => {}, stop: () => ingest.stop() })
    .add('sweeps', sweepTimer(eventClock, processor, config.sweepIntervalMs, log))
    .add(
      'fleet snapshots',
      influx
        ? fleetSnapshots({
            influx,
            store,
            clock,
            counts: (now, recent, silent) => processor.fleetCounts(now, recent, silent),
            intervalMs: Math.max(config.sweepIntervalMs, 1000),
            log,
          })
        : { start: () => {}, stop: () => {} },
    )
    .add('api', {
      start: async () => {
        if (!listen) return void (await app.ready())
        await app.listen({ port: config.httpPort, host: config.host }).catch((err: NodeJS.ErrnoException) => {
          throw portError(err, config.host, config.httpPort, 'http-port') ?? err
        })
        httpPort = (app.server.address() as import('node:net').AddressInfo).port
      },
      stop: () => app.close(),
    })
  await components.start()
  running = true
  log.info(
    {
      mqttPort: broker.mqttPort,
      wsPort: broker.wsPort,
      httpPort,
      ...(tlsFiles ? { mqttsPort: broker.mqttsPort, wssPort: broker.wssPort, https: true } : {}),
      accounts: accounts.list().length,
      host: config.host,
      clock: config.clock,
      store: config.store,
      dataDir: config.dataDir,
    },
    'printwarden is running',
  )

  let stopping: Promise<void> | null = null
  return {
    mqttPort: broker.mqttPort,
    wsPort: broker.wsPort,
    httpPort,
    mqttsPort: broker.mqttsPort,
    wssPort: broker.wssPort,
    app,
    processor,
    accept: ingest.accept,
    live,
    stop() {
      stopping ??= (async () => {
        running = false
        await components.stop()
        log.info('printwarden stopped')
      })()
      return stopping
    },
  }
}

/** In wall time, a sweep at every interval; in event time the processor sweeps as the readings move the clock on. */
function sweepTimer(
  eventClock: EventClock | undefined,
  processor: Processor,
  intervalMs: number,
  log: Logger,
) {
  let timer: NodeJS.Timeout | undefined
  return {
    start() {
      if (eventClock) return
      timer = setInterval(() => {
        processor.sweep().catch((err: unknown) => log.error({ err }, 'sweep failed'))
      }, intervalMs)
    },
    stop() {
      clearInterval(timer)
    },
  }
}
