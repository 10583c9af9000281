import type { Action } from '../contract/schemas.ts'
import type { ActionSink } from './outbox-relay.ts'

export type ActionListener = (action: Action) => void

/**
 * Action changes for whoever watches live (the console's event stream): fed by the outbox relay as
 * one more sink, so a watcher sees exactly the messages MQTT subscribers get, in the same order.
 */
export class LiveActions {
  private readonly listeners = new Set<ActionListener>()

  /** Returns the unsubscribe function. */
  subscribe(listener: ActionListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  sink(): ActionSink {
    return {
      name: 'live',
      send: async (action) => {
        // One watcher that throws (a closed socket) must not stop the others nor the relay.
        for (const listener of this.listeners) {
          try {
            listener(action)
          } catch {
            this.listeners.delete(listener)
          }
        }
      },
    }
  }
}
