/**
 * `--in-process`: the service's core in this process, in event time, on a throw-away data
 * directory without fsync, and no socket between it and the simulator. The gateways hand their
 * messages to the broker's gate (the same parse, checks, commit and journal as over MQTT), the
 * closed loop hears the actions the MQTT subscribers would, and the lockstep and the deliveries go
 * through the API's own routes by `inject`. What an operator runs before deploying a rule change.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pino from 'pino'
import { buildConfig } from '../src/config/config.ts'
import type { Action, GatewayStatus } from '../src/contract/schemas.ts'
import { formatGatewayTopic } from '../src/contract/topics.ts'
import { type Service, startService } from '../src/main.ts'
import { SimulatorError } from './errors.ts'

/** The service's API as the runner asks it: JSON in, JSON out. */
export interface ServiceApi {
  get<T>(path: string): Promise<T>
  post(path: string, body: unknown): Promise<{ ok: boolean; status: number }>
}

/** One site gateway's way to the service: over MQTT (GatewayLink) or in process (below). */
export interface Link {
  connect(): void
  publish(topic: string, payload: string, retain: boolean, readings?: number): Promise<void> | undefined
  drain(): Promise<void>
  drop(): Promise<void>
  close(): Promise<void>
  readonly publishErrors: number
  readonly resent: number
  readonly connectionErrors: number
  readonly acknowledgedReadings: number
}

/** The closed loop's ear: MQTT's ActionListener, or the service's own action messages. */
export interface Listener {
  start(): Promise<void>
  stop(): Promise<void>
  readonly invalid: number
}

export interface InProcessOptions {
  rulesDir: string
  /** Told what the service says of the rule files (a replaced fact, no rules at all). */
  log?: (line: string) => void
  sweepIntervalMs: number
  topicRoot: string
  clientPrefix: string
  window: number
}

const ROOT = resolve(import.meta.dirname, '..')
export const SHIPPED_RULES = join(ROOT, 'rules')

/** A gateway that hands its messages to the service's gate, with at most `window` of them in flight. */
class InProcessLink implements Link {
  private inflight = 0
  private readonly waiters: (() => void)[] = []
  private readonly idle: (() => void)[] = []
  publishErrors = 0
  readonly resent = 0
  readonly connectionErrors = 0
  acknowledgedReadings = 0

  constructor(
    private readonly service: Service,
    private readonly options: InProcessOptions,
    readonly siteId: string,
    readonly gatewayId: string,
    private readonly devices: readonly string[],
  ) {}

  private get clientId(): string {
    return `${this.options.clientPrefix}-${this.gatewayId}`
  }

  private get statusTopic(): string {
    return formatGatewayTopic(this.options.topicRoot, this.siteId, this.gatewayId)
  }

  /** As a connection does: the gateway says online, retained. */
  connect(): void {
    const online: GatewayStatus = {
      state: 'online',
      devices: [...this.devices],
      software: 'printwarden-simulator',
    }
    this.send(this.statusTopic, JSON.stringify(online), true, 0)
  }

  publish(topic: string, payload: string, retain: boolean, readings = 0): Promise<void> | undefined {
    if (this.inflight < this.options.window) {
      this.send(topic, payload, retain, readings)
      return undefined
    }
    return (async () => {
      while (this.inflight >= this.options.window) await new Promise<void>((r) => this.waiters.push(r))
      this.send(topic, payload, retain, readings)
    })()
  }

  private send(topic: string, payload: string, retain: boolean, readings: number): void {
    this.inflight++
    this.service.accept(topic, Buffer.from(payload), retain, this.clientId).then(
      // Taken or refused, it is answered, as a PUBACK answers both.
      () => {
        this.acknowledgedReadings += readings
        this.settled()
      },
      () => {
        this.publishErrors++
        this.settled()
      },
    )
  }

  private settled(): void {
    this.inflight--
    this.waiters.shift()?.()
    if (this.inflight === 0) for (const done of this.idle.splice(0)) done()
  }

  async drain(): Promise<void> {
    if (this.inflight === 0) return
    await new Promise<void>((r) => this.idle.push(r))
  }

  /** The network goes: what was sent is taken first, then the broker's will says offline. */
  async drop(): Promise<void> {
    await this.drain()
    const offline: GatewayStatus = { state: 'offline' }
    this.send(this.statusTopic, JSON.stringify(offline), true, 0)
    await this.drain()
  }

  close(): Promise<void> {
    return this.drain()
  }
}

/** The service in this process, and the simulator's links, listener and API on it. */
export interface InProcessService {
  service: Service
  links(sites: readonly { siteId: string; gatewayId: string; devices: readonly string[] }[]): Link[]
  listener(onAction: (action: Action, receivedAt: number) => void): Listener
  api: ServiceApi
  stop(): Promise<void>
}

export async function startInProcess(options: InProcessOptions): Promise<InProcessService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'printwarden-what-if-'))
  let service: Service
  try {
    const config = buildConfig({
      flags: {
        dataDir,
        rulesDir: options.rulesDir,
        clock: 'event',
        sweepIntervalMs: String(options.sweepIntervalMs),
        topicRoot: options.topicRoot,
        mqttPort: '-1',
        wsPort: '-1',
        httpPort: '0',
      },
    })
    service = await startService(config, { log: pino({ level: 'silent' }), durable: false, listen: false })
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true })
    throw new SimulatorError(
      'PW_ERR_SIM_SERVICE',
      `the service did not start in process: ${(err as Error).message}`,
    )
  }
  // A what-if of rules that do not load would be a what-if of others: refused, saying which.
  const view = (await service.app.inject({ method: 'GET', url: '/rules' })).json() as {
    rules: unknown[]
    failures: { file: string; reason: string }[]
    warnings: { file: string; warning: string }[]
  }
  if (view.failures.length > 0) {
    await service.stop()
    rmSync(dataDir, { recursive: true, force: true })
    throw new SimulatorError(
      'PW_ERR_SIM_SERVICE',
      `rule files in ${options.rulesDir} do not load: ${view.failures.map((f) => `${f.file}: ${f.reason}`).join('; ')}`,
    )
  }
  for (const w of view.warnings) options.log?.(`simulate: ${w.file}: ${w.warning}`)
  if (view.rules.length === 0)
    options.log?.(`simulate: ${options.rulesDir} has no rules: nothing will be decided`)
  const api: ServiceApi = {
    async get<T>(path: string): Promise<T> {
      const res = await service.app.inject({ method: 'GET', url: path })
      if (res.statusCode >= 400)
        throw new SimulatorError('PW_ERR_SIM_API', `${path} answered ${res.statusCode}`)
      return res.json() as T
    },
    async post(path: string, body: unknown) {
      const res = await service.app.inject({ method: 'POST', url: path, payload: body as object })
      return { ok: res.statusCode < 400, status: res.statusCode }
    },
  }
  return {
    service,
    links: (sites) => sites.map((s) => new InProcessLink(service, options, s.siteId, s.gatewayId, s.devices)),
    listener: (onAction) => {
      let unsubscribe: (() => void) | null = null
      return {
        invalid: 0,
        start: async () => {
          // A copy, as a subscriber parses its own: the loop keeps what it is given.
          unsubscribe = service.live.subscribe((a) => onAction(structuredClone(a), performance.now()))
        },
        stop: async () => {
          unsubscribe?.()
        },
      }
    },
    api,
    stop: async () => {
      await service.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
