import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import { formatTopic } from '../contract/topics.ts'
import type { Reading } from '../domain/reading.ts'
import { PrintwardenError, type RejectReason, stopping } from '../errors.ts'
import type { ServiceEvents } from '../events.ts'
import type { BirthRecord, GatewayUpdate, Store } from '../store/store.ts'
import { type Parsed, type ParseSettings, parseMessage } from './parse.ts'
import { IngestStats } from './stats.ts'

export interface Refusal {
  reason: RejectReason
  detail: string
}

interface Pending {
  readings: Reading[]
  births: BirthRecord[]
  gateways?: GatewayUpdate[]
  done: (err?: Error) => void
}

export interface IngestOptions {
  store: Store
  /** The time of receipt: when the service learned of a message. */
  clock: Clock
  settings: ParseSettings
  log: Logger
  /** Told `committed` after each commit that stored something new. */
  events?: ServiceEvents
  /**
   * Why no more readings can be taken now (a full spool), or null. Such a message gets no PUBACK:
   * the client is disconnected and sends it again later, as MQTT 3.1.1 has no negative ack.
   */
  admission?: () => string | null
  /** Ingest's counters, in the service's metrics registry. */
  stats?: IngestStats
  /** "Now" of the decisions (event time follows the readings): the time of a gateway's will. */
  decisionClock?: Clock
}

/** Past this many devices, a gateway's list of devices it published for grows no more. */
const MAX_PUBLISHED_FOR = 10_000

/**
 * Validates each inbound message and stores what is valid before the broker acknowledges it. Writes
 * are grouped: every message that arrives while a commit is being prepared joins the same commit,
 * so one fsync covers many messages and throughput survives durability.
 */
export class Ingest {
  private queue: Pending[] = []
  private flushing: Promise<void> | null = null
  private stopped = false
  private storageFailure: string | null = null
  /** Which gateway each MQTT client spoke for in its status, and the devices it published for since. */
  private readonly gatewayOfClient = new Map<
    string,
    { siteId: string; gatewayId: string; devices: Set<string> }
  >()

  private readonly store: Store
  private readonly clock: Clock
  private readonly settings: ParseSettings
  private readonly log: Logger
  private readonly events: ServiceEvents | undefined
  private readonly admission: () => string | null
  /** Ingest's counters, in the service's metrics registry. */
  readonly stats: IngestStats
  private readonly decisionClock: Clock

  constructor(o: IngestOptions) {
    this.store = o.store
    this.clock = o.clock
    this.settings = o.settings
    this.log = o.log
    this.events = o.events
    this.admission = o.admission ?? (() => null)
    this.stats = o.stats ?? new IngestStats()
    this.decisionClock = o.decisionClock ?? o.clock
  }

  /**
   * The broker's gate: true once stored, false when rejected. `clientId`: the MQTT client that sent
   * it.
   */
  readonly accept = (topic: string, payload: Buffer, retain = false, clientId?: string): Promise<boolean> => {
    const answered = this.stats.gateSeconds.startTimer()
    const parsed = parseMessage(
      this.settings,
      topic,
      payload,
      this.clock.now(),
      retain,
      this.decisionClock.now(),
    )
    const taken = this.take(topic, parsed, this.gatewayUpdate(parsed, clientId)).then(
      (refused) => refused === null,
    )
    taken.then(
      () => answered(),
      () => answered(),
    )
    return taken
  }
  /**
   * A gateway's state names its client; the telemetry that client sends tells which devices the
   * gateway publishes for (for a gateway whose state names none).
   */
  private gatewayUpdate(parsed: Parsed, clientId: string | undefined): GatewayUpdate | undefined {
    if (clientId === undefined) return undefined
    if (parsed.kind === 'gateway') {
      const known = this.gatewayOfClient.get(clientId)
      const same = known?.siteId === parsed.siteId && known.gatewayId === parsed.gatewayId
      if (parsed.status.state === 'online' && !same)
        this.gatewayOfClient.set(clientId, {
          siteId: parsed.siteId,
          gatewayId: parsed.gatewayId,
          devices: new Set(),
        })
      if (parsed.status.state === 'offline' && same) this.gatewayOfClient.delete(clientId)
      return undefined
    }
    if (parsed.kind !== 'telemetry') return undefined
    const gateway = this.gatewayOfClient.get(clientId)
    if (!gateway || gateway.devices.has(parsed.deviceId) || gateway.devices.size >= MAX_PUBLISHED_FOR)
      return undefined
    gateway.devices.add(parsed.deviceId)
    return { siteId: gateway.siteId, gatewayId: gateway.gatewayId, publishedFor: [...gateway.devices] }
  }

  /**
   * A reading that did not come over MQTT (a meter reading typed in by the site): the same checks
   * as a telemetry message of that device, the same commit, the same journal. Resolves with the
   * reason it was refused, or null once it is stored.
   */
  acceptReading(siteId: string, deviceId: string, reading: unknown): Promise<Refusal | null> {
    const topic = formatTopic(this.settings.topicRoot, siteId, deviceId, 'telemetry')
    return this.take(
      topic,
      parseMessage(this.settings, topic, Buffer.from(JSON.stringify(reading)), this.clock.now()),
    )
  }

  /**
   * robust: a PUBLISH the broker itself refused before any hook (a topic name with `+` or `#`, or
   * deeper than its level limit): aedes closes that connection; here it is counted and logged.
   */
  refuseTopicName(clientId: string, detail: string): void {
    this.stats.messages.inc()
    this.stats.reject('bad-topic-name')
    this.log.warn({ client: clientId, reason: 'bad-topic-name', detail }, 'message rejected')
  }

  private take(topic: string, parsed: Parsed, gateway?: GatewayUpdate): Promise<Refusal | null> {
    this.stats.messages.inc()
    if (parsed.kind === 'rejected') {
      this.stats.reject(parsed.reason)
      this.log.warn({ topic, reason: parsed.reason, detail: parsed.detail }, 'message rejected')
      return Promise.resolve({ reason: parsed.reason, detail: parsed.detail })
    }
    if (this.stopped) return Promise.reject(stopping())
    if (parsed.kind === 'telemetry') {
      const refused = this.admission()
      if (refused !== null) {
        this.stats.refused.inc()
        return Promise.reject(new PrintwardenError('PW_ERR_SPOOL_FULL', refused, 503))
      }
    }
    const gateways: GatewayUpdate[] = gateway ? [gateway] : []
    if (parsed.kind === 'gateway')
      gateways.push({ siteId: parsed.siteId, gatewayId: parsed.gatewayId, status: parsed.status })
    const entry =
      parsed.kind === 'birth'
        ? {
            readings: [],
            births: [{ siteId: parsed.siteId, deviceId: parsed.deviceId, birth: parsed.birth }],
            gateways,
          }
        : { readings: parsed.kind === 'telemetry' ? parsed.readings : [], births: [], gateways }
    return new Promise<Refusal | null>((resolve, reject) => {
      this.queue.push({ ...entry, done: (err) => (err ? reject(err) : resolve(null)) })
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.flushing) return
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush())
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      const readings = batch.flatMap((p) => p.readings)
      const births = batch.flatMap((p) => p.births)
      const gateways = batch.flatMap((p) => p.gateways ?? [])
      try {
        const result = await this.store.ingest(readings, births, this.clock.now(), gateways)
        this.stats.readingsStored.inc(result.stored)
        this.stats.duplicates.inc(result.duplicates)
        this.stats.births.inc(births.length)
        this.storageFailure = null
        for (const p of batch) p.done()
        if (result.stored > 0 || births.length > 0 || gateways.length > 0)
          this.events?.emit('committed', {
            end: result.end,
            births: births.map((b) => b.deviceId),
            gateways: gateways.length > 0,
          })
      } catch (err) {
        this.storageFailure = (err as Error).message
        this.log.error(
          { err, code: (err as PrintwardenError).code, messages: batch.length },
          `could not store readings, none of them acknowledged; clients will send them again: ${this.storageFailure}`,
        )
        for (const p of batch) p.done(err as Error)
      }
    }
    this.flushing = null
  }

  /** Why the last commit failed (a full or read-only disk), until a commit succeeds again; else null. */
  get failing(): string | null {
    return this.storageFailure
  }

  /** The store took a write again (a probe from /health): readings are acknowledged again. */
  recovered(): void {
    this.storageFailure = null
    this.events?.emit('storeRecovered')
  }

  /** Refuses new messages and waits until every message already taken is committed. */
  async stop(): Promise<void> {
    this.stopped = true
    while (this.flushing) await this.flushing
  }
}
