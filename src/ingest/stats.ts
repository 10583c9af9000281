import { Counter, Histogram, Registry } from 'prom-client'
import { type RejectReason, RejectReasons } from '../errors.ts'

/**
 * What ingest did, kept as Prometheus counters in the service's one registry: `GET /metrics` shows
 * them as they are, and `GET /stats` is read from the same counters, so the two never disagree.
 */
export class IngestStats {
  readonly messages: Counter
  readonly readingsStored: Counter
  readonly duplicates: Counter
  readonly births: Counter
  /** Valid messages not acknowledged because the spool for InfluxDB was full. */
  readonly refused: Counter
  readonly rejected: Counter<'reason'>
  /** From a PUBLISH reaching the gate to its answer: the PUBACK waits for this (the commit). */
  readonly gateSeconds: Histogram

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry]
    this.messages = new Counter({
      name: 'printwarden_mqtt_messages_total',
      help: 'inbound messages on the contract topics, valid or not (and readings typed in through the API)',
      registers,
    })
    this.readingsStored = new Counter({
      name: 'printwarden_readings_accepted_total',
      help: 'readings stored',
      registers,
    })
    this.duplicates = new Counter({
      name: 'printwarden_readings_duplicate_total',
      help: 'readings dropped as duplicates (same device and seq, or same device and ts)',
      registers,
    })
    this.births = new Counter({ name: 'printwarden_births_total', help: 'birth messages stored', registers })
    this.refused = new Counter({
      name: 'printwarden_readings_refused_total',
      help: 'valid messages left unacknowledged because the spool for InfluxDB was full',
      registers,
    })
    this.rejected = new Counter({
      name: 'printwarden_messages_rejected_total',
      help: 'messages rejected, by reason',
      labelNames: ['reason'],
      registers,
    })
    // Every reason is there from the start, at 0: a rate over a series that appears late is wrong.
    for (const reason of RejectReasons) this.rejected.inc({ reason }, 0)
    this.gateSeconds = new Histogram({
      name: 'printwarden_puback_latency_seconds',
      help: 'from an inbound PUBLISH to its answer (stored or rejected), which the PUBACK waits for',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    })
  }

  reject(reason: RejectReason): void {
    this.rejected.inc({ reason })
  }

  /** The counters as `GET /stats` shows them, read from the registry. */
  async toJSON() {
    const value = async (c: Counter) => (await c.get()).values[0]?.value ?? 0
    const rejected = Object.fromEntries(RejectReasons.map((r) => [r, 0])) as Record<RejectReason, number>
    for (const v of (await this.rejected.get()).values) rejected[v.labels.reason as RejectReason] = v.value
    return {
      messages: await value(this.messages),
      readingsStored: await value(this.readingsStored),
      duplicates: await value(this.duplicates),
      births: await value(this.births),
      refused: await value(this.refused),
      rejected,
      rejectedTotal: Object.values(rejected).reduce((a, b) => a + b, 0),
    }
  }
}
