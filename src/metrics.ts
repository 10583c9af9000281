/**
 * The service's one Prometheus registry (`GET /metrics`). Counters are moved where things happen
 * (ingest, each action message as it is published); gauges are read from their owners when Prometheus scrapes, so
 * no number is kept twice.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { SinkStatus } from './actions/outbox-relay.ts'
import type { Action } from './contract/schemas.ts'
import { IngestStats } from './ingest/stats.ts'
import type { SpoolStatus } from './store/influx/forwarder.ts'

/** What the gauges read at each scrape. */
export interface MetricSources {
  unresolvedActions: () => Promise<Record<string, number>>
  mqttConnections: () => number
  spool: () => SpoolStatus | undefined
  sinks: () => Promise<SinkStatus[]>
  progress: () => Promise<{ backlog: number; lateReadings: number }>
  ruleFiles: () => { rules: number; failedFiles: number; reloadFailures: number }
  /** Subject instances decided since the start, by subject and by the memo's cases or the engine. */
  ruleDecisions?: () => { subject: string; by: string; count: number }[]
}

export class Metrics {
  readonly registry = new Registry()
  readonly ingest = new IngestStats(this.registry)
  readonly processingSeconds: Histogram
  private readonly processedReadings: Counter
  private readonly actionsCreated: Counter<'type'>
  private readonly actionsChanged: Counter<'type' | 'status'>

  constructor(sources: MetricSources) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.processingSeconds = new Histogram({
      name: 'printwarden_processing_batch_seconds',
      help: 'time to fold one batch of stored readings into device state and run the rules on it',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.processedReadings = new Counter({
      name: 'printwarden_processed_readings_total',
      help: 'readings processed',
      registers,
    })
    this.actionsCreated = new Counter({
      name: 'printwarden_actions_created_total',
      help: 'actions created, by type',
      labelNames: ['type'],
      registers,
    })
    this.actionsChanged = new Counter({
      name: 'printwarden_action_changes_total',
      help: 'action messages published (a creation, a status change or a change of details), by type and status',
      labelNames: ['type', 'status'],
      registers,
    })
    new Gauge({
      name: 'printwarden_actions_unresolved',
      help: 'actions open or acknowledged now, by type',
      labelNames: ['type'],
      registers,
      async collect() {
        this.reset()
        for (const [type, n] of Object.entries(await sources.unresolvedActions())) this.set({ type }, n)
      },
    })
    new Gauge({
      name: 'printwarden_mqtt_connections',
      help: 'MQTT clients connected now (TCP and WebSocket)',
      registers,
      collect() {
        this.set(sources.mqttConnections())
      },
    })
    new Gauge({
      name: 'printwarden_spool_readings',
      help: 'with --store influx: readings waiting for InfluxDB (0 without)',
      registers,
      collect() {
        this.set(sources.spool()?.pending ?? 0)
      },
    })
    new Gauge({
      name: 'printwarden_spool_max_readings',
      help: 'with --store influx: readings that may wait before ingest stops acknowledging',
      registers,
      collect() {
        this.set(sources.spool()?.max ?? 0)
      },
    })
    new Gauge({
      name: 'printwarden_sink_pending_messages',
      help: 'action messages an action sink (mqtt, influx, webhook, email) has not sent yet, by sink',
      labelNames: ['sink'],
      registers,
      async collect() {
        for (const s of await sources.sinks()) this.set({ sink: s.name }, s.pending)
      },
    })
    new Gauge({
      name: 'printwarden_sink_failing',
      help: 'failures in a row of an action sink now (0 while it works); it is retried with a growing wait',
      labelNames: ['sink'],
      registers,
      async collect() {
        for (const s of await sources.sinks()) this.set({ sink: s.name }, s.failures)
      },
    })
    new Counter({
      name: 'printwarden_sink_failures_total',
      help: 'sends of an action sink that failed and were retried, by sink',
      labelNames: ['sink'],
      registers,
      async collect() {
        this.reset()
        for (const s of await sources.sinks()) this.inc({ sink: s.name }, s.failuresTotal)
      },
    })
    new Gauge({
      name: 'printwarden_processing_backlog_readings',
      help: 'readings stored but not yet processed by the rules: the processing lag',
      registers,
      async collect() {
        this.set((await sources.progress()).backlog)
      },
    })
    new Gauge({
      name: 'printwarden_processing_late_readings',
      help: "readings older than their device's newest, stored for history and decided nothing",
      registers,
      async collect() {
        this.set((await sources.progress()).lateReadings)
      },
    })
    new Gauge({
      name: 'printwarden_rules_loaded',
      help: 'rules running now',
      registers,
      collect() {
        this.set(sources.ruleFiles().rules)
      },
    })
    new Gauge({
      name: 'printwarden_rule_files_failed',
      help: 'rule files whose current version failed to load',
      registers,
      collect() {
        this.set(sources.ruleFiles().failedFiles)
      },
    })
    new Counter({
      name: 'printwarden_rule_decisions_total',
      help: 'subject instances the rules decided, by subject and by "memo" (a case decided before) or "engine" (a run)',
      labelNames: ['subject', 'by'],
      registers,
      collect() {
        this.reset()
        for (const d of sources.ruleDecisions?.() ?? []) this.inc({ subject: d.subject, by: d.by }, d.count)
      },
    })
    new Counter({
      name: 'printwarden_rule_reload_failures_total',
      help: 'rule file versions that failed to load (the last good version keeps running)',
      registers,
      collect() {
        this.reset()
        this.inc(sources.ruleFiles().reloadFailures)
      },
    })
  }

  /**
   * Actions seen open, forgotten once resolved: bounded by the actions not resolved. A new action
   * is the first message of an open one, and the ledger stamps its updatedAt with its createdAt
   * (that alone is not enough in event time, where a change may come at the same instant).
   */
  private readonly openSeen = new Set<string>()

  /** Counts one action message as it is published: one per creation or change. */
  observeAction(action: Action): void {
    const { type, status } = action
    this.actionsChanged.inc({ type, status })
    if (status === 'open' && !this.openSeen.has(action.id) && action.createdAt === action.updatedAt)
      this.actionsCreated.inc({ type })
    if (status === 'resolved') this.openSeen.delete(action.id)
    else this.openSeen.add(action.id)
  }

  /** Times one batch; the caller says how many readings it held when it is done. */
  timeBatch(): (readings: number) => void {
    const end = this.processingSeconds.startTimer()
    return (readings) => {
      end()
      this.processedReadings.inc(readings)
    }
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
