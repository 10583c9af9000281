import { describe, expect, it } from 'vitest'
import { DeadlineQueue, sweepInstantOf } from '../../src/pipeline/deadlines.ts'
import type { LoadedRule } from '../../src/rules/loader.ts'
import { nextCrossing, thresholdsOf } from '../../src/subjects/thresholds.ts'

const HOUR = 3_600_000
const silence = (conditions: Record<string, unknown>): LoadedRule => ({
  name: 'r',
  file: 'r.json',
  subject: 'silence',
  conditions,
  event: { type: 'missed-reading' },
})
const hours = (value: unknown, operator = 'greaterThan') => ({
  all: [{ fact: 'device', path: '$.hoursSinceLastReading', operator, value }],
})

describe('deadlines', () => {
  it('reads the thresholds of hours that the silence rules compare with, at any depth', () => {
    const rules = [silence(hours(120)), silence({ any: [{ not: hours([24, 48], 'in') }] })]
    expect(thresholdsOf(rules, ['silence'], 'device', 'hoursSinceLastReading')).toEqual([24, 48, 120])
  })

  it('gives up on a threshold that is another fact or a string: that subject keeps its scan', () => {
    const byFact = silence(hours({ fact: 'device', path: '$.pagesPerDay' }))
    expect(thresholdsOf([byFact], ['silence'], 'device', 'hoursSinceLastReading')).toBeNull()
    expect(thresholdsOf([silence(hours('120'))], ['silence'], 'device', 'hoursSinceLastReading')).toBeNull()
  })

  it('looks a millisecond on each side of a crossing, and rounds deadlines up to the sweep grid', () => {
    expect(nextCrossing(0, [1], 0)).toBe(HOUR - 1)
    expect(nextCrossing(0, [1], HOUR - 1)).toBe(HOUR)
    expect(nextCrossing(0, [1], HOUR)).toBe(HOUR + 1)
    expect(nextCrossing(0, [1], HOUR + 1)).toBe(Number.POSITIVE_INFINITY)
    expect(sweepInstantOf(HOUR + 1, 7, HOUR)).toBe(7 + HOUR)
    expect(sweepInstantOf(HOUR + 8, 7, HOUR)).toBe(7 + 2 * HOUR)
    expect(sweepInstantOf(3, 7, HOUR)).toBe(7)
  })

  it('keeps one deadline per key, the latest set, and hands out the due ones earliest first', () => {
    const q = new DeadlineQueue<string>()
    q.set('a', 30)
    q.set('b', 10)
    q.set('a', 5)
    q.set('c', 20)
    q.set('c', Number.POSITIVE_INFINITY)
    expect(q.peek()).toBe(5)
    expect(q.popDue(10)).toEqual(['a', 'b'])
    expect(q.popDue(100)).toEqual([])
    expect(q.size).toBe(0)
  })
})
