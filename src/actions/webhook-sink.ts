import { createHmac } from 'node:crypto'
import type { Action } from '../contract/schemas.ts'
import type { ActionSink } from './outbox-relay.ts'

export interface WebhookOptions {
  /** Where each action change is POSTed: http or https. */
  url: string
  /** When given, each request carries `x-printwarden-signature: sha256=<HMAC-SHA256 of the body>`. */
  secret?: string
  /** How long a request may take, from connecting to the end of the answer. */
  timeoutMs?: number
  /**
   * The sink's name, and so its outbox cursor (`sink:<name>`): give each webhook its own, and keep
   * it, because a new name starts from the oldest message still in the outbox.
   */
  name?: string
  /** Where permanent refusals are reported (a pino logger will do); without it, they go out as a process warning. */
  log?: RefusalLog
}

export interface RefusalLog {
  error(fields: Record<string, unknown>, message: string): void
}

/** What became of the sends so far. */
export interface WebhookCounts {
  /** Changes the receiver took (2xx). */
  accepted: number
  /** Changes the receiver refused for good (4xx other than 408 and 429): logged and skipped. */
  refused: number
  /** Attempts that failed and will be tried again (5xx, 408, 429, 3xx, network errors, timeouts). */
  failed: number
}

export interface WebhookSink extends ActionSink {
  send(action: Action): Promise<void>
  counts(): WebhookCounts
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000
/** How much of an answer's body goes into a log line or an error. */
const SNIPPET_BYTES = 512

/**
 * One key per change of an action: the same on every retry of that change, so that a receiver can
 * drop a repeat, and a new one when the action changes status.
 */
export function idempotencyKey(action: Action): string {
  return `${action.id}:${action.status}:${action.updatedAt}`
}

/** The value of `x-printwarden-signature` for a raw body. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/**
 * Sends each action change to an HTTP endpoint (an ERP, a ticketing system) as the API's action
 * object. It follows the outbox like every sink, so a change reaches it at least once, in order.
 *
 * Answers: 2xx is taken. A refusal of the change itself (400, 409, 410, 413, 415, 422: a payload the
 * receiver will not take, whatever happens) is one that no retry will change:
 * `send` logs it and returns, so that one change the receiver will never take does not stop every
 * later order and ticket behind it. The action itself stays in the ledger and the API. Anything
 * else (5xx, 408, 429, and 401, 403, 404, which mean a wrong URL or secret rather than a bad
 * change), redirects, network errors and timeouts throw, and the relay tries the same change again,
 * with the same idempotency key, after its backoff: a misconfigured webhook holds its orders until
 * it is fixed, it never drops them.
 */
const REFUSED_FOR_GOOD = new Set([400, 409, 410, 413, 415, 422])

export function webhookSink(options: WebhookOptions): WebhookSink {
  const url = parseUrl(options.url)
  const name = options.name ?? 'webhook'
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS
  const counts: WebhookCounts = { accepted: 0, refused: 0, failed: 0 }
  const report: RefusalLog = options.log ?? {
    error: (fields, message) =>
      process.emitWarning(`${message}: ${JSON.stringify(fields)}`, 'PrintwardenWebhookWarning'),
  }

  const fail = (message: string, cause?: unknown): Error => {
    counts.failed++
    return new Error(`webhook ${name}: ${message}`, cause === undefined ? undefined : { cause })
  }

  return {
    name,
    counts: () => ({ ...counts }),
    async send(action: Action): Promise<void> {
      const body = JSON.stringify(action)
      const key = idempotencyKey(action)
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': key,
        'x-printwarden-event': `action.${action.status}`,
        'user-agent': 'printwarden',
      }
      if (options.secret !== undefined) headers['x-printwarden-signature'] = signBody(body, options.secret)

      let response: Response
      // One deadline for the whole exchange: it also bounds reading the answer below.
      const signal = AbortSignal.timeout(timeoutMs)
      try {
        // No redirects: a 303 would turn the POST into a GET and look like success.
        response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal })
      } catch (err) {
        throw isTimeout(err)
          ? fail(`no answer within ${timeoutMs} ms to ${key}`, err)
          : fail(`could not reach ${url.origin} to send ${key}`, err)
      }
      const status = response.status
      const text = await snippet(response)
      if (status >= 200 && status < 300) {
        counts.accepted++
        return
      }
      if (REFUSED_FOR_GOOD.has(status)) {
        counts.refused++
        report.error(
          { sink: name, action: action.id, idempotencyKey: key, status, response: text },
          'the webhook refused an action change for good; it is not sent again, and the sink goes on',
        )
        return
      }
      if (status >= 300 && status < 400) {
        throw fail(
          `${status} redirect to ${response.headers.get('location') ?? '(no location)'} for ${key}; ` +
            'set the webhook URL to where it points',
        )
      }
      throw fail(`${status} for ${key}${text ? `: ${text}` : ''}`)
    },
  }
}

function parseUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new Error(
      `the webhook URL ${JSON.stringify(raw)} is not a URL; give one like https://erp.example.com/hooks`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`the webhook URL ${raw} must be http or https`)
  }
  // fetch refuses URLs with credentials, on every send: say so once, at start.
  if (url.username || url.password) {
    throw new Error('the webhook URL must not hold a user name or password; sign requests with the secret')
  }
  return url
}

const isTimeout = (err: unknown): boolean =>
  err instanceof Error &&
  (err.name === 'TimeoutError' || (err.cause as Error | undefined)?.name === 'TimeoutError')

/**
 * The start of an answer's body, for the log. It reads the body either way, so the connection can
 * be kept alive, but no more than a snippet of it; an answer cut short reads as what arrived.
 */
async function snippet(response: Response): Promise<string> {
  const reader = response.body?.getReader()
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < SNIPPET_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
    }
    if (size >= SNIPPET_BYTES) await reader.cancel()
  } catch {
    // The status is what decides; a body that broke off only shortens the log line.
  }
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(size, SNIPPET_BYTES)).trim()
}
