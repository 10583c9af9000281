/**
 * Properties of expected deliveries and of the follow-ups on them, over random calendars (zones,
 * working days and hours, holidays), order times and lead times: an order is expected at the end of
 * a working day, and the shipped delivery-overdue rule never chases one before its expected
 * delivery plus the grace.
 */
import { join } from 'node:path'
import fc from 'fast-check'
import { DateTime } from 'luxon'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  expectedDeliveryAt,
  isWorkingDay,
  isWorkingTime,
  workingDaysAfter,
  workingDaysSince,
} from '../../src/domain/calendar.ts'
import { step } from '../../src/domain/device-state.ts'
import { RuleEvaluator } from '../../src/rules/evaluator.ts'
import { loadRuleDir } from '../../src/rules/loader.ts'
import { calendarArb, instantArb } from '../helpers/calendars.ts'
import { ROOT } from '../helpers/service-process.ts'

const DAY = 86_400_000

const leadArb = fc.record({
  morningDays: fc.integer({ min: 1, max: 5 }),
  afternoonDays: fc.integer({ min: 1, max: 5 }),
  cutoffHour: fc.integer({ min: 0, max: 24 }),
})

describe('expected delivery', () => {
  it('is the end of working hours of a working day after the order day, for any calendar, order time and lead time', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, leadArb, (cal, orderedAt, lead) => {
        const expected = expectedDeliveryAt(cal, orderedAt, lead)
        expect(isWorkingDay(cal, expected)).toBe(true)
        const day = (ms: number) => DateTime.fromMillis(ms, { zone: cal.zone }).toISODate()
        expect(cal.holidays).not.toContain(day(expected))
        expect(String(day(expected)) > String(day(orderedAt))).toBe(true)
        // The end of working time: the last instant before it works, it does not.
        expect(isWorkingTime(cal, expected - 1)).toBe(true)
        expect(isWorkingTime(cal, expected)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  it('counts the working days overdue so that g of them are never reached before the g-th working day end after it', () => {
    fc.assert(
      fc.property(
        calendarArb,
        instantArb,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: -2 * DAY, max: 12 * DAY }),
        (cal, orderedAt, grace, offset) => {
          const expected = expectedDeliveryAt(cal, orderedAt)
          const now = expected + offset
          const overdue = workingDaysSince(cal, expected, now)
          const due = workingDaysAfter(cal, expected, grace)
          expect(due).toBeGreaterThanOrEqual(expected)
          expect(overdue !== null && overdue >= grace).toBe(now >= due)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('the shipped delivery-overdue rule', () => {
  let evaluator: RuleEvaluator
  beforeAll(async () => {
    const { rules } = await loadRuleDir(join(ROOT, 'rules'))
    evaluator = new RuleEvaluator(rules.filter((r) => r.name === 'delivery-overdue'))
  })

  it('never chases an order before its expected delivery plus a working day of grace, and chases an empty colour after it', async () => {
    await fc.assert(
      fc.asyncProperty(
        calendarArb,
        instantArb,
        fc.integer({ min: 0, max: 14 * DAY }),
        fc.constantFrom('ordered', 'shipped', 'delivered'),
        async (cal, orderedAt, later, deliveryStep) => {
          const expected = expectedDeliveryAt(cal, orderedAt)
          const first = step(undefined, { deviceId: 'P-1', siteId: 's', ts: orderedAt, toner: { black: 10 } })
          const now = orderedAt + later
          const state = step(first, { deviceId: 'P-1', siteId: 's', ts: now, toner: { black: 0 } })
          const order = {
            type: 'reorder',
            subject: 'toner:black',
            episode: state.toner.black?.cartridge as string,
            createdAt: orderedAt,
            expectedDelivery: expected,
            deliveryStep,
          }
          const asked = await evaluator.evaluate(['toner'], state, { calendar: cal }, now, [order])
          const graceEnds = workingDaysAfter(cal, expected, 1)
          const chased = asked.some((a) => a.type === 'delivery-overdue')
          expect(chased).toBe(now >= graceEnds && deliveryStep !== 'delivered')
        },
      ),
      { numRuns: 200 },
    )
  })
})
