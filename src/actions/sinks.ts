/**
 * The sinks the service's outbox relay sends each action to, as the configuration asks: MQTT
 * always (with the metrics and the console's live view watching what it published), InfluxDB,
 * a webhook, email.
 */
import type { Logger } from 'pino'
import type { Broker } from '../broker/broker.ts'
import type { Config } from '../config/config.ts'
import type { Action } from '../contract/schemas.ts'
import type { InfluxStore } from '../store/influx/influx-store.ts'
import { mqttActionSink } from './mqtt-sink.ts'
import type { ActionSink } from './outbox-relay.ts'
import { webhookSink } from './webhook-sink.ts'

/** A sink that also tells `after` of each message it sent. */
function observed(sink: ActionSink, after: (a: Action) => void): ActionSink {
  return {
    name: sink.name,
    ...(sink.pipelined ? { pipelined: true } : {}),
    send: async (a, position) => {
      await sink.send(a, position)
      // Sent is sent: a failing observer must not make the relay send the message again.
      try {
        after(a)
      } catch {}
    },
  }
}

export interface SinkSources {
  config: Pick<
    Config,
    'topicRoot' | 'webhookUrl' | 'webhookTimeoutMs' | 'webhookSecret' | 'webhookRetryMs' | 'webhookRetryMaxMs'
  >
  broker: Broker
  influx?: InfluxStore | undefined
  email?: ActionSink | undefined
  /** Told of each message MQTT subscribers got. */
  published: (a: Action) => void
  log: Logger
}

export function actionSinks({ config, broker, influx, email, published, log }: SinkSources): ActionSink[] {
  return [
    // The metrics and the console's live view follow what MQTT published: no cursor of their own
    // (an fsync a batch each), and exactly the messages subscribers got.
    observed(mqttActionSink(broker, config.topicRoot), published),
    ...(influx ? [{ name: 'influx', send: (a: Action) => influx.writeAction(a) }] : []),
    ...(config.webhookUrl
      ? [
          {
            ...webhookSink({
              url: config.webhookUrl,
              log: log.child({ module: 'webhook' }),
              timeoutMs: config.webhookTimeoutMs,
              ...(config.webhookSecret ? { secret: config.webhookSecret } : {}),
            }),
            retry: {
              initialMs: config.webhookRetryMs,
              maxMs: Math.max(config.webhookRetryMs, config.webhookRetryMaxMs),
            },
          },
        ]
      : []),
    ...(email ? [email] : []),
  ]
}
