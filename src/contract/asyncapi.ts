/**
 * The MQTT contract as an AsyncAPI 3 document, built from the same TypeBox schemas that ingest
 * validates with and the API answers with: `npm run docs:asyncapi` writes it to docs/asyncapi.json,
 * and a test checks the file is what this function builds now, so the two cannot drift.
 */
import pkg from '../../package.json' with { type: 'json' }
import { Action, Birth, GatewayStatus, Telemetry } from './schemas.ts'
import { ID_PATTERN } from './topics.ts'

/** TypeBox schemas carry symbol keys; JSON keeps only the JSON Schema. */
const json = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema))

const idParameter = (what: string) => ({
  description: `the ${what} ID, matching ${ID_PATTERN}; \`actions\` and \`gateways\` are reserved`,
})

const mqtt = (qos: 0 | 1, retain: boolean) => ({ mqtt: { qos, retain, bindingVersion: '0.2.0' } })

export function buildAsyncApi(topicRoot = 'fleet/v1'): Record<string, unknown> {
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'printwarden MQTT contract',
      version: pkg.version,
      description:
        'What gateways and the simulator publish to printwarden, and what it publishes back. ' +
        `Topic root \`${topicRoot}\` (configurable with --topic-root). docs/contract.md says it in prose.`,
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      embedded: {
        host: 'localhost:1883',
        protocol: 'mqtt',
        protocolVersion: '3.1.1',
        description: 'the broker embedded in the service (--mqtt-port)',
        bindings: {
          mqtt: {
            // A gateway's last will: the service learns it went away without a clean stop.
            lastWill: {
              topic: `${topicRoot}/{siteId}/gateways/{gatewayId}/status`,
              qos: 1,
              retain: true,
              message: '{"state":"offline"}',
            },
            bindingVersion: '0.2.0',
          },
        },
      },
      websocket: {
        host: 'localhost:9001',
        protocol: 'ws',
        description: 'MQTT over WebSocket on the same broker (--ws-port)',
      },
    },
    channels: {
      telemetry: {
        address: `${topicRoot}/{siteId}/{deviceId}/telemetry`,
        description:
          'One reading, or an array of up to 1,000 readings of that device. Never retained: the broker keeps no copy. ' +
          'A duplicate (same device and seq, or same device and ts) is dropped and changes nothing.',
        parameters: { siteId: idParameter('site'), deviceId: idParameter('device') },
        messages: { telemetry: { $ref: '#/components/messages/telemetry' } },
      },
      birth: {
        address: `${topicRoot}/{siteId}/{deviceId}/birth`,
        description: "A device's description, retained. All fields optional.",
        parameters: { siteId: idParameter('site'), deviceId: idParameter('device') },
        messages: { birth: { $ref: '#/components/messages/birth' } },
      },
      gatewayStatus: {
        address: `${topicRoot}/{siteId}/gateways/{gatewayId}/status`,
        description:
          'A gateway\'s state, retained: "online" when it connects; its last will is {"state":"offline"}.',
        parameters: { siteId: idParameter('site'), gatewayId: idParameter('gateway') },
        messages: { gatewayStatus: { $ref: '#/components/messages/gatewayStatus' } },
      },
      deviceActions: {
        address: `${topicRoot}/{siteId}/{deviceId}/actions`,
        description: 'One message each time an action of that device is created or changes status.',
        parameters: { siteId: idParameter('site'), deviceId: idParameter('device') },
        messages: { action: { $ref: '#/components/messages/action' } },
      },
      siteActions: {
        address: `${topicRoot}/{siteId}/actions`,
        description: 'The same, for actions about a whole site (these have no deviceId).',
        parameters: { siteId: idParameter('site') },
        messages: { action: { $ref: '#/components/messages/action' } },
      },
    },
    operations: {
      receiveTelemetry: {
        action: 'receive',
        summary: 'the service takes readings (QoS 0 or 1; with QoS 1 the PUBACK means stored)',
        channel: { $ref: '#/channels/telemetry' },
        messages: [{ $ref: '#/channels/telemetry/messages/telemetry' }],
        bindings: mqtt(1, false),
      },
      receiveBirth: {
        action: 'receive',
        summary: "the service takes a device's description",
        channel: { $ref: '#/channels/birth' },
        messages: [{ $ref: '#/channels/birth/messages/birth' }],
        bindings: mqtt(1, true),
      },
      receiveGatewayStatus: {
        action: 'receive',
        summary: "the service follows each gateway's state and its will",
        channel: { $ref: '#/channels/gatewayStatus' },
        messages: [{ $ref: '#/channels/gatewayStatus/messages/gatewayStatus' }],
        bindings: mqtt(1, true),
      },
      sendDeviceAction: {
        action: 'send',
        summary: "the service publishes each change of a device's action",
        channel: { $ref: '#/channels/deviceActions' },
        messages: [{ $ref: '#/channels/deviceActions/messages/action' }],
        bindings: mqtt(1, false),
      },
      sendSiteAction: {
        action: 'send',
        summary: "the service publishes each change of a site's action",
        channel: { $ref: '#/channels/siteActions' },
        messages: [{ $ref: '#/channels/siteActions/messages/action' }],
        bindings: mqtt(1, false),
      },
    },
    components: {
      messages: {
        telemetry: {
          name: 'telemetry',
          title: 'A reading, or a batch of readings',
          payload: { $ref: '#/components/schemas/Telemetry' },
          examples: [
            {
              payload: {
                ts: '2026-11-20T08:00:00Z',
                seq: 1017,
                toner: { black: 64, cyan: 41 },
                counters: { total: 182340 },
                status: 'ready',
              },
            },
          ],
        },
        birth: {
          name: 'birth',
          title: "A device's description",
          payload: { $ref: '#/components/schemas/Birth' },
        },
        gatewayStatus: {
          name: 'gatewayStatus',
          title: "A gateway's state",
          payload: { $ref: '#/components/schemas/GatewayStatus' },
        },
        action: {
          name: 'action',
          title: 'An action, as the API shows it',
          payload: { $ref: '#/components/schemas/Action' },
        },
      },
      schemas: {
        Telemetry: json(Telemetry),
        Birth: json(Birth),
        GatewayStatus: json(GatewayStatus),
        Action: json(Action),
      },
    },
  }
}
