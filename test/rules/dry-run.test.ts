/**
 * The operators' dry run: `rules test` over a file of readings and `rules backtest` over the
 * service's stored history, through the real validation, store and processor, with real rule files
 * in temporary folders. The command line itself runs as a child process, the way an operator runs it.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConfig } from '../../src/config/config.ts'
import type { Action } from '../../src/contract/schemas.ts'
import { startService } from '../../src/main.ts'
import { type DryRunReport, type DryRunSettings, formatReport } from '../../src/rules/dry-run/report.ts'
import { backtest, testReadings } from '../../src/rules/dry-run.ts'
import { ROOT, tempDir } from '../helpers/service-process.ts'

const HOUR = 3_600_000
const BASE = Date.parse('2026-11-20T08:00:00Z')
const iso = (ms: number) => new Date(ms).toISOString()

const dirs: { remove: () => void }[] = []
afterAll(() => {
  for (const d of dirs) d.remove()
})

function temp(prefix?: string): string {
  const d = tempDir(prefix)
  dirs.push(d)
  return d.path
}

/**
 * A copy of the shipped files of the contract's four rules, to edit: the shipped set grows, and
 * these tests are about the dry run, not about the newer rules.
 */
function rulesCopy(): string {
  const dir = temp('printwarden-rules-')
  for (const name of ['toner-reorder', 'waste-box', 'missed-reading', 'critical-fault'])
    cpSync(join(ROOT, 'rules', `${name}.json`), join(dir, `${name}.json`))
  return dir
}
const CORE_RULES = rulesCopy()

function readingsFile(lines: readonly (object | string)[]): string {
  const file = join(temp(), 'readings.jsonl')
  writeFileSync(file, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`)
  return file
}

/** A bare reading of one device, `hour` hours after BASE. */
const bare = (deviceId: string, hour: number, fields: object) => ({
  siteId: 'milano-hq',
  deviceId,
  ts: iso(BASE + hour * HOUR),
  ...fields,
})

/** The same, as the simulator's --out writes it. */
const onTopic = (deviceId: string, hour: number, fields: object) => ({
  topic: `fleet/v1/milano-hq/${deviceId}/telemetry`,
  payload: { ts: iso(BASE + hour * HOUR), ...fields },
})

const settings = (rulesDir = CORE_RULES): DryRunSettings => ({
  rulesDir,
  sweepIntervalMs: 60_000,
  topicRoot: 'fleet/v1',
  maxPayloadBytes: 262_144,
})

const dryRun = (file: string, rulesDir?: string, extra: { until?: number } = {}) =>
  testReadings({ ...settings(rulesDir), readingsFile: file, ...extra })

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/rules/cli.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A black toner falling from 50 to 18. */
const FALL_TO_18 = [
  onTopic('SCM-1', 0, { toner: { black: 50, cyan: 80 } }),
  onTopic('SCM-1', 1, { toner: { black: 25, cyan: 79 } }),
  onTopic('SCM-1', 2, { toner: { black: 18, cyan: 78 } }),
]

describe('rules test', () => {
  it('prints one reorder with its details when a toner falls to 18', async () => {
    const file = readingsFile(FALL_TO_18)
    const { code, stdout, stderr } = await runCli(['test', '--readings', file, '--rules-dir', CORE_RULES])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toContain('Actions that would be created: 1')
    expect(stdout).toContain(
      `${iso(BASE + 2 * HOUR)}  reorder  SCM-1 (milano-hq)  rule toner-reorder  open  {"color":"black","level":18,"expectedDelivery":"2026-11-24T18:00:00.000Z","delivery":{"step":"ordered","ordered":{"at":"${iso(BASE + 2 * HOUR)}"}}}`,
    )
    expect(stdout).toContain('By type: reorder 1')
  })

  it("takes the rules directory from the service's config file, as the service does", async () => {
    const rules = temp('printwarden-rules-')
    cpSync(join(ROOT, 'rules', 'missed-reading.json'), join(rules, 'missed-reading.json'))
    const config = join(temp(), 'printwarden.json')
    writeFileSync(config, JSON.stringify({ 'rules-dir': rules }))
    const { code, stdout } = await runCli([
      'test',
      '--readings',
      readingsFile(FALL_TO_18),
      '--config',
      config,
    ])
    expect(code).toBe(0)
    // Only the config file's one rule ran: the 18% makes no order.
    expect(stdout).toContain('Actions that would be created: 0')
  })

  it('creates no second order when a cartridge is shaken (a rise under 30)', async () => {
    const levels = [50, 25, 18, 40, 35, 19, 12]
    const report = await dryRun(
      readingsFile(levels.map((black, h) => bare('SCM-1', h, { toner: { black } }))),
    )
    expect(report.actions).toHaveLength(1)
    expect(report.actions[0]).toMatchObject({ type: 'reorder', status: 'open', details: { level: 18 } })
  })

  it('resolves the order at a new cartridge (a rise of 30 or more), and orders again when it runs low', async () => {
    const levels = [50, 18, 95, 60, 15]
    const report = await dryRun(
      readingsFile(levels.map((black, h) => bare('SCM-1', h, { toner: { black } }))),
    )
    expect(report.actions.map((a) => [a.status, a.details.level, a.createdAt])).toEqual([
      ['resolved', 18, iso(BASE + HOUR)],
      ['open', 15, iso(BASE + 4 * HOUR)],
    ])
  })

  it('makes the reorder disappear under a threshold of 10, and names the failed condition with its fact value', async () => {
    const rules = rulesCopy()
    const file = join(rules, 'toner-reorder.json')
    const rule = JSON.parse(readFileSync(file, 'utf8'))
    rule.conditions = { all: [{ fact: 'toner', path: '$.level', operator: 'lessThanInclusive', value: 10 }] }
    writeFileSync(file, JSON.stringify(rule, null, 2))

    const report = await dryRun(readingsFile(FALL_TO_18), rules)
    expect(report.actions).toEqual([])
    const why = report.notFired.find((n) => n.rule === 'toner-reorder' && n.deviceId === 'SCM-1')
    expect(why?.evaluatedAt).toBe(iso(BASE + 2 * HOUR))
    expect(why?.subjects.find((s) => s.subject === 'toner:black')?.failed).toEqual([
      { condition: 'toner.level lessThanInclusive 10', factValue: 18, held: false },
    ])
    expect(formatReport(report)).toContain(
      'toner:black: toner.level lessThanInclusive 10 failed, fact value 18',
    )
  })

  it('names a condition under "not" that held, with its fact value', async () => {
    const rules = temp('printwarden-rules-')
    writeFileSync(
      join(rules, 'not-black.json'),
      JSON.stringify({
        name: 'not-black',
        subject: 'toner',
        conditions: { all: [{ not: { fact: 'toner', path: '$.color', operator: 'equal', value: 'black' } }] },
        event: { type: 'colour-check' },
      }),
    )
    const report = await dryRun(readingsFile([bare('SCM-1', 0, { toner: { black: 40 } })]), rules)
    expect(report.notFired[0]?.subjects[0]?.failed).toEqual([
      { condition: 'toner.color equal "black"', factValue: 'black', held: true },
    ])
  })

  it('reports a broken rule file with its reason, and runs the others', async () => {
    const rules = rulesCopy()
    writeFileSync(join(rules, 'broken.json'), '{ "name": "broken", ')
    writeFileSync(
      join(rules, 'bad-operator.json'),
      JSON.stringify({
        name: 'bad-operator',
        subject: 'toner',
        conditions: { all: [{ fact: 'toner', path: '$.level', operator: 'below', value: 5 }] },
        event: { type: 'reorder' },
      }),
    )
    const report = await dryRun(readingsFile(FALL_TO_18), rules)
    expect(report.rules.failures.map((f) => f.file)).toEqual(['bad-operator.json', 'broken.json'])
    expect(report.rules.failures[0]?.reason).toMatch(
      /at \/conditions\/all\/0\/operator: unknown operator "below"/,
    )
    expect(report.rules.failures[1]?.reason).toMatch(/broken\.json: not valid JSON/)
    expect(report.rules.loaded.map((r) => r.name)).toEqual([
      'critical-fault',
      'missed-reading',
      'toner-reorder',
      'waste-box',
    ])
    expect(report.countsByType).toEqual({ reorder: 1 })
    expect(formatReport(report)).toMatch(/4 loaded .*, 2 failed to load:\n {2}bad-operator\.json: at/)
  })

  it('reports a malformed line with its reason, and goes on with the rest', async () => {
    const report = await dryRun(
      readingsFile([
        FALL_TO_18[0] as object,
        '{ not json',
        bare('SCM-1', 1, { toner: { black: 150 } }),
        { ts: iso(BASE + HOUR), toner: { black: 30 } },
        bare('SCM-1', 1, { toner: { black: 25 } }),
        { topic: 'fleet/v1/milano-hq/SCM-1/actions', payload: { ts: iso(BASE) } },
        bare('SCM-1', 2, {}),
        FALL_TO_18[2] as object,
      ]),
    )
    expect(report.input.rejected.map((r) => [r.line, r.reason])).toEqual([
      [2, 'not-json'],
      [3, 'invalid-payload'],
      [4, 'invalid-line'],
      [6, 'read-only-topic'],
      [7, 'invalid-payload'],
    ])
    expect(report.input.rejected[1]?.detail).toBe('/toner/black: Expected number to be less or equal to 100')
    expect(report.input.rejected[2]?.detail).toMatch(/"siteId" is missing/)
    expect(report.input).toMatchObject({ lines: 8, readings: 3, stored: 3 })
    expect(report.actions.map((a) => a.details)).toEqual([
      {
        color: 'black',
        level: 18,
        expectedDelivery: '2026-11-24T18:00:00.000Z',
        delivery: { step: 'ordered', ordered: { at: iso(BASE + 2 * HOUR) } },
      },
    ])
    expect(formatReport(report)).toContain('line 3: invalid-payload: /toner/black: Expected number')
  })

  it("takes the simulator's lines (arrays of readings, births) and bare readings in one file", async () => {
    const rules = temp('printwarden-rules-')
    writeFileSync(
      join(rules, 'kyocera-low.json'),
      JSON.stringify({
        name: 'kyocera-low',
        subject: 'toner',
        conditions: {
          all: [
            { fact: 'device', path: '$.vendor', operator: 'equal', value: 'Kyocera' },
            { fact: 'toner', path: '$.level', operator: 'lessThan', value: 50 },
          ],
        },
        event: { type: 'kyocera-low' },
      }),
    )
    const report = await dryRun(
      readingsFile([
        { topic: 'fleet/v1/milano-hq/K-1/birth', payload: { vendor: 'Kyocera', model: 'TASKalfa 2554ci' } },
        {
          topic: 'fleet/v1/milano-hq/K-1/telemetry',
          payload: [
            { ts: iso(BASE), toner: { black: 60 } },
            { ts: iso(BASE + HOUR), toner: { black: 55 } },
          ],
        },
        bare('K-1', 2, { toner: { black: 45 } }),
        bare('H-1', 2, { toner: { black: 45 } }),
        bare('K-1', 2, { toner: { black: 45 } }),
      ]),
      rules,
    )
    expect(report.input).toMatchObject({ readings: 5, births: 1, stored: 4, duplicates: 1, rejected: [] })
    expect(report.actions.map((a) => [a.deviceId, a.type, a.createdAt])).toEqual([
      ['K-1', 'kyocera-low', iso(BASE + 2 * HOUR)],
    ])
    expect(report.notFired.find((n) => n.deviceId === 'H-1')?.subjects[0]?.failed).toEqual([
      { condition: 'device.vendor equal "Kyocera"', factValue: null, held: false },
    ])
  })

  it('runs the silence rules as the readings move event time on, and once more at --until', async () => {
    // A falls silent; B goes on every 24 hours, and its readings move the clock past 120 hours.
    const lines = [
      bare('A', 0, { seq: 1 }),
      ...[0, 24, 48, 72, 96, 120, 144].map((h) => bare('B', h, { seq: h })),
    ]
    const report = await dryRun(readingsFile(lines), undefined, { until: BASE + 144 * HOUR })
    expect(report.actions).toEqual([
      expect.objectContaining({
        type: 'missed-reading',
        deviceId: 'A',
        // At the first sweep instant (every minute by default) past 120 hours, however far the
        // readings that moved the clock jumped.
        createdAt: iso(BASE + 120 * HOUR + 60_000),
        details: { lastReadingAt: iso(BASE), hoursSinceLastReading: 120 },
      }),
    ])
    const alone = await dryRun(readingsFile([bare('C', 0, { seq: 1 })]), undefined, {
      until: BASE + 121 * HOUR,
    })
    expect(alone.actions.map((a) => [a.type, a.createdAt])).toEqual([
      ['missed-reading', iso(BASE + 121 * HOUR)],
    ])
  })

  it('exits with 2 and a clear message for a bad command line or an unreadable file', async () => {
    const [missing, unreadable, badInstant, noDatabase, help] = await Promise.all([
      runCli(['test']),
      runCli(['test', '--readings', join(temp(), 'nothing-here.jsonl')]),
      runCli(['backtest', '--from', 'yesterday', '--to', '2026-11-20']),
      runCli(['backtest', '--from', '2026-11-01', '--to', '2026-11-30', '--data-dir', temp()]),
      runCli(['test', '--help']),
    ])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("required option '--readings <file>' not specified")
    expect(unreadable.code).toBe(2)
    expect(unreadable.stderr).toMatch(/rules: cannot read the readings file .*nothing-here\.jsonl: ENOENT/)
    expect(badInstant.code).toBe(2)
    expect(badInstant.stderr).toContain('--from "yesterday" is not an instant')
    expect(noDatabase.code).toBe(2)
    expect(noDatabase.stderr).toMatch(/rules: cannot open the database .*printwarden\.db/)
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('"topic":"fleet/v1/milano-hq/SCM-004512/telemetry"')
    expect(help.stdout).toContain('"siteId":"milano-hq","deviceId":"SCM-004512"')
  })
})

describe('rules backtest', () => {
  const data = temp()
  const dbFile = join(data, 'printwarden.db')
  const start = Date.now() - 48 * HOUR
  let served: Action[] = []

  beforeAll(async () => {
    const service = await startService(
      buildConfig({
        flags: { dataDir: data, rulesDir: CORE_RULES, mqttPort: '0', wsPort: '0', httpPort: '0' },
      }),
      { log: pino({ level: 'silent' }) },
    )
    try {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${service.mqttPort}`, { reconnectPeriod: 0 })
      const send = (device: string, hour: number, reading: object) =>
        client.publishAsync(
          `fleet/v1/torino/${device}/telemetry`,
          JSON.stringify({ ts: iso(start + hour * HOUR), ...reading }),
          { qos: 1 },
        )
      await client.publishAsync('fleet/v1/torino/P-1/birth', JSON.stringify({ vendor: 'Kyocera' }), {
        qos: 1,
        retain: true,
      })
      for (const [h, black] of [50, 30, 18, 40, 19].entries()) await send('P-1', h, { toner: { black } })
      const fault = [{ code: 'C-2557', severity: 'critical' }]
      await send('P-2', 0, { errors: fault, status: 'error' })
      await send('P-2', 1, { errors: [], status: 'ready' })
      await send('P-3', 0, { wasteBox: 'ok' })
      await send('P-3', 5, { wasteBox: 'nearFull' })
      await send('P-3', 10, { toner: { cyan: 5 }, wasteBox: 'nearFull' })
      await client.endAsync()
      await service.processor.idle()
      served = (await service.app.inject('/actions')).json<{ items: Action[] }>().items
    } finally {
      await service.stop()
    }
  })

  const comparable = (
    actions: readonly Pick<Action, 'type' | 'deviceId' | 'siteId' | 'rule' | 'status' | 'details'>[],
  ) =>
    actions
      .map(({ type, deviceId, siteId, rule, status, details }) => ({
        type,
        deviceId,
        siteId,
        rule,
        status,
        details,
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))

  it("finds the same actions as the service did over its stored readings, and leaves the service's database unchanged", async () => {
    const checksum = () => createHash('sha256').update(readFileSync(dbFile)).digest('hex')
    const before = { sum: checksum(), mtime: statSync(dbFile).mtimeMs }
    expect(comparable(served).map((a) => a.type)).toEqual(['fault', 'reorder', 'reorder', 'waste-box'])

    const { code, stdout, stderr } = await runCli([
      'backtest',
      '--from',
      iso(start - HOUR),
      '--to',
      iso(start + 11 * HOUR),
      '--data-dir',
      data,
      '--rules-dir',
      CORE_RULES,
      '--json',
    ])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const report = JSON.parse(stdout) as DryRunReport
    expect(comparable(report.actions)).toEqual(comparable(served))
    expect(report.input).toMatchObject({ readings: 10, stored: 10, births: 1, duplicates: 0 })

    expect({ sum: checksum(), mtime: statSync(dbFile).mtimeMs }).toEqual(before)
    // SQLite's companions of a reader, if any, hold nothing: no byte was written for the service.
    for (const f of readdirSync(data).filter((n) => n.endsWith('-wal')))
      expect(statSync(join(data, f)).size).toBe(0)
  })

  it('replays only the readings inside the window', async () => {
    const report = await backtest({
      ...settings(),
      dataDir: data,
      from: start + 3 * HOUR,
      to: start + 4 * HOUR,
    })
    // P-1's 40 and 19 are the same cartridge: 19 orders; the fall to 18 was before the window.
    expect(report.input.readings).toBe(2)
    expect(report.actions.map((a) => [a.deviceId, a.type, a.details])).toEqual([
      ['P-1', 'reorder', expect.objectContaining({ color: 'black', level: 19 })],
    ])
    expect(existsSync(dbFile)).toBe(true)
  })
})

describe('the dry run of a rule that follows up on an action', () => {
  it('sees the open order, as the service does: a colour still empty a working day after its expected delivery is chased', async () => {
    const rules = temp('printwarden-rules-')
    for (const name of ['toner-reorder', 'delivery-overdue'])
      cpSync(join(ROOT, 'rules', `${name}.json`), join(rules, `${name}.json`))
    const file = readingsFile([
      bare('LATE-1', 0, { toner: { black: 10 } }),
      ...Array.from({ length: 135 }, (_, h) => bare('LATE-1', h + 1, { toner: { black: 0 } })),
    ])
    const report = await testReadings({ ...settings(rules), sweepIntervalMs: HOUR, readingsFile: file })
    // Friday 08:00 UTC: expected Tuesday 18:00; a working day of grace more is Wednesday 18:00, hour 130.
    expect(report.actions.map((a) => [a.type, a.createdAt, a.details.workingDaysOverdue])).toEqual([
      ['reorder', iso(BASE), undefined],
      ['delivery-overdue', iso(BASE + 130 * HOUR), 1],
    ])
  })
})

describe('the dry run of a rule about a whole site', () => {
  it('asks a spare-kit site of the inventory to count, once, when the readings reach a new half-year', async () => {
    const rules = temp('printwarden-rules-')
    for (const name of ['toner-reorder', 'stock-reconciliation'])
      cpSync(join(ROOT, 'rules', `${name}.json`), join(rules, `${name}.json`))
    const data = temp()
    writeFileSync(
      join(data, 'inventory.json'),
      JSON.stringify({
        sites: [{ siteId: 'milano-hq', contact: 'facility@example.com', stockMode: 'spare-kit' }],
        devices: [],
      }),
    )
    const june = Date.parse('2026-06-30T20:00:00Z')
    const file = readingsFile(
      [0, 2, 4, 6, 8].flatMap((h) =>
        ['KIT-1', 'KIT-2'].map((deviceId) => ({
          siteId: 'milano-hq',
          deviceId,
          ts: iso(june + h * HOUR),
          toner: { black: 60 },
        })),
      ),
    )
    const report = await testReadings({
      ...settings(rules),
      sweepIntervalMs: HOUR,
      readingsFile: file,
      inventoryDir: data,
    })
    // About the site: no device.
    expect(report.actions.map((a) => [a.type, a.deviceId, a.siteId, a.details.period])).toEqual([
      ['stock-reconciliation', undefined, 'milano-hq', '2026-H2'],
    ])
    // It fired for the site: no device of the site is said to have missed it.
    expect(report.notFired.filter((n) => n.rule === 'stock-reconciliation')).toEqual([])
    // Without the inventory, no site is known: the rule says why it never fired.
    const bare = await testReadings({ ...settings(rules), sweepIntervalMs: HOUR, readingsFile: file })
    expect(bare.actions).toEqual([])
    const missed = bare.notFired.filter((n) => n.rule === 'stock-reconciliation')
    expect(missed.map((n) => n.deviceId)).toEqual(['KIT-1'])
    expect(JSON.stringify(missed[0])).toMatch(/--data-dir/)
  })
})
