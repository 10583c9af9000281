/**
 * Rule files edited while the service runs: a good edit changes behaviour without a restart; a
 * broken edit is reported, and the last version that loaded keeps running.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConfig } from '../../src/config/config.ts'
import { type Service, startService } from '../../src/main.ts'
import { ROOT, tempDir, waitFor } from '../helpers/service-process.ts'

interface RulesView {
  rules: { name: string; file: string; conditions: { all?: { value: number }[] } }[]
  failures: { file: string; reason: string; running?: string }[]
}

describe('rule files edited while the service runs', () => {
  const data = tempDir()
  const rules = tempDir('printwarden-rules-')
  let service: Service
  const file = join(rules.path, 'toner-reorder.json')
  const threshold = async () => {
    const view = (await service.app.inject('/rules')).json<RulesView>()
    return (
      view.rules.find((r) => r.name === 'toner-reorder')?.conditions.all?.[0]?.value ??
      (view.rules.some((r) => r.name === 'toner-reorder') ? 'shipped' : undefined)
    )
  }
  let seq = 0
  const publish = async (device: string, black: number) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${service.mqttPort}`, { reconnectPeriod: 0 })
    await client.publishAsync(
      `fleet/v1/reload/${device}/telemetry`,
      JSON.stringify({ ts: Date.now() - 60_000 + seq++, toner: { black } }),
      { qos: 1 },
    )
    await client.endAsync()
    await service.processor.idle()
    return (await service.app.inject(`/actions?deviceId=${device}`)).json<{ items: unknown[] }>().items
  }

  beforeAll(async () => {
    cpSync(join(ROOT, 'rules'), rules.path, { recursive: true })
    rmSync(join(rules.path, 'README.md'))
    const config = buildConfig({
      flags: { dataDir: data.path, rulesDir: rules.path, mqttPort: '0', wsPort: '0', httpPort: '0' },
    })
    service = await startService(config, { log: pino({ level: 'silent' }) })
  })
  afterAll(async () => {
    await service?.stop()
    data.remove()
    rules.remove()
  })

  it('takes an edited threshold without a restart', async () => {
    expect(await threshold()).toBe('shipped')
    expect(await publish('R-1', 25)).toHaveLength(0)
    const edited = {
      ...JSON.parse(readFileSync(file, 'utf8')),
      conditions: { all: [{ fact: 'toner', path: '$.level', operator: 'lessThanInclusive', value: 30 }] },
    }
    writeFileSync(file, JSON.stringify(edited, null, 2))
    await waitFor(async () => ((await threshold()) === 30 ? true : undefined), 10_000, 'the new threshold')
    expect(await publish('R-1', 24)).toHaveLength(1)
  })

  it('reports a broken edit with its reason, and keeps the last version that loaded running', async () => {
    writeFileSync(file, '{ "name": "toner-reorder", ')
    const failure = await waitFor(
      async () => {
        const view = (await service.app.inject('/rules')).json<RulesView>()
        return view.failures.find((f) => f.file === 'toner-reorder.json')
      },
      10_000,
      'the failure to be reported',
    )
    expect(failure.reason).toMatch(/toner-reorder\.json: not valid JSON/)
    expect(failure.running).toBe('the last version that loaded')
    expect(await threshold()).toBe(30)
    expect(await publish('R-2', 28)).toHaveLength(1)
  })

  it("passes over editors' dot files, and reports a file it cannot read while the others run", async () => {
    symlinkSync('/nonexistent', join(rules.path, '.#toner-shake.json'))
    mkdirSync(join(rules.path, 'folder.json'))
    const failure = await waitFor(
      async () => {
        const view = (await service.app.inject('/rules')).json<RulesView>()
        return view.failures.find((f) => f.file === 'folder.json')
      },
      10_000,
      'the unreadable file to be reported',
    )
    expect(failure.reason).toMatch(/folder\.json: cannot be read/)
    const view = (await service.app.inject('/rules')).json<RulesView>()
    expect(view.failures.map((f) => f.file)).not.toContain('.#toner-shake.json')
    expect(view.rules.map((r) => r.name)).toContain('critical-fault')
  })

  it('drops the rule of a file that is removed', async () => {
    rmSync(file)
    await waitFor(
      async () => ((await threshold()) === undefined ? true : undefined),
      10_000,
      'the rule to go',
    )
    expect(await publish('R-3', 5)).toHaveLength(0)
  })
})
