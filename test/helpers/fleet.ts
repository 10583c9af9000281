import mqtt, { type MqttClient } from 'mqtt'
import type { Action } from '../../src/contract/schemas.ts'
import { getJson, waitFor } from './service-process.ts'

export const HOUR = 3_600_000
export const iso = (ms: number) => new Date(ms).toISOString()

export interface Published {
  topic: string
  payload: string
}

export const telemetry = (site: string, device: string, reading: unknown): Published => ({
  topic: `fleet/v1/${site}/${device}/telemetry`,
  payload: JSON.stringify(reading),
})

export async function connect(url: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000 })
}

/** Publishes in order, each QoS 1, waiting for its PUBACK. */
export async function publishAll(
  client: MqttClient,
  messages: readonly Published[],
  retain = false,
): Promise<void> {
  for (const m of messages) await client.publishAsync(m.topic, m.payload, { qos: 1, retain })
}

/** Records every action message the service publishes. */
export async function watchActions(url: string): Promise<{ client: MqttClient; messages: Action[] }> {
  const client = await connect(url)
  const messages: Action[] = []
  client.on('message', (_topic, payload) => messages.push(JSON.parse(payload.toString()) as Action))
  await client.subscribeAsync('fleet/v1/+/+/actions', { qos: 1 })
  return { client, messages }
}

/** Waits until every stored reading is processed. */
export async function settled(http: string): Promise<void> {
  await waitFor(
    async () => {
      const { body } = await getJson<{ processing: { backlog: number } }>(`${http}/stats`)
      return body.processing.backlog === 0 ? true : undefined
    },
    20_000,
    'processing to catch up',
  )
}

export async function actions(http: string, query = ''): Promise<Action[]> {
  const { status, body } = await getJson<{ items: Action[] }>(`${http}/actions${query}`)
  if (status !== 200) throw new Error(`GET /actions${query} answered ${status}`)
  return body.items
}

/** Waits until `n` more sweeps have run to their end: for "nothing more happens" without a sleep. */
export async function sweepsPass(http: string, n: number): Promise<void> {
  const sweeps = async () =>
    (await getJson<{ processing: { sweeps: number } }>(`${http}/stats`)).body.processing.sweeps
  const from = await sweeps()
  await waitFor(async () => ((await sweeps()) >= from + n ? true : undefined), 20_000, `${n} sweeps`)
}
