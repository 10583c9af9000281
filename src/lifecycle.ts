/**
 * The one lifecycle every component has: start() and stop(). The service starts its components in
 * order and stops them in reverse, so a component stops while what it depends on still runs. A stop
 * must also take a start that failed half way.
 */
import type { Logger } from 'pino'

export interface Component {
  start(): Promise<void> | void
  stop(): Promise<void> | void
}

/** Components in start order; stopped in reverse. */
export class Components {
  private readonly list: { name: string; component: Component }[] = []
  private started = 0

  constructor(private readonly log: Logger) {}

  add(name: string, component: Component): this {
    this.list.push({ name, component })
    return this
  }

  /**
   * Starts each in order. If one fails, it is stopped (its stop takes a start left half done: a
   * broker that listens on one port of two), then those started before it, and its error is thrown.
   */
  async start(): Promise<void> {
    for (const { component } of this.list) {
      this.started++
      try {
        await component.start()
      } catch (err) {
        // The start's failure is the news: a stop that fails on the way back is logged by stop().
        await this.stop().catch(() => {})
        throw err
      }
    }
  }

  /**
   * Stops the started ones in reverse order. A failing stop is logged and the others still stop
   * (the database closes whatever happened before); the first failure is thrown at the end.
   */
  async stop(): Promise<void> {
    let first: unknown
    while (this.started > 0) {
      this.started--
      const { name, component } = this.list[this.started] as { name: string; component: Component }
      try {
        await component.stop()
      } catch (err) {
        this.log.error({ err, component: name }, `${name} did not stop cleanly`)
        first ??= err
      }
    }
    if (first !== undefined) throw first
  }
}
