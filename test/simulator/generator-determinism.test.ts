import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generate, plan, scenario } from './helpers.ts'

const s = scenario({
  devices: 6,
  sites: 2,
  usage: { initialToner: { min: 2, max: 40 } },
  behaviour: { shakerSites: 0.5, faultRateFactor: 20 },
  incidents: {
    gatewayOutages: { perGatewayMonth: 3, minHours: 2, maxHours: 40 },
    silences: { perDeviceMonth: 1, minHours: 10, maxHours: 60 },
  },
})
const stream = (seed: number) =>
  generate(plan(s, { seed, days: 5 }))
    .publishes.map((p) => `${p.topic} ${p.payload}`)
    .join('\n')

describe('the generator', () => {
  it('publishes the same stream, byte for byte, for the same seed, and another for another seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (seed) => {
        const a = stream(seed)
        expect(stream(seed)).toBe(a)
        expect(stream(seed + 1)).not.toBe(a)
      }),
      { numRuns: 5 },
    )
  })
})
