/**
 * The only place that reads the wall clock. Everything else is handed a Clock, so that tests and
 * faster-than-real-time simulations decide what "now" is.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

export const wallClock: Clock = { now: () => Date.now() }

/** A clock that stands still until told to move: for tests. */
export class ManualClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current
  }
  set(ms: number): void {
    this.current = ms
  }
  advance(ms: number): void {
    this.current += ms
  }
}

/**
 * Event time: "now" is the newest reading's timestamp, so that a simulation running faster than
 * real time sees silences and due dates as it would in real time. It never goes back.
 */
export class EventClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current
  }
  advanceTo(ts: number): void {
    if (ts > this.current) this.current = ts
  }
}
