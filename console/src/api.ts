/** The service's API as the console uses it: every call carries the token, when one is entered. */

export interface Action {
  id: string
  type: string
  deviceId?: string
  siteId: string
  status: 'open' | 'acknowledged' | 'resolved'
  rule: string
  createdAt: string
  updatedAt: string
  details: Record<string, unknown>
}

export interface Device {
  deviceId: string
  siteId: string
  vendor?: string
  model?: string
  location?: string
  lastReadingAt: string | null
  status: string | null
  toner: Record<string, number>
  wasteBox: unknown
  counters: { total: number; mono?: number; color?: number } | null
  errors: { code: string; severity: string; text?: string; since: string }[]
}

export interface StoredReading {
  ts: string
  toner?: Record<string, number>
  counters?: { total: number }
}

export interface RuleView {
  rules: { name: string; subject: string; file: string; description?: string; event: { type: string } }[]
  failures: { file: string; code: string; reason: string; running?: string }[]
  runtimeErrors: { rule: string; count: number; lastError: string }[]
}

const TOKEN_KEY = 'printwarden.token'

export const token = {
  get: (): string => localStorage.getItem(TOKEN_KEY) ?? '',
  set: (value: string) => {
    if (value) localStorage.setItem(TOKEN_KEY, value)
    else localStorage.removeItem(TOKEN_KEY)
  },
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = {}
  const t = token.get()
  if (t) h.authorization = `Bearer ${t}`
  if (json) h['content-type'] = 'application/json'
  return h
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  const json = text ? (JSON.parse(text) as unknown) : undefined
  if (!res.ok) {
    const message = (json as { message?: string } | undefined)?.message ?? res.statusText
    throw new ApiError(res.status, `${res.status}: ${message}`)
  }
  return json as T
}

/**
 * The service's action changes, live. Server-sent events read with fetch rather than EventSource,
 * which cannot send an Authorization header. Reconnects after a drop; returns the stop function.
 */
export function watchActions(onAction: (a: Action) => void, onState: (live: boolean) => void): () => void {
  let stopped = false
  let controller: AbortController | undefined
  const connect = async () => {
    while (!stopped) {
      controller = new AbortController()
      try {
        const res = await fetch('/events', { headers: headers(false), signal: controller.signal })
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`)
        onState(true)
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
        let buffer = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          buffer += value
          let end = buffer.indexOf('\n\n')
          while (end >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n')
            if (data && block.includes('event: action')) onAction(JSON.parse(data) as Action)
            end = buffer.indexOf('\n\n')
          }
        }
      } catch {
        // dropped or refused: try again below
      }
      onState(false)
      if (!stopped) await new Promise((r) => setTimeout(r, 2000))
    }
  }
  void connect()
  return () => {
    stopped = true
    controller?.abort()
  }
}
