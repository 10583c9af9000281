/** Printer models and scenarios are data: each shipped file loads, and a broken one says where it is broken. */

import ms from 'ms'
import { describe, expect, it } from 'vitest'
import { SimulatorError } from '../../simulator/errors.ts'
import { loadModels } from '../../simulator/models.ts'
import { configFromFlags, type Flags } from '../../simulator/options.ts'
import { planFleet } from '../../simulator/plan.ts'
import { wallOffsetMs } from '../../simulator/runner.ts'
import { loadScenario } from '../../simulator/scenario.ts'
import {
  defineModel,
  monoToner,
  noWasteBox,
  office,
  simulated,
  source,
} from '../../src/catalogue/capabilities.ts'
import { MODELS } from '../../src/catalogue/catalogue.ts'
import { kyocera } from '../../src/catalogue/vendors/kyocera.ts'

describe('printer models', () => {
  const models = loadModels()

  it('ships at least four, from Kyocera and Konica Minolta, mono and colour', () => {
    expect(models.size).toBeGreaterThanOrEqual(4)
    const all = [...models.values()]
    expect(new Set(all.map((m) => m.vendor))).toEqual(new Set(['Kyocera', 'Konica Minolta']))
    expect(all.some((m) => m.color)).toBe(true)
    expect(all.some((m) => !m.color)).toBe(true)
    expect(all.some((m) => m.wasteBoxShipsWithToner)).toBe(true)
    expect(all.some((m) => m.sensorStep >= 20)).toBe(true)
  })

  it('gives every model service codes, jams and covers, with severities, rates and repair times', () => {
    for (const m of models.values()) {
      const service = m.errors.filter((e) => e.kind === 'service')
      expect(service.length, m.model).toBeGreaterThan(0)
      expect(service.every((e) => e.severity === 'critical' && (e.repairHours ?? 0) > 0)).toBe(true)
      expect(m.errors.some((e) => e.kind === 'jam' && e.severity === 'warning')).toBe(true)
      expect(m.errors.some((e) => e.kind === 'cover')).toBe(true)
      expect(m.errors.every((e) => e.per100kPages > 0)).toBe(true)
    }
  })

  it('plays exactly the models of the shared catalogue, with their waste-box facts', () => {
    expect([...models.values()].map((m) => `${m.vendor} ${m.model}`).sort()).toEqual(
      MODELS.map((p) => `${p.vendor} ${p.model}`).sort(),
    )
    expect(models.get('kyocera-ecosys-m3145dn')?.wasteBoxShipsWithToner).toBe(true)
    expect(models.get('konica-minolta-bizhub-c300i')?.wasteBoxShipsWithToner).toBe(false)
  })

  it('names the model and the path of a catalogue entry that does not fit the schema', () => {
    expect(() =>
      defineModel(
        kyocera,
        'Broken 1',
        office('A4', 30),
        monoToner(10_000),
        noWasteBox(),
        simulated({ monthlyPages: 1000, sensorStep: 40, errors: [] }),
        source('a test'),
      ),
    ).toThrow(/Kyocera Broken 1: at \/simulation\/sensorStep/)
  })
})

describe('scenarios', () => {
  it('ships a demo fleet, a 10,000-device load fleet on 500 sites and a bad week, each of which plans', () => {
    const models = loadModels()
    const load = loadScenario('load-10k').scenario
    expect([load.devices, load.sites]).toEqual([10_000, 500])
    for (const name of ['demo', 'load-10k', 'bad-week']) {
      const { scenario } = loadScenario(name)
      const plan = planFleet(scenario, models, {
        devices: scenario.devices,
        sites: scenario.sites,
        seed: scenario.seed ?? 1,
        start: Date.parse(scenario.start ?? ''),
        durationMs: ms((scenario.duration ?? '30d') as ms.StringValue),
        intervalMs: ms((scenario.interval ?? '15m') as ms.StringValue),
      })
      expect(plan.devices.length).toBe(scenario.devices)
      expect(plan.skipped).toEqual([])
      expect(new Set(plan.devices.map((d) => d.deviceId)).size).toBe(scenario.devices)
    }
    const bad = loadScenario('bad-week').scenario
    expect(bad.events?.filter((e) => e.type === 'outage').length).toBeGreaterThan(0)
    expect(bad.behaviour?.shakerSites).toBe(1)
    expect(bad.behaviour?.faultRateFactor).toBeGreaterThan(1)
  })

  it('lets flags override the scenario, and names a bad flag', () => {
    const flags: Flags = {
      broker: 'mqtt://127.0.0.1:1883',
      actions: true,
      lockstep: true,
      scenario: 'demo',
      speed: '86400',
      devices: '7',
      sites: '2',
      duration: '3d',
      interval: '1h',
      topicRoot: 'fleet/v1',
      window: '8',
      maxPayload: '250000',
      clientPrefix: 'sim',
      progress: 'none',
      linger: '1s',
    }
    const cfg = configFromFlags(flags)
    expect([cfg.devices, cfg.sites, cfg.durationMs, cfg.intervalMs, cfg.speed]).toEqual([
      7,
      2,
      3 * 86_400_000,
      3_600_000,
      86_400,
    ])
    expect(cfg.seed).toBe(1)
    const bad = (f: Partial<Flags>) => () => configFromFlags({ ...flags, ...f })
    expect(bad({ speed: 'fast' })).toThrow(SimulatorError)
    expect(bad({ speed: 'fast' })).toThrow(/--speed fast/)
    expect(bad({ duration: 'soon' })).toThrow(/--duration soon/)
    expect(bad({ sites: '9' })).toThrow(/--sites 9 is more than --devices 7/)
    expect(bad({ start: '2026-01-05T00:00:00' })).toThrow(/--start .* with its zone/)
    expect(bad({ scenario: '/nowhere/x.json' })).toThrow(/PW_ERR_SIM_SCENARIO|cannot read the scenario/)
  })
})

describe('--speed', () => {
  it('paces simulated time at the given simulated seconds per second, or not at all at max', () => {
    expect(wallOffsetMs(3_600_000, 3600)).toBe(1000)
    expect(wallOffsetMs(86_400_000, 86_400)).toBe(1000)
    expect(wallOffsetMs(30 * 86_400_000, 'max')).toBe(0)
  })
})
