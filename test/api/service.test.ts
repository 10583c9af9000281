/**
 * The service in this process (startService), for what the contract says about rule files, MQTT
 * over WebSocket and the API's answers to bad requests.
 */
import { cpSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConfig } from '../../src/config/config.ts'
import { type Service, startService } from '../../src/main.ts'
import { loadRuleDir } from '../../src/rules/loader.ts'
import { ROOT, tempDir } from '../helpers/service-process.ts'

describe('the service in process', () => {
  const data = tempDir()
  const rules = tempDir('printwarden-rules-')
  let service: Service
  const lines: Record<string, unknown>[] = []

  beforeAll(async () => {
    cpSync(join(ROOT, 'rules'), rules.path, { recursive: true })
    writeFileSync(
      join(rules.path, 'broken-operator.json'),
      JSON.stringify({
        name: 'broken',
        subject: 'toner',
        conditions: { all: [{ fact: 'toner', path: '$.level', operator: 'lessThen', value: 5 }] },
        event: { type: 'reorder' },
      }),
    )
    writeFileSync(join(rules.path, 'not-json.json'), '{ "name": ')
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) })
    const config = buildConfig({
      flags: { dataDir: data.path, rulesDir: rules.path, mqttPort: '0', wsPort: '0', httpPort: '0' },
    })
    service = await startService(config, { log })
  })
  afterAll(async () => {
    await service?.stop()
    data.remove()
    rules.remove()
  })

  it('reports each rule file that failed to load, with its reason, and runs the others', async () => {
    const res = await service.app.inject('/rules')
    expect(res.statusCode).toBe(200)
    const body = res.json<{ rules: { name: string }[]; failures: { file: string; reason: string }[] }>()
    const shipped = (await loadRuleDir(join(ROOT, 'rules'))).rules.map((r) => r.name)
    expect(body.rules.map((r) => r.name).sort()).toEqual(shipped.sort())
    expect(shipped.length).toBeGreaterThanOrEqual(4)
    expect(body.failures.map((f) => f.file)).toEqual(['broken-operator.json', 'not-json.json'])
    expect(body.failures[0]?.reason).toMatch(
      /broken-operator\.json: at \/conditions\/all\/0\/operator: unknown operator "lessThen"/,
    )
    expect(body.failures[1]?.reason).toMatch(/not-json\.json: not valid JSON/)
    expect(lines.filter((l) => l.code === 'PW_ERR_RULE_FILE').map((l) => l.file)).toEqual([
      'broken-operator.json',
      'not-json.json',
    ])
  })

  it('takes readings over MQTT on WebSocket, and still runs the good rules', async () => {
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${service.wsPort}`, { reconnectPeriod: 0 })
    await client.publishAsync(
      'fleet/v1/ws-site/WS-1/telemetry',
      JSON.stringify({ ts: Date.now() - 1000, toner: { magenta: 12 } }),
      { qos: 1 },
    )
    await client.endAsync()
    await service.processor.idle()
    const res = await service.app.inject('/actions?deviceId=WS-1')
    expect(res.json<{ items: { type: string; details: unknown }[] }>().items).toMatchObject([
      { type: 'reorder', details: { color: 'magenta', level: 12 } },
    ])
  })

  it('answers 400 with the problem for bad queries, and 404 for unknown routes', async () => {
    const badDevice = await service.app.inject('/actions?deviceId=has%20space')
    expect(badDevice.statusCode).toBe(400)
    expect(badDevice.json()).toMatchObject({
      error: 'PW_ERR_BAD_REQUEST',
      message: expect.stringMatching(/deviceId/),
    })
    const unknownParam = await service.app.inject('/actions?colour=black')
    expect(unknownParam.statusCode).toBe(400)
    const limit = await service.app.inject('/actions?limit=0')
    expect(limit.statusCode).toBe(400)
    const epoch = await service.app.inject(`/devices/WS-1/readings?from=0&to=${Date.now()}`)
    expect(epoch.statusCode).toBe(200)
    expect(epoch.json<{ items: unknown[] }>().items).toHaveLength(1)
    expect((await service.app.inject('/nothing-here')).statusCode).toBe(404)
    expect((await service.app.inject({ method: 'POST', url: '/actions/x/close' })).statusCode).toBe(404)
  })
})
