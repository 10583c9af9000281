import type { Broker } from '../broker/broker.ts'
import type { Action } from '../contract/schemas.ts'
import { formatTopic } from '../contract/topics.ts'
import type { ActionSink } from './outbox-relay.ts'

/** Publishes each action change on `{root}/{siteId}/{deviceId}/actions`, QoS 1. */
export function mqttActionSink(broker: Broker, topicRoot: string): ActionSink {
  return {
    name: 'mqtt',
    send: (action: Action) =>
      broker.publish(
        formatTopic(topicRoot, action.siteId, action.deviceId, 'actions'),
        JSON.stringify(action),
      ),
  }
}
