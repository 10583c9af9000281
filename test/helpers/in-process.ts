/**
 * The real service in this process, on a temporary data directory, with an MQTT client connected:
 * for tests that publish readings and read the API's answers with inject().
 */
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import pino from 'pino'
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
