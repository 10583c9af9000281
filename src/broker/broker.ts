import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { Aedes, type AedesPublishPacket, type PublishPacket } from 'aedes'
import type { Logger } from 'pino'
import { createWebSocketStream, WebSocketServer } from 'ws'

/**
 * Decides about one inbound PUBLISH before the broker acknowledges it. Resolves `true` once the
 * message is durably handled and may be forwarded, `false` if it was rejected (it is then
 * acknowledged, so that the client goes on, but never forwarded nor retained). A rejected promise
 * means it could not be stored: the client gets no PUBACK and is disconnected, so it sends again.
 */
/** The largest WebSocket frame taken; a larger one closes that connection (MQTT packets are far smaller). */
const WS_MAX_FRAME = 16 * 1024 * 1024

/** What aedes says when it refuses a PUBLISH for its topic name (lib/handlers/publish.js). */
const BAD_TOPIC_NAME =
  /^(# is not allowed|\+ is not allowed|topic has too many levels|empty topic not allowed)/

/** `clientId`: the MQTT client that published (a gateway's status names the client it speaks for). */
export type PublishGate = (
  topic: string,
  payload: Buffer,
  retain?: boolean,
  clientId?: string,
) => Promise<boolean>

export interface BrokerOptions {
  log: Logger
  host: string
  mqttPort: number
  wsPort: number
  gate: PublishGate
  /** robust: a PUBLISH aedes refused by its topic name (wildcards, too many levels), before any hook. */
  onBadTopicName?: (clientId: string, detail: string) => void
}

function listen(server: Server | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

function close(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

/** The embedded aedes broker, on TCP and on WebSocket. */
export class Broker {
  private aedes: Aedes | null = null
  private tcp: Server | null = null
  private http: HttpServer | null = null
  private wss: WebSocketServer | null = null
  /** Payloads that were rejected: aedes copies the packet before forwarding, but keeps the payload. */
  private readonly rejected = new WeakSet<Buffer>()
  mqttPort = 0
  wsPort = 0

  get listening(): boolean {
    return (
      this.aedes !== null &&
      !this.aedes.closed &&
      this.tcp?.listening === true &&
      this.http?.listening === true
    )
  }

  constructor(private readonly options: BrokerOptions) {}

  async start(): Promise<void> {
    const { gate, host } = this.options
    const rejected = this.rejected
    this.aedes = await Aedes.createBroker({
      // aedes writes the PUBACK before its `published` hook runs, so durability happens here:
      // the callback (and with it the PUBACK) waits until the reading is committed.
      authorizePublish: (client, packet, callback) => {
        if (client === null) return callback(null)
        const payload = packet.payload as Buffer
        gate(packet.topic, payload, packet.retain, client.id).then(
          (accepted) => {
            if (!accepted) {
              rejected.add(payload)
              packet.retain = false
            }
            callback(null)
          },
          (err: Error) => callback(err),
        )
      },
      authorizeForward: (_client, packet: AedesPublishPacket) =>
        rejected.has(packet.payload as Buffer) ? null : packet,
    })
    const { log } = this.options
    this.tcp = createServer(this.aedes.handle)
    this.mqttPort = await listen(this.tcp, this.options.mqttPort, host)
    // An accept error (EMFILE, say) must be logged, never left to crash the process.
    this.tcp.on('error', (err) => log.error({ err }, 'MQTT listener error'))
    this.http = createHttpServer()
    // ws takes up to 100 MiB a frame by default; a bound here keeps a client from filling memory.
    this.wss = new WebSocketServer({ server: this.http, maxPayload: WS_MAX_FRAME })
    this.wss.on('error', (err) => log.error({ err }, 'MQTT over WebSocket listener error'))
    this.aedes.on('clientError', (client, err) => {
      if (BAD_TOPIC_NAME.test(err.message)) this.options.onBadTopicName?.(client.id, err.message)
      else log.debug({ client: client.id, err: err.message }, 'MQTT client error')
    })
    this.wss.on('connection', (socket, request) => {
      this.aedes?.handle(createWebSocketStream(socket), request)
    })
    this.wsPort = await listen(this.http, this.options.wsPort, host)
    this.http.on('error', (err) => log.error({ err }, 'MQTT over WebSocket listener error'))
  }

  /** Publishes from the service itself (QoS 1); resolves once the broker has taken it. */
  publish(topic: string, payload: string): Promise<void> {
    const aedes = this.aedes
    if (!aedes) return Promise.reject(new Error('the broker is not started'))
    const packet: PublishPacket = {
      cmd: 'publish',
      topic,
      payload: Buffer.from(payload),
      qos: 1,
      retain: false,
      dup: false,
    }
    return new Promise((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())))
  }

  /** MQTT clients connected now, over TCP and WebSocket. */
  get connections(): number {
    return this.aedes?.connectedClients ?? 0
  }

  /** Stops taking connections, then closes the broker (which disconnects every client). */
  async stop(): Promise<void> {
    const aedes = this.aedes
    this.aedes = null
    for (const client of this.wss?.clients ?? []) client.terminate()
    this.wss?.close()
    const closing = [this.tcp, this.http].filter((s): s is Server | HttpServer => s !== null).map(close)
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await Promise.all(closing)
  }
}
