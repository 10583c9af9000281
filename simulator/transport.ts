/**
 * The simulator's only network code: one MQTT connection per site gateway (QoS 1, a last will, a
 * bounded window of messages in flight), one subscriber to the service's actions, and the
 * service's HTTP API. It moves what the engine decided and decides nothing itself.
 */

import { readFileSync } from 'node:fs'
import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import mqtt, { type MqttClient } from 'mqtt'
import { ACTION_STATUSES, Action, type GatewayStatus } from '../src/contract/schemas.ts'
import { formatGatewayTopic } from '../src/contract/topics.ts'
import { SimulatorError } from './errors.ts'
import type { ServiceApi } from './in-process.ts'

// The contract's status is a plain JSON Schema enum (for the API's error messages), which the
// TypeBox compiler does not take: the same schema, with the status as a union of its literals.
const checkAction = TypeCompiler.Compile(
  Type.Composite([
    Type.Omit(Action, ['status']),
    Type.Object({ status: Type.Union(ACTION_STATUSES.map((s) => Type.Literal(s))) }),
  ]),
)

export interface BrokerOptions {
  url: string
  username?: string
  password?: string
  /** With mqtts://: the CA file to trust. */
  ca?: string
  clientPrefix: string
  topicRoot: string
  /** Messages each gateway keeps in flight (sent, not yet acknowledged). */
  window: number
}

/** One site gateway's connection. */
export class GatewayLink {
  private client: MqttClient | null = null
  private connecting: Promise<MqttClient> | null = null
  private inflight = 0
  private readonly waiters: (() => void)[] = []
  private readonly idle: (() => void)[] = []
  /** Connection errors (a refused or lost connection: mqtt.js connects again by itself). */
  connectionErrors = 0
  /** Messages given up on: only when the gateway closes with them unacknowledged. */
  publishErrors = 0
  /** Messages sent again because mqtt.js failed them when their connection closed. */
  resent = 0
  /** Readings in the messages the broker acknowledged (PUBACK), each message counted once. */
  acknowledgedReadings = 0

  constructor(
    private readonly options: BrokerOptions,
    readonly siteId: string,
    readonly gatewayId: string,
    /** The devices this gateway speaks for, named in its online state. */
    private readonly devices: readonly string[] = [],
  ) {}

  private get statusTopic(): string {
    return formatGatewayTopic(this.options.topicRoot, this.siteId, this.gatewayId)
  }

  /** Connects (again); publishes wait for it. */
  connect(): void {
    const { url, username, password, clientPrefix } = this.options
    const offline: GatewayStatus = { state: 'offline' }
    const online: GatewayStatus = {
      state: 'online',
      devices: [...this.devices],
      software: 'printwarden-simulator',
    }
    this.connecting = mqtt
      .connectAsync(url, {
        clientId: `${clientPrefix}-${this.gatewayId}`,
        clean: true,
        keepalive: 60,
        connectTimeout: 10_000,
        // A connection lost by accident comes back, and mqtt.js sends the unacknowledged messages again.
        reconnectPeriod: 1000,
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        ...(this.options.ca === undefined ? {} : { ca: readFileSync(this.options.ca) }),
        // The contract's gateway state: the will says offline (with no time: the service takes the
        // time it received it), and the gateway says online once connected, both retained.
        will: {
          topic: this.statusTopic,
          payload: Buffer.from(JSON.stringify(offline)),
          qos: 1,
          retain: true,
        },
      })
      .then(
        (client) => {
          this.client = client
          client.on('error', () => this.connectionErrors++)
          this.send(client, this.statusTopic, JSON.stringify(online), true, 0)
          return client
        },
        (err: Error) => {
          throw new SimulatorError(
            'PW_ERR_SIM_BROKER',
            `gateway ${this.gatewayId} cannot connect to ${url}: ${err.message}`,
          )
        },
      )
    // Failures surface at the next publish or disconnect.
    this.connecting.catch(() => undefined)
  }

  /**
   * Sends one QoS 1 message, and resolves when it is in the window (not when it is acknowledged):
   * returns undefined when there was room at once, so the hot path costs no promise. `readings` is
   * how many readings the payload holds, counted once it is acknowledged.
   */
  publish(topic: string, payload: string, retain: boolean, readings = 0): Promise<void> | undefined {
    if (this.client === null || this.inflight >= this.options.window)
      return this.publishLater(topic, payload, retain, readings)
    this.send(this.client, topic, payload, retain, readings)
    return undefined
  }

  private async publishLater(
    topic: string,
    payload: string,
    retain: boolean,
    readings: number,
  ): Promise<void> {
    const client = this.client ?? (await this.ready())
    while (this.inflight >= this.options.window) await new Promise<void>((r) => this.waiters.push(r))
    this.send(client, topic, payload, retain, readings)
  }

  private ready(): Promise<MqttClient> {
    if (!this.connecting) throw new Error(`gateway ${this.gatewayId} published before it connected`)
    return this.connecting
  }

  private send(client: MqttClient, topic: string, payload: string, retain: boolean, readings: number): void {
    this.inflight++
    const attempt = () =>
      client.publish(topic, payload, { qos: 1, retain }, (err) => {
        // mqtt.js fails the messages it still queued when their connection closed (a broker killed
        // and started again) instead of keeping them: a gateway keeps an unacknowledged reading
        // and sends it again once connected, and so does this one, until it closes.
        if (err && this.client === client && !client.disconnecting) {
          this.resent++
          if (client.connected) attempt()
          else this.afterReconnect(client, attempt)
          return
        }
        if (err) this.publishErrors++
        else this.acknowledgedReadings += readings
        this.inflight--
        this.waiters.shift()?.()
        if (this.inflight === 0) for (const done of this.idle.splice(0)) done()
      })
    attempt()
  }

  /** Sends waiting for their client's next connection: one listener a client, however many wait. */
  private readonly resends = new WeakMap<MqttClient, (() => void)[]>()

  private afterReconnect(client: MqttClient, send: () => void): void {
    const waiting = this.resends.get(client)
    if (waiting) {
      waiting.push(send)
      return
    }
    this.resends.set(client, [send])
    client.once('connect', () => {
      const all = this.resends.get(client) ?? []
      this.resends.delete(client)
      for (const again of all) again()
    })
  }

  /** Resolves when every message sent is acknowledged. */
  async drain(): Promise<void> {
    if (this.connecting) await this.connecting
    if (this.inflight === 0) return
    await new Promise<void>((r) => this.idle.push(r))
  }

  /**
   * The network goes: the connection drops without a DISCONNECT, so the broker publishes the will.
   * Everything sent before is acknowledged first, so no reading is lost in the outage.
   */
  async drop(): Promise<void> {
    await this.drain()
    const client = this.client
    this.client = null
    this.connecting = null
    if (!client) return
    client.stream.destroy()
    await client.endAsync(true)
  }

  /** A clean goodbye at the end of the run (no will). */
  async close(): Promise<void> {
    await this.drain().catch(() => undefined)
    const client = this.client
    this.client = null
    this.connecting = null
    await client?.endAsync()
  }
}

/** Subscribes to `{root}/+/+/actions` and hands each valid action on. */
export class ActionListener {
  private client: MqttClient | null = null
  invalid = 0

  constructor(
    private readonly options: BrokerOptions,
    private readonly onAction: (action: Action, receivedAt: number) => void,
  ) {}

  async start(): Promise<void> {
    const { url, username, password, clientPrefix, topicRoot } = this.options
    try {
      this.client = await mqtt.connectAsync(url, {
        clientId: `${clientPrefix}-actions`,
        clean: true,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        ...(this.options.ca === undefined ? {} : { ca: readFileSync(this.options.ca) }),
      })
    } catch (err) {
      throw new SimulatorError('PW_ERR_SIM_BROKER', `cannot connect to ${url}: ${(err as Error).message}`)
    }
    this.client.on('message', (_topic, payload) => {
      const receivedAt = performance.now()
      let action: unknown
      try {
        action = JSON.parse(payload.toString('utf8'))
      } catch {
        this.invalid++
        return
      }
      if (!checkAction.Check(action)) {
        this.invalid++
        return
      }
      this.onAction(action, receivedAt)
    })
    // A device's actions, and a whole site's (a stock count, a gateway offline).
    await this.client.subscribeAsync([`${topicRoot}/+/+/actions`, `${topicRoot}/+/actions`], { qos: 1 })
  }

  async stop(): Promise<void> {
    await this.client?.endAsync()
    this.client = null
  }
}

/** The service's API over HTTP, at `base`. */
export function httpApi(base: string): ServiceApi {
  return {
    async get<T>(path: string): Promise<T> {
      const url = `${base}${path}`
      let res: Response
      try {
        res = await fetch(url)
      } catch (err) {
        throw new SimulatorError('PW_ERR_SIM_API', `${url}: ${(err as Error).message}`)
      }
      if (!res.ok) throw new SimulatorError('PW_ERR_SIM_API', `${url} answered ${res.status}`)
      return (await res.json()) as T
    },
    async post(path: string, body: unknown) {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).catch((err: Error) => {
        throw new SimulatorError('PW_ERR_SIM_API', `${base}${path}: ${err.message}`)
      })
      return { ok: res.ok, status: res.status }
    },
  }
}
