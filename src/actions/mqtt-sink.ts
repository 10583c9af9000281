import type { Broker } from '../broker/broker.ts'
import type { Action } from '../contract/schemas.ts'
import { formatSiteTopic, formatTopic } from '../contract/topics.ts'
import type { ActionSink } from './outbox-relay.ts'

/**
 * Publishes each action change on `{root}/{siteId}/{deviceId}/actions`, QoS 1; an action about a
 * whole site (no device) on `{root}/{siteId}/actions`.
 */
export function mqttActionSink(broker: Broker, topicRoot: string): ActionSink {
  return {
    name: 'mqtt',
    // aedes delivers publishes in the order they are made.
    pipelined: true,
    send: (action: Action) =>
      broker.publish(
        action.deviceId === undefined
          ? formatSiteTopic(topicRoot, action.siteId, 'actions')
          : formatTopic(topicRoot, action.siteId, action.deviceId, 'actions'),
        JSON.stringify(action),
      ),
  }
}
