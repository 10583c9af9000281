/**
 * What the service's components tell each other, as one typed event map: a component emits what
 * happened to it, and the composition root (src/main.ts, src/pipeline/core.ts) says who hears it.
 * No component holds a callback into another, nor waits for one made after it.
 */
import { EventEmitter } from 'node:events'

export interface ServiceEventMap {
  /**
   * A group commit stored something new: readings and births up to journal position `end`, the
   * devices whose birth message changed, and whether a gateway's state (or its devices) changed.
   */
  committed: [{ end: number; births: readonly string[]; gateways: boolean }]
  /** Processing committed outbox messages: actions created, changed or resolved. */
  actionsWritten: []
  /** A person changed an action through the API: a ticket's step, a stock count, a request. */
  actionChanged: []
  /** After a failed commit (a full disk), the store took a write again. */
  storeRecovered: []
}

export class ServiceEvents extends EventEmitter<ServiceEventMap> {}
