/**
 * The broker's memories of misbehaviour, each over a minute of the clock: failed CONNECTs per
 * address, takeovers per client ID, publishes per account (a token bucket), and what was logged
 * already. Each is bounded: past its size it forgets everything rather than grow.
 */
import type { Client } from 'aedes'
import type { Clock } from '../clock.ts'

const MINUTE = 60_000
/** Past this many keys a memory starts again. */
const MAX_KEYS = 100_000

/** Failed CONNECTs from one address in the last minute. */
export class AddressFailures {
  private readonly failures = new Map<string, { count: number; since: number }>()

  constructor(
    private readonly clock: Clock,
    private readonly limits: { readonly failuresPerAddress: number },
  ) {}

  fail(address: string): void {
    const at = this.clock.now()
    const f = this.failures.get(address)
    if (f && f.since > at - MINUTE) f.count++
    else this.failures.set(address, { count: 1, since: at })
    if (this.failures.size > MAX_KEYS) this.failures.clear()
  }

  /** An address that keeps failing to sign in is refused without its token being checked. */
  throttled(address: string): boolean {
    const f = this.failures.get(address)
    return f !== undefined && f.since > this.clock.now() - MINUTE && f.count >= this.limits.failuresPerAddress
  }
}

/** A client ID taking over a connected one: more than a few times a minute is flapping. */
export class Takeovers {
  private readonly takeovers = new Map<string, { times: number[]; bannedUntil: number }>()

  constructor(
    private readonly clock: Clock,
    private readonly limits: { readonly flapTakeovers: number; readonly flapBanMs: number },
  ) {}

  /** Counts a takeover by this client ID; true while the ID is banned for flapping. */
  banned(clientId: string): boolean {
    const now = this.clock.now()
    const t = this.takeovers.get(clientId) ?? { times: [], bannedUntil: 0 }
    t.times = [...t.times.filter((x) => x > now - MINUTE), now]
    if (t.times.length > this.limits.flapTakeovers) t.bannedUntil = now + this.limits.flapBanMs
    this.takeovers.set(clientId, t)
    if (this.takeovers.size > MAX_KEYS) this.takeovers.clear()
    return t.bannedUntil > now
  }
}

/** Publishes per account: a token bucket refilled at the rate, as large as the burst. */
export class PublishBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly clock: Clock,
    private readonly limits: { readonly publishRate: number; readonly publishBurst: number },
  ) {}

  take(account: string): boolean {
    const { publishRate, publishBurst } = this.limits
    const now = this.clock.now()
    const b = this.buckets.get(account) ?? { tokens: publishBurst, at: now }
    b.tokens = Math.min(publishBurst, b.tokens + ((now - b.at) / 1000) * publishRate)
    b.at = now
    this.buckets.set(account, b)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }
}

/** Logs a reason once per client, or once a minute per address before there is a client. */
export class OnceLog {
  private readonly logged = new WeakMap<Client, Set<string>>()
  private readonly loggedAddresses = new Map<string, number>()

  constructor(private readonly clock: Clock) {}

  once(who: { client?: Client; address?: string }, reason: string, log: () => void): void {
    if (who.client) {
      const seen = this.logged.get(who.client) ?? new Set<string>()
      this.logged.set(who.client, seen)
      if (seen.has(reason)) return
      seen.add(reason)
      log()
      return
    }
    const key = `${who.address ?? ''}\u0000${reason}`
    const now = this.clock.now()
    if ((this.loggedAddresses.get(key) ?? -Infinity) > now - MINUTE) return
    if (this.loggedAddresses.size > 10_000) this.loggedAddresses.clear()
    this.loggedAddresses.set(key, now)
    log()
  }
}
