/**
 * The closed loop against the real service in event time: 50 printers over 60 simulated days, once
 * with the shipped rules and once with none. The simulator delivers what the service orders and
 * repairs what it tickets, in lockstep with its processing.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { configFromFlags } from '../../simulator/options.ts'
import { type RunReport, run } from '../../simulator/runner.ts'
import type { Action } from '../../src/contract/schemas.ts'
import { actions } from '../helpers/fleet.ts'
import { kill9, startServiceProcess, tempDir } from '../helpers/service-process.ts'

const SCENARIO = join(import.meta.dirname, 'scenarios/closed-loop.json')

async function simulate(rulesDir?: string): Promise<{ report: RunReport; reorders: Action[] }> {
  const data = tempDir('printwarden-sim-')
  const service = await startServiceProcess({
    dataDir: data.path,
    ...(rulesDir === undefined ? {} : { rulesDir }),
    extra: ['--clock', 'event', '--sweep-interval', '1h'],
  })
  try {
    const cfg = configFromFlags({
      broker: service.mqttUrl,
      api: service.http,
      actions: true,
      lockstep: true,
      scenario: SCENARIO,
      speed: 'max',
      topicRoot: 'fleet/v1',
      window: '32',
      maxPayload: '250000',
      clientPrefix: `closed-loop-${rulesDir === undefined ? 'rules' : 'none'}`,
      progress: 'none',
      linger: '1s',
    })
    const report = await run(cfg)
    return { report, reorders: await actions(service.http, '?type=reorder') }
  } finally {
    await kill9(service)
    data.remove()
  }
}

describe('the closed loop', () => {
  const empty = tempDir('printwarden-no-rules-')
  mkdirSync(empty.path, { recursive: true })
  afterAll(() => empty.remove())

  it('detects every silence and critical fault, never orders a cartridge twice, chases no order that arrives in time, and stops printers less than no rules do', async () => {
    const [withRules, without] = await Promise.all([simulate(), simulate(empty.path)])
    const k = withRules.report.kpis

    // Every silence (each longer than the 5-day rule) is found, about 5 days after it began.
    expect(k.silences.injected).toBeGreaterThanOrEqual(3)
    expect(k.silences.detectable).toBe(k.silences.injected)
    expect(k.silences.detected).toBe(k.silences.detectable)
    expect(k.silences.detectionDelayHours.max).toBeLessThanOrEqual(120 + 2)
    // Every critical fault a printer reported got a ticket, and the technician came.
    expect(k.faults.injected).toBeGreaterThanOrEqual(3)
    expect(k.faults.reported).toBe(k.faults.injected)
    expect(k.faults.ticketed).toBe(k.faults.injected)
    expect(k.faults.repaired).toBeGreaterThan(0)

    // No cartridge ordered twice: per device and colour, no two reorders are ever open together.
    expect(k.orders.duplicates).toBe(0)
    const open = (a: Action) => [
      Date.parse(a.createdAt),
      a.status === 'resolved' ? Date.parse(a.updatedAt) : Infinity,
    ]
    const byCartridge = new Map<string, Action[]>()
    for (const a of withRules.reorders) {
      const key = `${a.deviceId}/${String(a.details.color)}`
      byCartridge.set(key, [...(byCartridge.get(key) ?? []), a])
    }
    expect(withRules.reorders.length).toBeGreaterThan(20)
    for (const list of byCartridge.values()) {
      const spans = list.map(open).sort((a, b) => (a[0] as number) - (b[0] as number))
      for (let i = 1; i < spans.length; i++)
        expect(spans[i]?.[0] as number).toBeGreaterThanOrEqual(spans[i - 1]?.[1] as number)
    }
    // The orders arrived and were fitted: the loop is closed.
    expect(k.supplies.cartridgesFitted).toBeGreaterThan(10)
    expect(withRules.report.kpis.orders.lateEffects).toBe(0)
    // No follow-up chased an order that then arrived within its lead time.
    expect(k.followUps.chasedOrdersOnTime).toBe(0)

    // With no rules nothing is ordered or ticketed, and printers stay stopped far longer.
    expect(without.report.kpis.actions).toEqual({})
    expect(without.report.kpis.supplies.cartridgesFitted).toBe(0)
    expect(without.report.kpis.stockout.hours).toBeGreaterThan(10 * k.stockout.hours)
    expect(k.stockout.hours).toBeLessThan(without.report.kpis.stockout.hours)
  }, 110_000)
})
