/**
 * The in-process what-if against the run over MQTT: the same seed, the same scenario, the same
 * rules and sweep interval give the same actions, whether the readings cross a socket to the
 * service in a process of its own or are handed to its core in this one.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { configFromFlags, type Flags } from '../../simulator/options.ts'
import { type RunReport, run } from '../../simulator/runner.ts'
import type { Action } from '../../src/contract/schemas.ts'
import { kill9, startServiceProcess, tempDir } from '../helpers/service-process.ts'

const FLAGS: Flags = {
  broker: 'mqtt://127.0.0.1:1883',
  actions: true,
  lockstep: true,
  scenario: 'demo',
  duration: '30d',
  speed: 'max',
  topicRoot: 'fleet/v1',
  window: '32',
  maxPayload: '250000',
  clientPrefix: 'in-process-test',
  progress: 'none',
  linger: '1s',
}

/** What an action is, whatever its run: not its id. */
const essence = (a: Action) => ({
  type: a.type,
  deviceId: a.deviceId ?? null,
  siteId: a.siteId,
  rule: a.rule,
  status: a.status,
  createdAt: a.createdAt,
})
const byTime = (list: Action[]) =>
  list.map(essence).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))

async function overMqtt(): Promise<{ report: RunReport; actions: Action[] }> {
  const data = tempDir('printwarden-sim-mqtt-')
  const service = await startServiceProcess({
    dataDir: data.path,
    extra: ['--clock', 'event', '--sweep-interval', '1h'],
  })
  try {
    const report = await run(configFromFlags({ ...FLAGS, broker: service.mqttUrl, api: service.http }))
    const res = await fetch(`${service.http}/actions?limit=10000`)
    return { report, actions: ((await res.json()) as { items: Action[] }).items }
  } finally {
    await kill9(service)
    data.remove()
  }
}

async function inProcess(): Promise<{ report: RunReport; actions: Action[] }> {
  let actions: Action[] = []
  const cfg = configFromFlags({ ...FLAGS, inProcess: true, sweepInterval: '1h' })
  cfg.inspect = async (api) => {
    actions = (await api.get<{ items: Action[] }>('/actions?limit=10000')).items
  }
  return { report: await run(cfg), actions }
}

describe('the in-process what-if', () => {
  it('makes the same actions as the run over MQTT with the same seed, and the same KPIs', async () => {
    const mqtt = await overMqtt()
    const local = await inProcess()
    expect(local.report.run.broker).toBe('in-process')
    expect(mqtt.actions.length).toBeGreaterThan(20)
    expect(new Set(mqtt.actions.map((a) => a.type)).size).toBeGreaterThanOrEqual(3)
    expect(byTime(local.actions)).toEqual(byTime(mqtt.actions))
    expect(local.report.kpis).toEqual(mqtt.report.kpis)
    expect(local.report.published).toEqual(mqtt.report.published)
  })

  it('refuses rule files that do not load, naming the file and the reason', async () => {
    const dir = tempDir('printwarden-what-if-rules-')
    mkdirSync(dir.path, { recursive: true })
    writeFileSync(join(dir.path, 'broken.json'), '{ "name": "broken", ')
    try {
      const cfg = configFromFlags({ ...FLAGS, inProcess: true, rules: dir.path, duration: '1d' })
      await expect(run(cfg)).rejects.toThrow(/broken\.json/)
    } finally {
      dir.remove()
    }
  })

  it('refuses --in-process with --api or --dry-run, and --rules without it, saying why', () => {
    expect(() => configFromFlags({ ...FLAGS, inProcess: true, api: 'http://127.0.0.1:3000' })).toThrow(
      /--api/,
    )
    expect(() => configFromFlags({ ...FLAGS, inProcess: true, dryRun: true })).toThrow(/--dry-run/)
    expect(() => configFromFlags({ ...FLAGS, rules: 'rules' })).toThrow(/--in-process/)
    expect(() => configFromFlags({ ...FLAGS, inProcess: true, rules: '/nonexistent-rules' })).toThrow(
      /no such folder/,
    )
  })
})
