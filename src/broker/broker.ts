import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, createServer, type Server } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer } from 'node:tls'
import { Aedes, type AedesPublishPacket, type PublishPacket } from 'aedes'
import type { Logger } from 'pino'
import { createWebSocketStream, WebSocketServer } from 'ws'
import type { MqttAccess } from '../access/mqtt.ts'
import type { TlsFiles } from '../access/tls.ts'
import { portError } from '../ports.ts'

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
  /** Accounts, topic permissions and limits (src/access); without it the broker is open. */
  access?: MqttAccess
  /** With TLS: MQTT over TLS and over secure WebSocket; a port of -1 is off, as for mqttPort and wsPort. */
  tls?: { files: TlsFiles; mqttsPort: number; wssPort: number }
}

/** Listens; a port taken since the start's check is refused in the same one line, naming the flag. */
function listen(server: Server | HttpServer, port: number, host: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(portError(err, host, port, flag) ?? err)
    server.once('error', failed)
    server.listen(port, host, () => {
      server.off('error', failed)
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
  private tlsServers: (Server | HttpServer)[] = []
  mqttPort = 0
  wsPort = 0
  mqttsPort = 0
  wssPort = 0

  get listening(): boolean {
    return (
      this.aedes !== null &&
      !this.aedes.closed &&
      (this.options.mqttPort < 0 || this.tcp?.listening === true) &&
      (this.options.wsPort < 0 || this.http?.listening === true) &&
      this.tlsServers.every((s) => s.listening)
    )
  }

  constructor(private readonly options: BrokerOptions) {}

  async start(): Promise<void> {
    const { gate, host } = this.options
    const rejected = this.rejected
    const access = this.options.access
    this.aedes = await Aedes.createBroker({
      ...(access
        ? {
            preConnect: access.preConnect,
            authenticate: access.authenticate,
            authorizeSubscribe: access.authorizeSubscribe,
            connectTimeout: access.connectTimeoutMs,
          }
        : {}),
      // aedes writes the PUBACK before its `published` hook runs, so durability happens here:
      // the callback (and with it the PUBACK) waits until the reading is committed.
      authorizePublish: (client, packet, callback) => {
        if (client === null) return callback(null)
        const payload = packet.payload as Buffer
        // A refused PUBLISH is acknowledged (an error here would close the connection), never
        // stored nor forwarded; a granted topic outside the contract is plain MQTT.
        const decision = access ? access.decide(client, packet) : { kind: 'gate' as const }
        if (decision.kind === 'plain') return callback(null)
        if (decision.kind === 'refused') {
          rejected.add(payload)
          packet.retain = false
          access?.countRejected(client, packet.topic, decision)
          return callback(null)
        }
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
    access?.attach(this.aedes)
    // Every connection passes the access limits (connections, packet size) before aedes reads it.
    const handle = (stream: Duplex, request?: import('node:http').IncomingMessage) => {
      const admitted = access ? access.admit(stream) : stream
      if (admitted) this.aedes?.handle(admitted, request)
    }
    this.tcp = createServer(handle)
    access?.guardServer(this.tcp)
    if (this.options.mqttPort >= 0)
      this.mqttPort = await listen(this.tcp, this.options.mqttPort, host, 'mqtt-port')
    // An accept error (EMFILE, say) must be logged, never left to crash the process.
    this.tcp.on('error', (err) => log.error({ err }, 'MQTT listener error'))
    const tls = this.options.tls
    if (tls) {
      const mqtts = createTlsServer(tls.files.options(), handle)
      access?.guardServer(mqtts)
      tls.files.track(mqtts)
      mqtts.on('error', (err) => log.error({ err }, 'MQTT over TLS listener error'))
      mqtts.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'))
      const https = createHttpsServer(tls.files.options())
      tls.files.track(https)
      const wss = new WebSocketServer({ server: https, maxPayload: WS_MAX_FRAME })
      wss.on('connection', (socket, request) => handle(createWebSocketStream(socket), request))
      this.tlsServers = [mqtts, https]
      if (tls.mqttsPort >= 0) this.mqttsPort = await listen(mqtts, tls.mqttsPort, host, 'mqtts-port')
      if (tls.wssPort >= 0) this.wssPort = await listen(https, tls.wssPort, host, 'wss-port')
      this.tlsServers = this.tlsServers.filter((s) => s.listening)
    }
    this.http = createHttpServer()
    // ws takes up to 100 MiB a frame by default; a bound here keeps a client from filling memory.
    this.wss = new WebSocketServer({ server: this.http, maxPayload: WS_MAX_FRAME })
    this.wss.on('error', (err) => log.error({ err }, 'MQTT over WebSocket listener error'))
    this.aedes.on('clientError', (client, err) => {
      if (BAD_TOPIC_NAME.test(err.message)) this.options.onBadTopicName?.(client.id, err.message)
      else log.debug({ client: client.id, err: err.message }, 'MQTT client error')
    })
    this.wss.on('connection', (socket, request) => {
      handle(createWebSocketStream(socket), request)
    })
    if (this.options.wsPort >= 0) this.wsPort = await listen(this.http, this.options.wsPort, host, 'ws-port')
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
    this.options.access?.detach()
    const closing = [this.tcp, this.http, ...this.tlsServers]
      .filter((s): s is Server | HttpServer => s?.listening === true)
      .map(close)
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await Promise.all(closing)
  }
}
