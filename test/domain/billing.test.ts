import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  missingMeterPeriod,
  pagesFromCounters,
  pagesFromToner,
  parsePeriod,
  periodOf,
} from '../../src/domain/billing.ts'

const OCT = periodOf(Date.UTC(2026, 9, 15))
const at = (day: number, total: number) => ({
  ts: Date.UTC(2026, 9, 1) + day * 86_400_000,
  counters: { total },
})

describe('billing periods', () => {
  it('parses a month, and nothing else', () => {
    expect(parsePeriod('2026-10')).toEqual(OCT)
    expect(parsePeriod('2026-12')?.end).toBe(Date.UTC(2027, 0, 1))
    for (const bad of ['2026-00', '2026-13', '2026-1', 'october', '', '0050-03'])
      expect(parsePeriod(bad)).toBeNull()
  })

  it('owes a meter reading for a month the device was known in and sent no counters', () => {
    const nov2 = Date.UTC(2026, 10, 2)
    expect(missingMeterPeriod(undefined, Date.UTC(2026, 9, 5), nov2)?.id).toBe('2026-10')
    expect(missingMeterPeriod(Date.UTC(2026, 9, 20), Date.UTC(2026, 9, 5), nov2)).toBeUndefined()
    expect(missingMeterPeriod(undefined, Date.UTC(2026, 10, 1), nov2)).toBeUndefined()
  })
})

describe('pages from counters', () => {
  it('counts from the last counters before the month, else the first in it, to the last in it', () => {
    expect(pagesFromCounters([at(-3, 100), at(-1, 150), at(10, 400), at(31, 900)], OCT)?.pages).toEqual({
      total: 400 - 150,
    })
    expect(pagesFromCounters([at(2, 100), at(20, 700)], OCT)?.pages).toEqual({ total: 600 })
  })

  it('tells nothing from one reading or none', () => {
    expect(pagesFromCounters([at(5, 100)], OCT)).toBeNull()
    expect(pagesFromCounters([], OCT)).toBeNull()
    expect(pagesFromCounters([at(-5, 100)], OCT)).toBeNull()
  })

  it('counts the steps around a counter that went back, and says it went back', () => {
    const result = pagesFromCounters([at(-1, 5000), at(10, 5400), at(11, 30), at(20, 230)], OCT)
    expect(result?.pages).toEqual({ total: 400 + 200 })
    expect(result?.resets).toBe(1)
  })

  // Two or more points in October (days 0 to 30), and any before and after it: there is always an answer.
  const pointsArb = fc
    .tuple(
      fc.array(fc.record({ day: fc.integer({ min: -30, max: -1 }), total: fc.nat(1_000_000) }), {
        maxLength: 5,
      }),
      fc.array(fc.record({ day: fc.integer({ min: 0, max: 30 }), total: fc.nat(1_000_000) }), {
        minLength: 2,
        maxLength: 10,
      }),
      fc.array(fc.record({ day: fc.integer({ min: 31, max: 40 }), total: fc.nat(1_000_000) }), {
        maxLength: 5,
      }),
    )
    .map((parts) => parts.flat())

  it('never counts negative pages, and ends on a reading inside the period', () => {
    fc.assert(
      fc.property(pointsArb, (points) => {
        const result = pagesFromCounters(
          points.map((p) => at(p.day, p.total)),
          OCT,
        )
        expect(result).not.toBeNull()
        expect(result?.pages.total).toBeGreaterThanOrEqual(0)
        expect(result?.to.ts).toBeGreaterThanOrEqual(OCT.start)
        expect(result?.to.ts).toBeLessThan(OCT.end)
      }),
    )
  })

  it('without a reset, counts the difference of its two ends', () => {
    // Counters that only rise: one point a day from a day before October, by the given steps.
    fc.assert(
      fc.property(fc.array(fc.nat(10_000), { minLength: 2, maxLength: 30 }), (steps) => {
        const totals = steps.map((_, i) => steps.slice(0, i + 1).reduce((a, b) => a + b, 0))
        const total = totals[totals.length - 1] ?? 0
        const points = totals.map((t, i) => at(i - 1, t))
        const result = pagesFromCounters(points, OCT)
        expect(result?.resets).toBe(0)
        expect(result?.pages.total).toBe(
          (result?.to.counters.total ?? -1) - (result?.from.counters.total ?? 0),
        )
        expect(result?.pages.total).toBe(total - (points[0]?.counters.total ?? 0))
      }),
    )
  })
})

describe('pages from the toner delivered', () => {
  it('counts black cartridges by their yield, and colour pages by the colour sent most of', () => {
    expect(
      pagesFromToner({ black: 2, cyan: 1, magenta: 2 }, { black: 7000, cyan: 5000, magenta: 5000 }),
    ).toEqual({
      pages: { total: 14_000, color: 10_000 },
      withoutYield: [],
    })
  })

  it('names the colours it has no yield for, and cannot estimate without any', () => {
    expect(pagesFromToner({ black: 1, yellow: 1 }, { black: 7000 })).toEqual({
      pages: { total: 7000 },
      withoutYield: ['yellow'],
    })
    expect(pagesFromToner({ black: 1 }, {})).toEqual({ pages: null, withoutYield: ['black'] })
  })

  it('makes no estimate when no toner was delivered', () => {
    expect(pagesFromToner({}, { black: 7000 }).pages).toBeNull()
  })
})
