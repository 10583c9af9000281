/**
 * The webhook sink against a real HTTP receiver on 127.0.0.1, alone and behind the real outbox
 * relay over a real SQLite store.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type ActionSink,
  DEFAULT_RETRY,
  OutboxRelay,
  type RetryPolicy,
  retryDelay,
} from '../../src/actions/outbox-relay.ts'
import { idempotencyKey, webhookSink } from '../../src/actions/webhook-sink.ts'
import type { Action } from '../../src/contract/schemas.ts'
import type { ActionCandidate } from '../../src/domain/ledger.ts'
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempStore } from '../helpers/store.ts'

const T0 = Date.UTC(2026, 10, 20, 8)
const silent = pino({ level: 'silent' })
const FAST: RetryPolicy = { initialMs: 10, maxMs: 40 }

interface Received {
  headers: IncomingHttpHeaders
  raw: Buffer
  key: string
}

/**
 * A receiver that answers with `answer(request, n)` (n counts from 1) and, like a careful ERP,
 * takes each idempotency key once: a repeat is answered like the first, and not taken again.
 */
class Receiver {
  readonly requests: Received[] = []
  readonly accepted: Action[] = []
  private readonly keys = new Set<string>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private server: Server | null = null
  port = 0

  constructor(
    private readonly answer: (r: Received, n: number) => { status: number; delayMs?: number } = () => ({
      status: 200,
    }),
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/printwarden`
  }

  async listen(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const r: Received = {
          headers: req.headers,
          raw: Buffer.concat(chunks),
          key: String(req.headers['idempotency-key']),
        }
        this.requests.push(r)
        const { status, delayMs = 0 } = this.answer(r, this.requests.length)
        // Taken at once; a slow answer only delays saying so, as with a receiver that is busy.
        if (status >= 200 && status < 300 && !this.keys.has(r.key)) {
          this.keys.add(r.key)
          this.accepted.push(JSON.parse(r.raw.toString('utf8')) as Action)
        }
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          res.writeHead(status, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ status }))
        }, delayMs)
        this.timers.add(timer)
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.server = server
    this.port = (server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = null
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

const receivers: Receiver[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  for (const r of receivers.splice(0)) await r.close()
})

async function receiver(answer?: ConstructorParameters<typeof Receiver>[0]): Promise<Receiver> {
  const r = new Receiver(answer)
  receivers.push(r)
  await r.listen()
  return r
}

const action = (over: Partial<Action> = {}): Action => ({
  id: '7c0e4f5e-0d7a-4d7e-9a47-5b0f3f0d2a11',
  type: 'reorder',
  deviceId: 'SCM-004512',
  siteId: 'milano-hq',
  status: 'open',
  rule: 'toner-reorder',
  createdAt: '2026-11-20T08:00:03.120Z',
  updatedAt: '2026-11-20T08:00:03.120Z',
  details: { color: 'black', level: 19 },
  ...over,
})

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** A relay, stopped after the test. */
async function startRelay(store: SqliteStore, sinks: ActionSink[], retry = FAST): Promise<OutboxRelay> {
  const relay = new OutboxRelay(store, sinks, silent, retry)
  await relay.start()
  cleanups.push(() => relay.stop())
  return relay
}

const candidate = (deviceId: string, color: string, at: number): ActionCandidate => ({
  rule: 'toner-reorder',
  type: 'reorder',
  deviceId,
  siteId: 'milano-hq',
  subject: `toner:${color}`,
  episode: `${at}`,
  details: { color, level: 19 },
  at,
})

/** Creates actions the way the processor does: the action and its outbox message in one commit. */
async function create(store: SqliteStore, ...candidates: ActionCandidate[]): Promise<Action[]> {
  const written = await store.commit({
    states: [],
    ledger: { create: candidates, resolve: [], resolveAtOnce: new Set() },
    at: T0,
  })
  expect(written).toBe(candidates.length)
  const all = await store.actions({ limit: 1000 })
  return candidates.map((c) => {
    const found = all.find((a) => a.deviceId === c.deviceId && a.details.color === c.details.color)
    if (!found) throw new Error('the action was not stored')
    return found
  })
}

/** A sink that keeps what it is sent: the other sink beside a webhook. */
const memorySink = (): ActionSink & { sent: Action[] } => {
  const sent: Action[] = []
  return { name: 'memory', sent, send: async (a) => void sent.push(a) }
}

/** Records what a sink reports through its logger. */
const recordingLog = () => {
  const lines: { fields: Record<string, unknown>; message: string }[] = []
  return {
    lines,
    error: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
  }
}

describe('webhookSink', () => {
  it('posts the action object as JSON, with its idempotency key and event name', async () => {
    const r = await receiver()
    const a = action()
    await webhookSink({ url: r.url }).send(a)

    expect(r.requests).toHaveLength(1)
    const [got] = r.requests
    expect(got?.raw.toString('utf8')).toBe(JSON.stringify(a))
    expect(JSON.parse(got?.raw.toString('utf8') ?? '')).toEqual(a)
    expect(got?.headers['content-type']).toBe('application/json')
    expect(got?.headers['idempotency-key']).toBe(`${a.id}:open:2026-11-20T08:00:03.120Z`)
    expect(got?.headers['x-printwarden-event']).toBe('action.open')
    expect(got?.headers['x-printwarden-signature']).toBeUndefined()
  })

  it('gives each change of an action its own idempotency key and event name', async () => {
    const r = await receiver()
    const sink = webhookSink({ url: r.url })
    const opened = action()
    const acked = action({ status: 'acknowledged', updatedAt: '2026-11-20T09:12:00.000Z' })
    await sink.send(opened)
    await sink.send(acked)
    await sink.send(opened)

    expect(r.requests.map((q) => q.headers['x-printwarden-event'])).toEqual([
      'action.open',
      'action.acknowledged',
      'action.open',
    ])
    const [first, second, again] = r.requests.map((q) => q.key)
    expect(second).not.toBe(first)
    expect(again).toBe(first)
    expect(r.accepted.map((a) => a.status)).toEqual(['open', 'acknowledged'])
  })

  it('signs the raw body with HMAC-SHA256 of the secret, which the receiver can verify', async () => {
    const r = await receiver()
    await webhookSink({ url: r.url, secret: 's3cret-shared-with-the-erp' }).send(action())

    const [got] = r.requests
    const header = String(got?.headers['x-printwarden-signature'])
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/)
    const expected = `sha256=${createHmac('sha256', 's3cret-shared-with-the-erp')
      .update(got?.raw ?? Buffer.alloc(0))
      .digest('hex')}`
    expect(timingSafeEqual(Buffer.from(header), Buffer.from(expected))).toBe(true)
    const forged = `sha256=${createHmac('sha256', 'another-secret')
      .update(got?.raw ?? Buffer.alloc(0))
      .digest('hex')}`
    expect(header).not.toBe(forged)
  })

  it.each([401, 403, 404, 408, 429, 500, 503])(
    'throws on a %i answer, so that the relay tries again',
    async (status) => {
      const r = await receiver(() => ({ status }))
      const sink = webhookSink({ url: r.url })
      await expect(sink.send(action())).rejects.toThrow(String(status))
      expect(sink.counts()).toEqual({ accepted: 0, refused: 0, failed: 1 })
    },
  )

  it.each([400, 409, 410, 413, 415, 422])(
    'logs a %i answer as a refusal for good and returns',
    async (status) => {
      const r = await receiver(() => ({ status }))
      const log = recordingLog()
      const sink = webhookSink({ url: r.url, log })
      await sink.send(action())
      expect(sink.counts()).toEqual({ accepted: 0, refused: 1, failed: 0 })
      expect(log.lines).toHaveLength(1)
      expect(log.lines[0]?.fields).toMatchObject({ status, idempotencyKey: idempotencyKey(action()) })
    },
  )

  it('throws on a redirect rather than following it', async () => {
    const r = await receiver(() => ({ status: 303 }))
    const sink = webhookSink({ url: r.url })
    await expect(sink.send(action())).rejects.toThrow(/303 redirect/)
    expect(r.requests).toHaveLength(1)
  })

  it('throws when the receiver cannot be reached', async () => {
    const r = await receiver()
    const url = r.url
    await r.close()
    const sink = webhookSink({ url, log: silent })
    await expect(sink.send(action())).rejects.toThrow(/could not reach/)
    expect(sink.counts().failed).toBe(1)
  })

  it('throws when the receiver does not answer within the timeout, and the retry carries the same key', async () => {
    const r = await receiver((_, n) => (n === 1 ? { status: 200, delayMs: 2000 } : { status: 200 }))
    const sink = webhookSink({ url: r.url, timeoutMs: 100 })
    await expect(sink.send(action())).rejects.toThrow(/no answer within 100 ms/)
    await sink.send(action())

    expect(r.requests.map((q) => q.key)).toEqual([idempotencyKey(action()), idempotencyKey(action())])
    expect(sink.counts()).toEqual({ accepted: 1, refused: 0, failed: 1 })
  })

  it('refuses a URL that is not http or https when it is built', () => {
    expect(() => webhookSink({ url: 'ftp://erp.example.com/in' })).toThrow(/http or https/)
    expect(() => webhookSink({ url: 'erp.example.com' })).toThrow(/not a URL/)
    expect(() => webhookSink({ url: 'https://user:pw@erp.example.com/in' })).toThrow(/user name or password/)
  })
})

describe('webhookSink behind the outbox relay', () => {
  it('sends a change refused twice with 503 three times with one idempotency key, and it is accepted once', async () => {
    const r = await receiver((_, n) => ({ status: n <= 2 ? 503 : 200 }))
    const store = await tempStore(cleanups, 'pw-webhook-')
    const [a] = await create(store, candidate('SCM-1', 'black', T0))
    const sink = webhookSink({ url: r.url })
    const relay = await startRelay(store, [sink])

    await until('the receiver took the change', () => r.accepted.length === 1)
    await relay.stop()

    expect(r.requests.map((q) => q.key)).toEqual(Array(3).fill(idempotencyKey(a as Action)))
    expect(r.accepted).toEqual([a])
    expect(sink.counts()).toEqual({ accepted: 1, refused: 0, failed: 2 })
  })

  it('retries a change whose answer did not come within the timeout, and the receiver takes it once', async () => {
    // The receiver took the change but answered too late: only the idempotency key keeps the
    // retry from being a second order.
    const r = await receiver((_, n) => ({ status: 200, delayMs: n === 1 ? 2000 : 0 }))
    const store = await tempStore(cleanups, 'pw-webhook-')
    const [a] = await create(store, candidate('SCM-1', 'black', T0))
    const sink = webhookSink({ url: r.url, timeoutMs: 100 })
    const relay = await startRelay(store, [sink])

    await until('the sink saw the change accepted', () => sink.counts().accepted === 1)
    await relay.stop()
    expect(r.requests.map((q) => q.key)).toEqual([idempotencyKey(a as Action), idempotencyKey(a as Action)])
    expect(sink.counts().failed).toBe(1)
    expect(r.accepted).toEqual([a])
  })

  it('goes on to the next message after a permanent 400, without sending the refused one again', async () => {
    const store = await tempStore(cleanups, 'pw-webhook-')
    const [refused, next] = await create(
      store,
      candidate('SCM-1', 'black', T0),
      candidate('SCM-2', 'cyan', T0),
    )
    const r = await receiver((q) => ({ status: q.key.startsWith(`${refused?.id}:`) ? 400 : 200 }))
    const log = recordingLog()
    const sink = webhookSink({ url: r.url, log })
    const relay = await startRelay(store, [sink])

    await until('the next change was accepted', () => r.accepted.length === 1)
    await relay.stop()

    expect(r.accepted).toEqual([next])
    expect(r.requests.filter((q) => q.key.startsWith(`${refused?.id}:`))).toHaveLength(1)
    expect(log.lines.map((l) => l.fields.action)).toEqual([refused?.id])
    expect(await store.cursor(`sink:${sink.name}`)).toBeGreaterThan(0)
    expect(await store.outboxAfter(await store.cursor(`sink:${sink.name}`), 10)).toEqual([])
  })

  it('lets the other sink go on while the webhook is down, and once back sends it every change in order, each accepted once', async () => {
    // A receiver that is down: nothing listens on its port until it comes back.
    const r = new Receiver()
    receivers.push(r)
    await r.listen()
    const port = r.port
    await r.close()

    const store = await tempStore(cleanups, 'pw-webhook-')
    const memory = memorySink()
    const hook = webhookSink({ url: `http://127.0.0.1:${port}/hooks/printwarden` })
    const relay = await startRelay(store, [memory, hook])

    const [black, cyan] = await create(store, candidate('SCM-1', 'black', T0), candidate('SCM-2', 'cyan', T0))
    relay.poke()
    await store.transition(black?.id ?? '', 'ack', T0 + 60_000)
    relay.poke()
    await store.transition(black?.id ?? '', 'resolve', T0 + 120_000)
    relay.poke()
    await store.transition(cyan?.id ?? '', 'resolve', T0 + 180_000)
    relay.poke()

    await until('the other sink has every change', () => memory.sent.length === 5)
    await until('the webhook has failed a few times', () => hook.counts().failed >= 3)
    expect(hook.counts().accepted).toBe(0)
    // Kept for the webhook: nothing it has not sent is pruned.
    expect(await store.outboxAfter(0, 10)).toHaveLength(5)

    await r.listen(port)
    await until('the webhook has every change', () => r.accepted.length === 5)
    await relay.stop()

    const changes = (list: Action[]) => list.map((a) => `${a.deviceId} ${a.status} ${a.updatedAt}`)
    expect(changes(memory.sent)).toEqual([
      `SCM-1 open ${new Date(T0).toISOString()}`,
      `SCM-2 open ${new Date(T0).toISOString()}`,
      `SCM-1 acknowledged ${new Date(T0 + 60_000).toISOString()}`,
      `SCM-1 resolved ${new Date(T0 + 120_000).toISOString()}`,
      `SCM-2 resolved ${new Date(T0 + 180_000).toISOString()}`,
    ])
    expect(r.accepted).toEqual(memory.sent)
    // Every request that reached the receiver was a change it had not taken yet.
    expect(new Set(r.requests.map((q) => q.key)).size).toBe(r.requests.length)
  })
})

/** A logger whose lines the test reads. */
const capturedLog = () => {
  const lines: Record<string, unknown>[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
  return { log, lines }
}

// The relay's own schedule (1 s doubling to 30 s) at 1/200: 5 ms doubling to 150 ms, so that a
// receiver down for "minutes" (a dozen tries, most at the longest wait) takes a second or two.
const SCALED: RetryPolicy = { initialMs: DEFAULT_RETRY.initialMs / 200, maxMs: DEFAULT_RETRY.maxMs / 200 }

describe('a webhook receiver that fails for minutes', () => {
  /**
   * Runs the relay over a receiver that is down until the sink has failed a dozen times, creating
   * and changing actions meanwhile; then the receiver recovers.
   */
  async function outage(failWith: { status: number; delayMs?: number }, timeoutMs?: number) {
    let down = true
    let acceptedAnswers = 0
    const r = await receiver(() => {
      if (down) return failWith
      acceptedAnswers++
      return { status: 200 }
    })
    const store = await tempStore(cleanups, 'pw-webhook-')
    const { log, lines } = capturedLog()
    const hook = webhookSink({ url: r.url, log, ...(timeoutMs === undefined ? {} : { timeoutMs }) })
    const relay = new OutboxRelay(store, [hook], log, SCALED)
    await relay.start()
    cleanups.push(() => relay.stop())

    const [black] = await create(store, candidate('SCM-1', 'black', T0), candidate('SCM-2', 'cyan', T0))
    relay.poke()
    await until('the webhook failed a dozen times', () => hook.counts().failed >= 12, 20_000)
    // Changes go on while it is down.
    await store.transition(black?.id ?? '', 'ack', T0 + 60_000)
    relay.poke()
    await create(store, candidate('SCM-3', 'magenta', T0 + 120_000))
    relay.poke()
    const during = (await relay.status())[0]
    const acceptedDuring = [...r.accepted]

    down = false
    await until('the webhook has every change', () => r.accepted.length === 4, 10_000)
    await relay.stop()
    const after = (await relay.status())[0]
    return { r, store, lines, during, acceptedDuring, after, acceptedAnswers, hook }
  }

  const waitsOf = (lines: Record<string, unknown>[]) =>
    lines.filter((l) => l.msg === 'an action sink failed; it will be retried').map((l) => l.retryInMs)

  it('answering 500: retries with a doubling wait up to its longest, loses nothing, and sends each change once when it recovers', async () => {
    const o = await outage({ status: 500 })

    expect(o.acceptedDuring).toEqual([])
    expect(o.during).toMatchObject({ name: 'webhook', pending: 4, failingSince: expect.any(Number) })
    expect(o.during?.failures).toBeGreaterThanOrEqual(12)
    expect(o.during?.lastError).toMatch(/500 for /)
    expect(waitsOf(o.lines).slice(0, 9)).toEqual([5, 10, 20, 40, 80, 150, 150, 150, 150])

    // Everything, in the order it happened, each change taken once and sent once after recovery.
    const changes = o.r.accepted.map((a) => `${a.deviceId} ${a.status}`)
    expect(changes).toEqual(['SCM-1 open', 'SCM-2 open', 'SCM-1 acknowledged', 'SCM-3 open'])
    expect(o.acceptedAnswers).toBe(4)
    expect(o.after).toMatchObject({ pending: 0, failures: 0 })
    expect(o.after?.failingSince).toBeUndefined()
    const recovered = o.lines.filter(
      (l) => l.msg === 'an action sink works again; the changes it missed follow in order',
    )
    expect(recovered).toHaveLength(1)
    expect(recovered[0]).toMatchObject({ sink: 'webhook', failures: o.during?.failures })
  })

  it('that hangs: gives each request up after the timeout, retries with backoff, and sends each change once when it answers again', async () => {
    const o = await outage({ status: 503, delayMs: 60_000 }, 50)

    expect(o.acceptedDuring).toEqual([])
    expect(o.during?.pending).toBe(4)
    expect(o.during?.lastError).toMatch(/no answer within 50 ms/)
    expect(waitsOf(o.lines).slice(0, 6)).toEqual([5, 10, 20, 40, 80, 150])
    expect(o.r.accepted.map((a) => `${a.deviceId} ${a.status}`)).toEqual([
      'SCM-1 open',
      'SCM-2 open',
      'SCM-1 acknowledged',
      'SCM-3 open',
    ])
    expect(o.acceptedAnswers).toBe(4)
    expect(o.hook.counts().accepted).toBe(4)
    expect(o.after).toMatchObject({ pending: 0, failures: 0 })
  })
})

describe('the relay backoff', () => {
  it('doubles the wait from one second with each failure in a row, up to half a minute', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => retryDelay(n, DEFAULT_RETRY))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ])
  })

  it('does not try a sink that is waiting out its backoff again early when new changes arrive', async () => {
    const store = await tempStore(cleanups, 'pw-webhook-')
    let attempts = 0
    const down: ActionSink = {
      name: 'down',
      send: async () => {
        attempts++
        throw new Error('the receiver is down')
      },
    }
    // A second sink, up, is the witness that the relay took each poke.
    const taken: Action[] = []
    const up: ActionSink = { name: 'up', send: async (a) => void taken.push(a) }
    const relay = await startRelay(store, [down, up], { initialMs: 60_000, maxMs: 60_000 })
    await create(store, candidate('SCM-1', 'black', T0))
    relay.poke()
    await until('the sink failed once', () => attempts === 1)

    for (let i = 0; i < 5; i++) {
      await create(store, candidate('SCM-1', `color${i}`, T0))
      relay.poke()
    }
    await until('the sink that is up took all six', () => taken.length === 6)
    expect(attempts).toBe(1)
  })
})
