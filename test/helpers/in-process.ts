/**
 * The real service in this process, on a temporary data directory, with an MQTT client connected:
 * for tests that publish readings and read the API's answers with inject().
 */
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll } from 'vitest'
import { buildConfig, type ConfigSchema } from '../../src/config/config.ts'
import { type Service, startService } from '../../src/main.ts'
import { ROOT, tempDir } from './service-process.ts'

export interface InProcess {
  service: Service
  client: MqttClient
  stop(): Promise<void>
}

export async function startInProcess(
  flags: Partial<Record<keyof typeof ConfigSchema.static, string>> = {},
): Promise<InProcess> {
  const data = tempDir()
  const config = buildConfig({
    flags: {
      dataDir: data.path,
      rulesDir: join(ROOT, 'rules'),
      mqttPort: '0',
      wsPort: '0',
      httpPort: '0',
      ...flags,
    },
  })
  const service = await startService(config, { log: pino({ level: 'silent' }) })
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${service.mqttPort}`, { reconnectPeriod: 0 })
  return {
    service,
    client,
    stop: async () => {
      await client.endAsync()
      await service.stop()
      data.remove()
    },
  }
}

/**
 * The service of a suite, in event time with hourly sweeps (the rule tests move simulated time by
 * days): started before the suite's tests, stopped after them. Read it in a `beforeAll` or a test.
 */
export function eventTimeService(): InProcess {
  let running: InProcess | undefined
  beforeAll(async () => {
    running = await startInProcess({ clock: 'event', sweepIntervalMs: '1h' })
  })
  afterAll(async () => {
    await running?.stop()
  })
  const started = () => {
    if (!running) throw new Error('the service of this suite has not started')
    return running
  }
  return {
    get service() {
      return started().service
    },
    get client() {
      return started().client
    },
    stop: () => started().stop(),
  }
}
