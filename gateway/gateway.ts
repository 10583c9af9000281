/**
 * The site gateway: polls its printers over SNMP, spread over the interval with a bounded number at
 * once, maps each answer to the contract's reading and birth, keeps every reading on disk until the
 * broker has acknowledged it, and publishes (QoS 1) births, readings, replays and its own state.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Logger } from 'pino'
import type { Clock } from '../src/clock.ts'
import { parseDuration } from '../src/config/options.ts'
import type { GatewayStatus as GatewayState } from '../src/contract/schemas.ts'
import { Birth, MAX_BATCH, Reading } from '../src/contract/schemas.ts'
import { formatTopic, formatGatewayTopic as gatewayStatusTopic } from '../src/contract/topics.ts'
import { type Pending, ReadingBuffer } from './buffer.ts'
import type { GatewayConfig } from './config.ts'
import { BrokerLink } from './link.ts'
import { mapSnapshot } from './mapping.ts'
import { SYSTEM } from './oids.ts'
import type { Printer } from './printers.ts'
import { type Profile, pickProfile } from './profiles.ts'
import { NoAnswer, readPrinter } from './snmp.ts'

const VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version
export const SOFTWARE = `printwarden-gateway ${VERSION}`

const checkReading = TypeCompiler.Compile(Reading)
const checkBirth = TypeCompiler.Compile(Birth)
/** Readings taken from the buffer at once; each chunk is acknowledged before the next is sent. */
const CHUNK = 10_000

export interface GatewayStats {
  polls: number
  /** Polls that got no answer at all. */
  silent: number
  /** Polls that yielded a reading with warnings. */
  warned: number
  /** Polls skipped because the one before was still running. */
  overran: number
  /** The longest wait of a due poll for a free slot, in ms. */
  maxQueueMs: number
  published: { readings: number; messages: number; arrays: number; births: number }
  pending: number
  dropped: number
}

interface PrinterState {
  printer: Printer
  /** Its poll offset within the interval, so that the polls spread over it. */
  offsetMs: number
  busy: boolean
  timer: NodeJS.Timeout | null
  silentSince: number | null
}

/** A stable fraction in [0, 1) from a device ID: the jitter of its slot. */
function fraction(id: string): number {
  let h = 2166136261
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619)
  return (h >>> 0) / 2 ** 32
}

export class Gateway {
  readonly stats: GatewayStats = {
    polls: 0,
    silent: 0,
    warned: 0,
    overran: 0,
    maxQueueMs: 0,
    published: { readings: 0, messages: 0, arrays: 0, births: 0 },
    pending: 0,
    dropped: 0,
  }
  private readonly buffer: ReadingBuffer
  private readonly link: BrokerLink
  private readonly printers: PrinterState[]
  private readonly statusTopic: string
  private running = 0
  private readonly slots: (() => void)[] = []
  private pumping: Promise<void> | null = null
  private again = false
  private stopped = false
  private readonly idle: (() => void)[] = []

  constructor(
    private readonly config: GatewayConfig,
    printers: readonly Printer[],
    private readonly profiles: readonly Profile[],
    private readonly clock: Clock,
    private readonly log: Logger,
    options: { reconnectMs?: number } = {},
  ) {
    this.buffer = new ReadingBuffer(config.bufferDir, config.bufferMax)
    this.statusTopic = gatewayStatusTopic(config.topicRoot, config.site, config.id)
    this.link = new BrokerLink({
      url: config.broker,
      clientId: `printwarden-gateway-${config.site}-${config.id}`,
      willTopic: this.statusTopic,
      willPayload: JSON.stringify({ state: 'offline' } satisfies GatewayState),
      reconnectMs: options.reconnectMs ?? 1000,
      ...(config.username ? { username: config.username } : {}),
      ...(config.password ? { password: config.password } : {}),
      ...(config.ca ? { ca: config.ca } : {}),
      ...(config.cert ? { cert: config.cert } : {}),
      ...(config.key ? { key: config.key } : {}),
    })
    const n = printers.length
    this.printers = printers.map((printer, i) => ({
      printer,
      offsetMs: Math.floor(((i + fraction(printer.deviceId)) / n) * config.intervalMs),
      busy: false,
      timer: null,
      silentSince: null,
    }))
  }

  /**
   * Opens the buffer and connects. With `schedule` (the default) each printer is polled once per
   * interval at its offset; without, only `pollAll()` polls (a simulation drives it).
   */
  start(schedule = true): void {
    this.buffer.start()
    this.stats.pending = this.buffer.pending
    this.stats.dropped = this.buffer.dropped
    if (this.buffer.pending > 0)
      this.log.info(
        { pending: this.buffer.pending },
        'readings kept from before: sent once the broker is there',
      )
    this.link.connected(() => {
      this.log.info({ broker: this.config.broker }, 'connected to the broker')
      const online: GatewayState = {
        state: 'online',
        ts: new Date(this.clock.now()).toISOString(),
        devices: this.printers.map((p) => p.printer.deviceId),
        software: SOFTWARE,
      }
      this.link.publish(this.statusTopic, JSON.stringify(online), true).catch(() => undefined)
      this.kick()
    })
    this.link.start((err) => this.log.warn({ err: err.message }, 'broker connection'))
    if (!schedule) return
    const t0 = Date.now()
    for (const p of this.printers) {
      const due = t0 + p.offsetMs
      const next = () => {
        if (this.stopped) return
        const late = Date.now()
        if (p.busy) {
          this.stats.overran++
          this.log.warn(
            { deviceId: p.printer.deviceId },
            'the poll before is still running: this one is skipped',
          )
        } else void this.poll(p, late)
        p.timer = setTimeout(
          next,
          this.config.intervalMs - ((Date.now() - t0 - p.offsetMs) % this.config.intervalMs),
        )
      }
      p.timer = setTimeout(next, due - Date.now())
    }
  }

  /** Polls every printer now, within the concurrency limit; resolves once each reading is kept. */
  async pollAll(): Promise<void> {
    await Promise.all(this.printers.map((p) => this.poll(p, Date.now())))
  }

  private async acquire(): Promise<void> {
    if (this.running < this.config.concurrency) {
      this.running++
      return
    }
    await new Promise<void>((resolve) => this.slots.push(resolve))
  }

  private release(): void {
    const next = this.slots.shift()
    if (next) next()
    else this.running--
  }

  private async poll(p: PrinterState, dueAt: number): Promise<void> {
    p.busy = true
    await this.acquire()
    this.stats.maxQueueMs = Math.max(this.stats.maxQueueMs, Date.now() - dueAt)
    try {
      await this.pollOnce(p)
    } catch (err) {
      this.log.error({ deviceId: p.printer.deviceId, err: (err as Error).message }, 'poll failed')
    } finally {
      this.release()
      p.busy = false
    }
  }

  private async pollOnce(p: PrinterState): Promise<void> {
    const { printer } = p
    const timeoutMs = printer.timeout
      ? (parseDuration(printer.timeout) ?? this.config.snmpTimeoutMs)
      : this.config.snmpTimeoutMs
    let profile: Profile | null = null
    let result: Awaited<ReturnType<typeof readPrinter>>
    this.stats.polls++
    try {
      result = await readPrinter(
        {
          printer,
          timeoutMs,
          retries: printer.retries ?? this.config.snmpRetries,
          maxRepetitions: this.config.maxRepetitions,
        },
        (system) => {
          const objectId = system.get(SYSTEM.sysObjectID)
          const descr = system.get(SYSTEM.sysDescr)
          profile = pickProfile(
            this.profiles,
            {
              ...(typeof objectId === 'string' ? { objectId } : {}),
              ...(descr !== undefined ? { descr: String(descr) } : {}),
            },
            printer.profile,
          )
          return [...(profile.counters?.mono ?? []), ...(profile.counters?.color ?? [])]
        },
      )
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err
      this.stats.silent++
      if (p.silentSince === null) p.silentSince = this.clock.now()
      this.log.warn(
        { deviceId: printer.deviceId, host: printer.host, err: err.message },
        'the printer did not answer: tried again at its next poll',
      )
      return
    }
    if (p.silentSince !== null) {
      this.log.info({ deviceId: printer.deviceId }, 'the printer answers again')
      p.silentSince = null
    }
    const ts = new Date(this.clock.now()).toISOString()
    const mapped = mapSnapshot(
      result.snapshot,
      profile ?? pickProfile(this.profiles, {}, printer.profile),
      ts,
    )
    const warnings = [...result.failures, ...mapped.warnings]
    if (warnings.length > 0) {
      this.stats.warned++
      this.log.warn(
        { deviceId: printer.deviceId, warnings },
        'the printer answered in part: published what could be read',
      )
    }
    if (Object.keys(mapped.birth).length > 0 && checkBirth.Check(mapped.birth)) {
      if (this.buffer.setBirth(printer.deviceId, mapped.birth)) this.kick()
    }
    if (!mapped.reading) {
      this.log.warn({ deviceId: printer.deviceId }, 'the answer held no reading')
      return
    }
    if (!checkReading.Check(mapped.reading)) {
      const first = checkReading.Errors(mapped.reading).First()
      this.log.warn(
        { deviceId: printer.deviceId, path: first?.path, problem: first?.message },
        'the reading breaks the contract: not sent',
      )
      return
    }
    const dropped = this.buffer.add(printer.deviceId, mapped.reading)
    if (dropped > 0)
      this.log.warn(
        { dropped, total: this.buffer.dropped },
        'the buffer is full: the oldest readings were dropped',
      )
    this.stats.pending = this.buffer.pending
    this.stats.dropped = this.buffer.dropped
    this.kick()
  }

  /** Sends what waits (births, then readings in order) while the broker is there. */
  private kick(): void {
    if (this.pumping) {
      this.again = true
      return
    }
    this.pumping = this.pump()
      .catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'sending stopped: resumed on reconnect'),
      )
      .finally(() => {
        this.pumping = null
        if (this.again && this.link.isConnected && !this.stopped) {
          this.again = false
          this.kick()
        } else if (this.buffer.pending === 0 || this.stopped) for (const done of this.idle.splice(0)) done()
      })
  }

  private async pump(): Promise<void> {
    while (this.link.isConnected && !this.stopped) {
      this.again = false
      const births = this.buffer.unsentBirths()
      await Promise.all(
        births.map(async (b) => {
          await this.link.publish(
            formatTopic(this.config.topicRoot, this.config.site, b.deviceId, 'birth'),
            b.birth,
            true,
          )
          this.buffer.birthSent(b.deviceId, b.birth)
          this.stats.published.births++
        }),
      )
      const rows = this.buffer.head(CHUNK)
      if (rows.length === 0) return
      const messages = this.messagesOf(rows)
      await Promise.all(
        messages.map(async (m) => {
          await this.link.publish(m.topic, m.payload)
          this.stats.published.messages++
          this.stats.published.readings += m.readings
          if (m.readings > 1) this.stats.published.arrays++
        }),
      )
      this.buffer.acknowledged((rows[rows.length - 1] as Pending).id)
      this.stats.pending = this.buffer.pending
      if (messages.some((m) => m.readings > 1))
        this.log.info({ readings: rows.length, messages: messages.length }, 'replayed buffered readings')
    }
  }

  /** Each device's readings, in order: one alone as an object, several as arrays within the limits. */
  private messagesOf(rows: readonly Pending[]): { topic: string; payload: string; readings: number }[] {
    const byDevice = new Map<string, string[]>()
    for (const r of rows) {
      const list = byDevice.get(r.deviceId)
      if (list) list.push(r.json)
      else byDevice.set(r.deviceId, [r.json])
    }
    const out: { topic: string; payload: string; readings: number }[] = []
    for (const [deviceId, list] of byDevice) {
      const topic = formatTopic(this.config.topicRoot, this.config.site, deviceId, 'telemetry')
      if (list.length === 1) {
        out.push({ topic, payload: list[0] as string, readings: 1 })
        continue
      }
      let chunk: string[] = []
      let bytes = 2
      const flush = () => {
        if (chunk.length > 0) out.push({ topic, payload: `[${chunk.join(',')}]`, readings: chunk.length })
        chunk = []
        bytes = 2
      }
      for (const json of list) {
        if (chunk.length >= MAX_BATCH || bytes + json.length + 1 > this.config.maxPayloadBytes) flush()
        chunk.push(json)
        bytes += json.length + 1
      }
      flush()
    }
    return out
  }

  /** Resolves when every reading kept so far has been acknowledged by the broker. */
  async flush(): Promise<void> {
    if (this.buffer.pending === 0 && !this.pumping) return
    await new Promise<void>((resolve) => {
      this.idle.push(resolve)
      this.kick()
    })
  }

  get pending(): number {
    return this.buffer.pending
  }

  /** Stops polling, publishes `offline` (retained) when connected, disconnects, closes the buffer. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const p of this.printers) if (p.timer) clearTimeout(p.timer)
    await this.pumping?.catch(() => undefined)
    const offline: GatewayState = { state: 'offline', ts: new Date(this.clock.now()).toISOString() }
    await this.link.stop({ topic: this.statusTopic, payload: JSON.stringify(offline) })
    while (this.running > 0) await new Promise((r) => setTimeout(r, 20))
    this.buffer.stop()
  }
}
