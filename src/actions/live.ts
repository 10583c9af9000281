import type { Action } from '../contract/schemas.ts'

export type ActionListener = (action: Action) => void

/**
 * Action changes for whoever watches live (the console's event stream): told of each message the
 * MQTT sink has published, so a watcher sees exactly what MQTT subscribers get, in the same order.
 */
export class LiveActions {
  private readonly listeners = new Set<ActionListener>()

  /** Returns the unsubscribe function. */
  subscribe(listener: ActionListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** An action message was published: every watcher gets it. */
  publish(action: Action): void {
    // One watcher that throws (a closed socket) must not stop the others nor the relay.
    for (const listener of this.listeners) {
      try {
        listener(action)
      } catch {
        this.listeners.delete(listener)
      }
    }
  }
}
