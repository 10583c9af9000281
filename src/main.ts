/**
 * The one place that wires IO together. Everything here has start() and stop(); stop() drains in
 * reverse order of start, so in-flight readings finish before the database closes.
 */
import pino, { type Logger } from 'pino'
import { mqttActionSink } from './actions/mqtt-sink.ts'
import { OutboxRelay } from './actions/outbox-relay.ts'
import { Processor } from './actions/processor.ts'
import { type App, buildApp } from './api/app.ts'
import { Broker } from './broker/broker.ts'
import { type Clock, EventClock, wallClock } from './clock.ts'
import type { Config } from './config/config.ts'
import { Ingest } from './ingest/ingest.ts'
import { RuleEvaluator } from './rules/evaluator.ts'
import { loadRuleDir, type RuleSet } from './rules/loader.ts'
import { SqliteStore } from './store/sqlite/sqlite-store.ts'

export interface Service {
  readonly mqttPort: number
  readonly wsPort: number
  readonly httpPort: number
  readonly app: App
  readonly processor: Processor
  stop(): Promise<void>
}

export async function startService(
  config: Config,
  options: { log?: Logger; clock?: Clock } = {},
): Promise<Service> {
  const log = options.log ?? pino({ level: config.logLevel, base: { service: 'printwarden' } })
  // The wall clock times what happens to the service (receipt of a message); the decision clock is
  // "now" for the rules, the same one but for --clock event, where it follows the readings.
  const wall = options.clock ?? wallClock
  const eventClock = config.clock === 'event' ? new EventClock() : undefined
  const clock: Clock = eventClock ?? wall
  const store = new SqliteStore(config.dataDir)

  const ruleSet: RuleSet = await loadRuleDir(config.rulesDir)
  for (const failure of ruleSet.failures)
    log.error({ code: failure.code, file: failure.file }, failure.reason)
  log.info({ rules: ruleSet.rules.map((r) => r.name), failed: ruleSet.failures.length }, 'rules loaded')

  let relay: OutboxRelay | null = null
  const evaluator = new RuleEvaluator(ruleSet.rules, (rule, err) =>
    log.error(
      { code: 'PW_ERR_RULE_RUNTIME', rule, err: err.message },
      'a rule failed while running; it is skipped, the others go on',
    ),
  )
  const processor = new Processor(
    store,
    clock,
    evaluator,
    log,
    () => relay?.poke(),
    eventClock && { clock: eventClock, sweepIntervalMs: config.sweepIntervalMs },
  )
  // In event time the readings define the time: none is "ahead of the clock".
  const parseSettings = eventClock ? { ...config, maxFutureSkewMs: Number.POSITIVE_INFINITY } : config
  const ingest = new Ingest(store, wall, parseSettings, log, () => processor.poke())
  const broker = new Broker({
    log,
    host: config.host,
    mqttPort: config.mqttPort,
    wsPort: config.wsPort,
    gate: ingest.accept,
  })
  relay = new OutboxRelay(store, [mqttActionSink(broker, config.topicRoot)], log)

  let running = false
  const app = buildApp({
    store,
    clock,
    stats: ingest.stats,
    rules: () => ({ ...ruleSet, runtimeErrors: evaluator.runtimeErrors() }),
    progress: () => processor.progress(),
    problems: async () => {
      const problems: string[] = []
      if (!running) problems.push('the service is starting or stopping')
      if (!broker.listening) problems.push('the MQTT broker is not listening')
      if (!processor.running) problems.push('rule processing is stopped')
      await store.ping().catch((err: Error) => problems.push(`the store does not answer: ${err.message}`))
      return problems
    },
    onActionChanged: () => relay?.poke(),
    log,
  })

  await store.start()
  await processor.start()
  await broker.start()
  await relay.start()
  await app.listen({ port: config.httpPort, host: config.host })
  const httpPort = (app.server.address() as import('node:net').AddressInfo).port
  // In event time the processor sweeps as the readings move the clock on.
  const sweeper = eventClock
    ? undefined
    : setInterval(() => {
        processor.sweep().catch((err: unknown) => log.error({ err }, 'sweep failed'))
      }, config.sweepIntervalMs)
  running = true
  log.info(
    {
      mqttPort: broker.mqttPort,
      wsPort: broker.wsPort,
      httpPort,
      host: config.host,
      clock: config.clock,
      dataDir: config.dataDir,
    },
    'printwarden is running',
  )

  let stopping: Promise<void> | null = null
  return {
    mqttPort: broker.mqttPort,
    wsPort: broker.wsPort,
    httpPort,
    app,
    processor,
    stop() {
      stopping ??= (async () => {
        running = false
        clearInterval(sweeper)
        await app.close()
        // Take no new readings, and commit those already taken; then let processing finish and
        // its messages go out while the broker is still up; the database closes last.
        await ingest.stop()
        await processor.stop()
        await relay.stop()
        await broker.stop()
        await store.stop()
        log.info('printwarden stopped')
      })()
      return stopping
    },
  }
}
