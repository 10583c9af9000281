/**
 * The broker's access hooks: who connects (CONNECT), what each account may publish and subscribe
 * to, a device's binding to its site, and the per-account limits. aedes calls these; the broker
 * only wires them in.
 */

import type { Duplex } from 'node:stream'
import type { Aedes, AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import { parseTopic } from '../contract/topics.ts'
import type { AccountBook, AccountView } from './accounts.ts'
import { addressOf, clientsOf, tlsSocketOf } from './clients.ts'
import { guardReads, hardPacketLimit } from './guard.ts'
import { type MqttTopics, mayPublish, maySubscribe, roleTopics } from './permissions.ts'
import { AddressFailures, OnceLog, PublishBuckets, Takeovers } from './throttles.ts'

/** Why a connection was refused: the labels of `/stats`' `access.refused`, keep them stable. */
export const ConnectionRefusals = [
  'bad-credentials',
  'anonymous',
  'empty-client-id',
  'flapping',
  'too-many-connections',
  'account-connections',
  'connect-timeout',
  'packet-too-large',
  'address-throttled',
] as const
export type ConnectionRefusal = (typeof ConnectionRefusals)[number]

export interface AccessLimits {
  /** MQTT connections at once, over every listener. */
  maxConnections: number
  /** The largest remaining length a packet may announce; a larger one closes the connection. */
  maxPacketBytes: number
  /** How long a new connection may take to send its CONNECT. */
  connectTimeoutMs: number
  /** Connections per account at once. */
  maxConnectionsPerAccount: number
  /** Publishes per second per account (token bucket refill), and the bucket's size. */
  publishRate: number
  publishBurst: number
  /** Takeovers of one client ID within a minute before it is refused, and for how long. */
  flapTakeovers: number
  flapBanMs: number
  /** Failed CONNECTs from one address within a minute before it is refused without checking. */
  failuresPerAddress: number
}

export const DEFAULT_LIMITS: AccessLimits = {
  maxConnections: 2000,
  maxPacketBytes: hardPacketLimit(262_144),
  connectTimeoutMs: 10_000,
  maxConnectionsPerAccount: 20,
  publishRate: 100,
  publishBurst: 1000,
  flapTakeovers: 5,
  flapBanMs: 60_000,
  failuresPerAddress: 20,
}

/** What the broker does with an inbound PUBLISH. */
export type PublishDecision =
  | { kind: 'gate' }
  | { kind: 'plain' }
  | { kind: 'refused'; reason: 'not-authorized' | 'wrong-site' | 'rate-limited'; detail: string }

interface Session {
  account: AccountView | null
  keyId: string | undefined
  address: string
}

function authError(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError
}

export interface MqttAccessDeps {
  book: AccountBook
  clock: Clock
  log: Logger
  topicRoot: string
  limits: AccessLimits
  /** The inventory's sites of a customer. */
  sitesOfCustomer: (customer: string) => string[]
  /** The site a device belongs to: the inventory's, or the one it was first seen under. */
  siteOf: (deviceId: string) => string | undefined
  /** Binds a device seen for the first time to the site of its topic. */
  bind: (deviceId: string, siteId: string) => void
  /** Counts a refused PUBLISH with the other rejected messages (by reason). */
  countRejected: (reason: 'not-authorized' | 'wrong-site' | 'rate-limited') => void
}

export class MqttAccess {
  readonly refused: Record<ConnectionRefusal, number> = Object.fromEntries(
    ConnectionRefusals.map((r) => [r, 0]),
  ) as Record<ConnectionRefusal, number>
  private readonly sessions = new WeakMap<Client, Session>()
  /** Why a CONNECT is refused, found by preConnect, answered by authenticate with a CONNACK. */
  private readonly verdicts = new WeakMap<Client, AuthenticateError>()
  private readonly connections = new Map<string, number>()
  private readonly buckets: PublishBuckets
  private readonly takeovers: Takeovers
  private readonly failures: AddressFailures
  private readonly onceLog: OnceLog
  private aedes: Aedes | null = null
  private active = 0
  private unsubscribe: (() => void) | null = null

  constructor(private readonly deps: MqttAccessDeps) {
    this.buckets = new PublishBuckets(deps.clock, deps.limits)
    this.takeovers = new Takeovers(deps.clock, deps.limits)
    this.failures = new AddressFailures(deps.clock, deps.limits)
    this.onceLog = new OnceLog(deps.clock)
  }

  /** Counts a refusal, and logs it once per client (or address) and reason. */
  refuse(reason: ConnectionRefusal, who: { client?: Client; address?: string }, detail: string): void {
    this.refused[reason]++
    this.logOnce(who, reason, () =>
      this.deps.log.warn({ client: who.client?.id, address: who.address, reason, detail }, 'MQTT refused'),
    )
  }

  logOnce(who: { client?: Client; address?: string }, reason: string, log: () => void): void {
    this.onceLog.once(who, reason, log)
  }

  get connectTimeoutMs(): number {
    return this.deps.limits.connectTimeoutMs
  }

  /** MQTT connections open now. */
  get connectionCount(): number {
    return this.active
  }

  /**
   * A new connection, before aedes reads a byte of it: refused over the connection limit, and
   * otherwise watched for packets announcing more than the size limit.
   */
  admit(stream: Duplex): Duplex | null {
    const address = (stream as { remoteAddress?: string }).remoteAddress ?? 'unknown'
    // An address that keeps failing to sign in is closed before aedes spends anything on it.
    if (this.failures.throttled(address)) {
      this.refuse('address-throttled', { address }, 'too many failed CONNECTs from this address')
      stream.destroy()
      return null
    }
    if (this.active >= this.deps.limits.maxConnections) {
      this.refuse(
        'too-many-connections',
        { address },
        `${this.deps.limits.maxConnections} connections are open`,
      )
      stream.destroy()
      return null
    }
    this.active++
    let counted = true
    guardReads(stream, this.deps.limits.maxPacketBytes, (announced) =>
      this.refuse(
        'packet-too-large',
        { address },
        `a packet announced ${announced} bytes, over ${this.deps.limits.maxPacketBytes}`,
      ),
    )
    stream.once('close', () => {
      if (counted) this.active--
      counted = false
    })
    return stream
  }

  /** A refused PUBLISH: counted every time, logged once per client and reason. */
  countRejected(client: Client, topic: string, decision: PublishDecision & { kind: 'refused' }): void {
    this.deps.countRejected(decision.reason)
    this.logOnce({ client }, decision.reason, () =>
      this.deps.log.warn(
        { client: client.id, topic, reason: decision.reason, detail: decision.detail },
        'message rejected (logged once per client and reason)',
      ),
    )
  }

  /** Wires the hooks to a broker, and disconnects clients whose account went or changed its token. */
  attach(aedes: Aedes): void {
    this.aedes = aedes
    aedes.on('clientReady', (client) => {
      const name = this.sessions.get(client)?.account?.name
      if (name !== undefined) this.connections.set(name, (this.connections.get(name) ?? 0) + 1)
    })
    aedes.on('clientDisconnect', (client) => {
      const name = this.sessions.get(client)?.account?.name
      if (name === undefined) return
      const n = (this.connections.get(name) ?? 1) - 1
      if (n <= 0) this.connections.delete(name)
      else this.connections.set(name, n)
    })
    aedes.on('connectionError', (client, err) => {
      if (err.message === 'connect did not arrive in time')
        this.refuse('connect-timeout', { address: addressOf(client) }, 'no CONNECT before the deadline')
    })
    this.unsubscribe = this.deps.book.onChange(() => this.revoke())
  }

  detach(): void {
    this.unsubscribe?.()
    this.aedes = null
  }

  /** A removed account's clients, and those of an old token, are disconnected. */
  revoke(): void {
    for (const client of Object.values(clientsOf(this.aedes))) {
      const session = this.sessions.get(client)
      if (!session) continue
      // An anonymous client of the open mode goes once the first account exists.
      const stale =
        session.account === null
          ? !this.deps.book.empty
          : this.deps.book.keyOf(session.account.name) !== session.keyId
      if (stale) {
        this.deps.log.info(
          { client: client.id, account: session.account?.name },
          'account removed or rotated: disconnected',
        )
        client.close()
      }
    }
  }

  readonly preConnect = (
    client: Client,
    packet: ConnectPacket,
    callback: (e: Error | null, ok: boolean) => void,
  ) => {
    // MQTT 3.1.1 3.1.3-8: a zero-byte client ID with CleanSession 0 gets CONNACK 0x02.
    if ((packet.clientId ?? '') === '' && packet.clean === false) {
      this.refuse(
        'empty-client-id',
        { address: addressOf(client) },
        'an empty client ID needs a clean session',
      )
      this.verdicts.set(client, authError(2, 'an empty client ID needs a clean session'))
    } else if (packet.clientId && clientsOf(this.aedes)[packet.clientId]) {
      // A client ID taking over a connected one: more than a few times a minute is flapping.
      if (this.takeovers.banned(packet.clientId)) {
        this.refuse(
          'flapping',
          { address: addressOf(client) },
          `client ID ${packet.clientId} takes over too often`,
        )
        this.verdicts.set(
          client,
          authError(
            2,
            `client ID ${packet.clientId} is refused for a while: it takes over another too often`,
          ),
        )
      }
    }
    callback(null, true)
  }

  readonly authenticate = (
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ) => {
    const verdict = this.verdicts.get(client)
    if (verdict) return done(verdict, false)
    const address = addressOf(client)
    const book = this.deps.book
    if (book.empty) {
      this.sessions.set(client, { account: null, keyId: undefined, address })
      return done(null, true)
    }
    const accept = (account: AccountView) => {
      if ((this.connections.get(account.name) ?? 0) >= this.deps.limits.maxConnectionsPerAccount) {
        this.refuse(
          'account-connections',
          { address },
          `${account.name} has ${this.deps.limits.maxConnectionsPerAccount} connections already`,
        )
        return done(authError(3, 'too many connections for this account'), false)
      }
      this.sessions.set(client, { account, keyId: book.keyOf(account.name), address })
      done(null, true)
    }
    // A client certificate the CA signed names the account in its common name.
    const socket = tlsSocketOf(client)
    if (socket?.authorized) {
      const cn = socket.getPeerCertificate().subject?.CN
      const account = typeof cn === 'string' ? book.get(cn) : undefined
      if (account && (username === undefined || username === account.name)) return accept(account)
    }
    if (username === undefined || password === undefined) {
      this.refuse('anonymous', { address }, 'a CONNECT without user name and token')
      return done(authError(5, 'not authorized: connect with an account name and its token'), false)
    }
    if (this.failures.throttled(address)) {
      this.refuse('address-throttled', { address }, 'too many failed CONNECTs from this address')
      return done(authError(4, 'bad user name or password'), false)
    }
    book.verify(password.toString('utf8'), username).then(
      (account) => {
        if (account) return accept(account)
        this.failures.fail(address)
        this.refuse('bad-credentials', { address }, `bad user name or token for ${username}`)
        done(authError(4, 'bad user name or password'), false)
      },
      (err: Error) => done(authError(3, err.message), false),
    )
  }

  /**
   * A listener refuses connections over the limit itself (net.Server#maxConnections closes them
   * before any JavaScript runs for them), and they are counted.
   */
  guardServer(server: import('node:net').Server): void {
    server.maxConnections = this.deps.limits.maxConnections
    server.on('drop', (data?: { remoteAddress?: string }) =>
      this.refuse(
        'too-many-connections',
        { address: data?.remoteAddress ?? 'unknown' },
        'over --max-connections',
      ),
    )
  }

  private topicsOf(account: AccountView): MqttTopics {
    return roleTopics(account, this.deps.topicRoot, this.deps.sitesOfCustomer)
  }

  /** The decision about one PUBLISH of a client (never the service's own). */
  decide(client: Client, packet: PublishPacket): PublishDecision {
    const session = this.sessions.get(client)
    const account = session?.account ?? null
    const topic = packet.topic
    const root = this.deps.topicRoot
    const underRoot = topic.startsWith(`${root}/`)
    if (account !== null) {
      if (!mayPublish(this.topicsOf(account), account.grants, topic))
        return {
          kind: 'refused',
          reason: 'not-authorized',
          detail: `${account.name} may not publish on ${topic}`,
        }
      if (!this.buckets.take(account.name))
        return {
          kind: 'refused',
          reason: 'rate-limited',
          detail: `${account.name} publishes faster than ${this.deps.limits.publishRate}/s`,
        }
      // Outside the topic root, a granted topic is plain MQTT; under it, the contract's checks apply.
      if (!underRoot) return { kind: 'plain' }
    }
    const t = parseTopic(root, topic)
    if (t && t.kind !== 'actions') {
      const bound = this.deps.siteOf(t.deviceId)
      if (bound !== undefined && bound !== t.siteId)
        return {
          kind: 'refused',
          reason: 'wrong-site',
          detail: `${t.deviceId} belongs to ${bound}, not ${t.siteId}: moving a device is an operator's API call`,
        }
      if (bound === undefined) this.deps.bind(t.deviceId, t.siteId)
    }
    return { kind: 'gate' }
  }

  readonly authorizeSubscribe = (
    client: Client,
    sub: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ) => {
    const account = this.sessions.get(client)?.account ?? null
    if (account === null || maySubscribe(this.topicsOf(account), account.grants, sub.topic))
      return callback(null, sub)
    this.logOnce({ client }, `subscribe ${sub.topic}`, () =>
      this.deps.log.warn(
        { client: client.id, account: account.name, topic: sub.topic },
        'MQTT subscription refused',
      ),
    )
    // A null subscription is answered 0x80 (MQTT 3.1.1 3.9.3), and the connection stays.
    callback(null, null)
  }

  accountOf(client: Client): AccountView | null {
    return this.sessions.get(client)?.account ?? null
  }
}
