/**
 * The gateway's MQTT connection (mqtt.js, MQTT 3.1.1): the account's name and token, TLS for
 * `mqtts://`, the retained offline last will, and reconnection after the broker goes away. It moves
 * messages and decides nothing.
 */
import { readFileSync } from 'node:fs'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { GatewayError } from './errors.ts'

export interface LinkOptions {
  url: string
  clientId: string
  username?: string
  password?: string
  ca?: string
  cert?: string
  key?: string
  /** The status topic: the will is published there. */
  willTopic: string
  willPayload: string
  reconnectMs: number
}

export class BrokerLink {
  private client: MqttClient | null = null
  private readonly onConnect: (() => void)[] = []

  constructor(private readonly options: LinkOptions) {}

  /** Registers what to do each time the connection is (re)established; returns its unregister. */
  connected(listener: () => void): () => void {
    this.onConnect.push(listener)
    return () => {
      const i = this.onConnect.indexOf(listener)
      if (i >= 0) this.onConnect.splice(i, 1)
    }
  }

  get isConnected(): boolean {
    return this.client?.connected === true
  }

  /** Connects in the background: a broker that is away is tried again every `reconnectMs`. */
  start(onError: (err: Error) => void): void {
    const o = this.options
    const read = (flag: string, file: string | undefined) => {
      if (!file) return undefined
      try {
        return readFileSync(file)
      } catch (err) {
        throw new GatewayError('PW_ERR_GATEWAY_FLAG', `${flag} ${file}: ${(err as Error).message}`)
      }
    }
    const ca = read('--ca', o.ca)
    const cert = read('--cert', o.cert)
    const key = read('--key', o.key)
    const options: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: o.reconnectMs,
      will: { topic: o.willTopic, payload: Buffer.from(o.willPayload), qos: 1, retain: true },
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
    }
    const client = mqtt.connect(o.url, options)
    client.on('connect', () => {
      for (const l of [...this.onConnect]) l()
    })
    client.on('error', onError)
    this.client = client
  }

  /** One QoS 1 message; resolves on its PUBACK. */
  publish(topic: string, payload: string, retain = false): Promise<void> {
    const client = this.client
    if (!client) return Promise.reject(new Error('the broker link is not started'))
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve()))
    })
  }

  /** A clean goodbye: `last` (the offline state) is sent first when connected, then DISCONNECT. */
  async stop(last?: { topic: string; payload: string }): Promise<void> {
    const client = this.client
    this.client = null
    if (!client) return
    if (last && client.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000)
        client.publish(last.topic, last.payload, { qos: 1, retain: true }, () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    await client.endAsync(!client.connected)
  }
}
