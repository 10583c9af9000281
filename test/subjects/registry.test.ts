/**
 * The declarations are what the code does: the facts that each subject's instances carry are the
 * ones its declaration names, with the fields and types of their schemas, and the lists of subjects
 * that readings and deadlines wake are read from the declarations.
 */
import { join } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { describe, expect, it } from 'vitest'
import { type DeviceState, step } from '../../src/domain/device-state.ts'
import type { Reading } from '../../src/domain/reading.ts'
import { SITE_SWEEP_KINDS } from '../../src/pipeline/site-sweeps.ts'
import type { SubjectInstance } from '../../src/rules/facts.ts'
import { loadRuleDir } from '../../src/rules/loader.ts'
import {
  currentEpisodes,
  DEVICE_DEADLINES,
  DEVICE_SUBJECTS,
  subjectsOf,
} from '../../src/subjects/device-subjects.ts'
import { FACT_SCHEMAS, type FactName } from '../../src/subjects/fact-schemas.ts'
import { gatewaySubject } from '../../src/subjects/gateway.ts'
import { SUBJECT_KINDS, SUBJECTS, subjectsWoken } from '../../src/subjects/registry.ts'
import { scopeOf } from '../../src/subjects/scope.ts'
import { stockSubject } from '../../src/subjects/stock.ts'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 9, 5, 8)
const reading = (h: number, fields: Partial<Reading>): Reading => ({
  deviceId: 'REG-1',
  siteId: 'reg',
  ts: T0 + h * HOUR,
  ...fields,
})

/** A device with every device subject present: colours, a full box, an error that came back. */
function busyDevice(): DeviceState {
  const readings = [
    reading(0, { toner: { black: 40, cyan: 30 }, wasteBox: 'ok', counters: { total: 100 }, status: 'ready' }),
    reading(1, { toner: { black: 35, cyan: 28 }, errors: [{ code: 'J-1', severity: 'warning' }] }),
    reading(2, { toner: { black: 30, cyan: 25 }, errors: [], wasteBox: 'full' }),
    reading(3, {
      toner: { black: 25, cyan: 22 },
      errors: [{ code: 'J-1', severity: 'warning', text: 'jam' }],
    }),
  ]
  let state: DeviceState | undefined
  for (const r of readings) state = step(state, r)
  if (!state) throw new Error('no state')
  return state
}

function expectFactsOfDeclaration(subject: SubjectInstance) {
  const declared = SUBJECTS[subject.kind].facts
  expect(Object.keys(subject.facts).sort()).toEqual([...declared].sort())
  for (const name of declared) {
    const schema = FACT_SCHEMAS[name as FactName]
    const fact = subject.facts[name] as Record<string, unknown>
    expect(Object.keys(fact).sort(), `${subject.kind}: ${name}`).toEqual(
      Object.keys(schema.properties).sort(),
    )
    expect([...Value.Errors(schema, fact)].map((e) => `${name}${e.path}: ${e.message}`)).toEqual([])
  }
}

describe('the subject declarations', () => {
  it.each(subjectsWoken('device', 'reading').concat(subjectsWoken('device', 'deadline')))(
    'a device subject (%s) carries the facts its declaration names, as their schemas say',
    (kind) => {
      // An hour after the last reading; for billing two months on, with no counters since.
      const at = T0 + (kind === 'billing' ? 60 * 24 : 4) * HOUR
      const instances = subjectsOf(kind, busyDevice(), { model: 'M-1', contact: 'a@b.c' }, at)
      expect(instances.length).toBeGreaterThan(0)
      for (const instance of instances) expectFactsOfDeclaration(instance)
    },
  )

  it.each([4, 60 * 24, 8 * 24])(
    "a device's current episodes are those of its subjects' instances, %i hours on",
    (hours) => {
      const at = T0 + hours * HOUR
      const state = busyDevice()
      const fromInstances = SUBJECT_KINDS.flatMap((kind) =>
        subjectsOf(kind, state, {}, at).map((i) => [i.key, i.episode] as const),
      )
      expect(fromInstances.length).toBeGreaterThan(0)
      expect(Object.fromEntries(currentEpisodes(state, at))).toEqual(Object.fromEntries(fromInstances))
    },
  )

  it('the site subjects carry the facts their declarations name', () => {
    const at = Date.UTC(2026, 8, 1, 12)
    const site = { siteId: 'reg', name: 'Reg', customer: 'C', contact: 'a@b.c' }
    const stock = stockSubject(
      site,
      {
        count: null,
        lines: [{ model: 'M', color: 'black', expected: 2, counted: 1, shipped: 1, extra: 0, installed: 0 }],
      },
      at - 400 * 24 * HOUR,
      at,
    )
    const gateway = gatewaySubject(
      {
        siteId: 'reg',
        gatewayId: 'gw',
        state: 'offline',
        since: at - HOUR,
        devices: ['REG-1'],
        software: null,
      },
      site,
      at,
    )
    if (!stock || !gateway) throw new Error('expected a stock and a gateway subject')
    expectFactsOfDeclaration(stock)
    expectFactsOfDeclaration(gateway)
  })

  it('every kind is woken by readings or by deadlines, and the ledger reads its scope from it', () => {
    const woken = [...subjectsWoken('device', 'reading'), ...subjectsWoken('device', 'deadline')]
    expect(woken).toEqual(
      expect.arrayContaining(['toner', 'wasteBox', 'error', 'recurrence', 'silence', 'billing']),
    )
    expect(subjectsWoken('device', 'reading')).not.toContain('silence')
    expect(subjectsWoken('site', 'deadline').sort()).toEqual(['gateway', 'stock'])
    // Each site subject the sweeps wake has its gathering, and none is gathered that is not declared.
    expect([...SITE_SWEEP_KINDS].sort()).toEqual(subjectsWoken('site', 'deadline').sort())
    for (const kind of SUBJECT_KINDS) {
      expect(scopeOf(`${kind}:x`).scope).toBe(SUBJECTS[kind].scope)
      expect(scopeOf(kind).endsWithEpisode).toBe(SUBJECTS[kind].endsWithEpisode)
    }
    for (const kind of SUBJECT_KINDS)
      expect(DEVICE_SUBJECTS[kind] !== undefined, kind).toBe(SUBJECTS[kind].scope === 'device')
    expect(scopeOf('stock:reg')).toEqual({ scope: 'site', endsWithEpisode: false })
  })

  it('a device subject woken by deadlines says when it next needs a look, from its shipped rules', async () => {
    const { rules } = await loadRuleDir(join(import.meta.dirname, '../../rules'))
    expect(DEVICE_DEADLINES.map(([kind]) => kind).sort()).toEqual(subjectsWoken('device', 'deadline').sort())
    for (const kind of subjectsWoken('device', 'reading'))
      expect(DEVICE_SUBJECTS[kind]?.deadline, kind).toBeUndefined()
    const state = busyDevice()
    const deadline = (kind: string) => {
      const found = DEVICE_DEADLINES.find(([k]) => k === kind)?.[1]
      if (!found) throw new Error(`no deadline for ${kind}`)
      const plan = found.plan(rules)
      if (plan === null) throw new Error(`the shipped ${kind} rules read as no plan`)
      return (at: number) => found.next(state, 'UTC', plan, at)
    }
    // missed-reading.json: more than 120 hours since the last reading, looked at a millisecond
    // either side of the crossing (a condition may be strict or not), never later.
    const silence = deadline('silence')(state.lastTs + HOUR)
    expect(silence).toBe(state.lastTs + 120 * HOUR - 1)
    expect(deadline('silence')(silence)).toBe(state.lastTs + 120 * HOUR)
    expect(deadline('silence')(state.lastTs + 121 * HOUR)).toBe(Number.POSITIVE_INFINITY)
    // Billing: the end of the month at the latest.
    const at = Date.UTC(2026, 8, 10)
    expect(deadline('billing')(at)).toBeLessThanOrEqual(Date.UTC(2026, 9, 1))
    expect(deadline('billing')(at)).toBeGreaterThan(at)
    // A threshold that is no number: no plan, so the subject is looked at every sweep instant.
    const odd = rules.map((r) =>
      r.subject === 'silence'
        ? {
            ...r,
            conditions: {
              all: [
                {
                  fact: 'device',
                  path: '$.hoursSinceLastReading',
                  operator: 'greaterThan',
                  value: { fact: 'x' },
                },
              ],
            },
          }
        : r,
    )
    expect(DEVICE_DEADLINES.find(([k]) => k === 'silence')?.[1].plan(odd as typeof rules)).toBeNull()
  })
})
