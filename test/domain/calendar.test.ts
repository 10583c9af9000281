import { Value } from '@sinclair/typebox/value'
import fc from 'fast-check'
import { DateTime } from 'luxon'
import { describe, expect, it } from 'vitest'
import {
  addWorkingDays,
  addWorkingHours,
  calendarProblems,
  deliveryDate,
  isWorkingDay,
  isWorkingTime,
  nextWorkingStart,
  type SiteCalendar,
  SiteCalendarSchema,
  siteCalendar,
  workingHoursBetween,
} from '../../src/domain/calendar.ts'
import { calendarArb, dateArb, instantArb, ZONES } from '../helpers/calendars.ts'

const ROME = 'Europe/Rome'
const NEW_YORK = 'America/New_York'
const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Italian public holidays of 2026 that fall on weekdays. */
const ITALY_2026 = [
  '2026-01-01',
  '2026-01-06',
  '2026-04-06',
  '2026-05-01',
  '2026-06-02',
  '2026-12-08',
  '2026-12-25',
]
const rome = siteCalendar(ROME, { holidays: ITALY_2026 })
const newYork = siteCalendar(NEW_YORK, { holidays: ['2026-07-03', '2026-11-26'] })

/** An instant given as the site's local wall-clock time. */
function at(local: string, zone = ROME): number {
  const dt = DateTime.fromISO(local, { zone })
  if (!dt.isValid) throw new Error(`bad local time ${local}`)
  return dt.toMillis()
}

/** The instant as the site reads it, with its offset, so that a wrong offset shows in the diff. */
function local(ms: number, zone = ROME): string {
  return DateTime.fromMillis(ms, { zone }).toFormat('ccc yyyy-MM-dd HH:mm ZZ', { locale: 'en' })
}

describe('isWorkingDay and isWorkingTime', () => {
  it('counts 08:00 as working time and 17:00 as not, on a weekday in Rome', () => {
    expect(isWorkingTime(rome, at('2026-03-03T07:59:59.999'))).toBe(false)
    expect(isWorkingTime(rome, at('2026-03-03T08:00'))).toBe(true)
    expect(isWorkingTime(rome, at('2026-03-03T16:59:59.999'))).toBe(true)
    expect(isWorkingTime(rome, at('2026-03-03T17:00'))).toBe(false)
  })

  it('treats Saturday, Sunday and a holiday as days nobody works', () => {
    expect(isWorkingDay(rome, at('2026-03-06T10:00'))).toBe(true)
    expect(isWorkingDay(rome, at('2026-03-07T10:00'))).toBe(false)
    expect(isWorkingDay(rome, at('2026-03-08T10:00'))).toBe(false)
    expect(isWorkingDay(rome, at('2026-04-06T10:00'))).toBe(false)
    expect(isWorkingTime(rome, at('2026-04-06T10:00'))).toBe(false)
  })

  it('reads one instant on each site’s own clock', () => {
    const instant = Date.parse('2026-03-02T15:30:00Z')
    expect(isWorkingTime(rome, instant)).toBe(true) // 16:30 in Rome
    expect(isWorkingTime(newYork, instant)).toBe(true) // 10:30 in New York
    expect(isWorkingTime(siteCalendar('Asia/Tokyo'), instant)).toBe(false) // 00:30 the next day
    expect(isWorkingTime(siteCalendar('Asia/Kolkata'), Date.parse('2026-03-02T02:29:00Z'))).toBe(false)
    expect(isWorkingTime(siteCalendar('Asia/Kolkata'), Date.parse('2026-03-02T02:30:00Z'))).toBe(true)
  })

  it('puts a holiday on the site’s local date, not the UTC date', () => {
    // 23:30 on 31 December in New York is already 1 January in UTC.
    const cal = siteCalendar(NEW_YORK, {
      holidays: ['2026-01-01'],
      workingHours: { start: '08:00', end: '23:59' },
    })
    expect(isWorkingTime(cal, at('2025-12-31T23:30', NEW_YORK))).toBe(true)
    expect(isWorkingDay(cal, at('2026-01-01T10:00', NEW_YORK))).toBe(false)
  })
})

describe('addWorkingHours', () => {
  it('makes a request at 16:00 with 2 working hours due at 09:00 of the next working day', () => {
    expect(local(addWorkingHours(rome, at('2026-03-03T16:00'), 2))).toBe('Wed 2026-03-04 09:00 +01:00')
  })

  it('makes a Friday 16:00 request due at 09:00 on Monday', () => {
    expect(local(addWorkingHours(rome, at('2026-03-06T16:00'), 2))).toBe('Mon 2026-03-09 09:00 +01:00')
  })

  it('skips a holiday Monday', () => {
    expect(local(addWorkingHours(rome, at('2026-04-03T16:00'), 2))).toBe('Tue 2026-04-07 09:00 +02:00')
  })

  it('lands at 17:00 when the hours end exactly with the working day', () => {
    expect(local(addWorkingHours(rome, at('2026-03-03T16:00'), 1))).toBe('Tue 2026-03-03 17:00 +01:00')
  })

  it('starts counting at the next working start when asked at night or on a weekend', () => {
    expect(local(addWorkingHours(rome, at('2026-03-03T06:00'), 1))).toBe('Tue 2026-03-03 09:00 +01:00')
    expect(local(addWorkingHours(rome, at('2026-03-07T10:00'), 2))).toBe('Mon 2026-03-09 10:00 +01:00')
    expect(local(addWorkingHours(rome, at('2026-03-03T17:00'), 8))).toBe('Wed 2026-03-04 16:00 +01:00')
  })

  it('keeps the local working hour across the spring-forward night in Rome', () => {
    const due = addWorkingHours(rome, at('2026-03-27T16:00'), 2)
    expect(local(due)).toBe('Mon 2026-03-30 09:00 +02:00')
    expect(new Date(due).toISOString()).toBe('2026-03-30T07:00:00.000Z')
  })

  it('keeps the local working hour across the fall-back night in Rome', () => {
    const due = addWorkingHours(rome, at('2026-10-23T16:00'), 2)
    expect(local(due)).toBe('Mon 2026-10-26 09:00 +01:00')
    expect(new Date(due).toISOString()).toBe('2026-10-26T08:00:00.000Z')
  })

  it('keeps the local working hour across both daylight-saving changes in New York', () => {
    expect(local(addWorkingHours(newYork, at('2026-03-06T16:30', NEW_YORK), 1), NEW_YORK)).toBe(
      'Mon 2026-03-09 08:30 -04:00',
    )
    expect(local(addWorkingHours(newYork, at('2026-10-30T16:30', NEW_YORK), 1), NEW_YORK)).toBe(
      'Mon 2026-11-02 08:30 -05:00',
    )
  })

  it('works through the Sunday of a daylight-saving change on a seven-day calendar', () => {
    const everyDay = siteCalendar(ROME, { workingDays: [1, 2, 3, 4, 5, 6, 7] })
    expect(local(addWorkingHours(everyDay, at('2026-03-28T16:00'), 2))).toBe('Sun 2026-03-29 09:00 +02:00')
    expect(local(addWorkingHours(everyDay, at('2026-10-24T16:00'), 2))).toBe('Sun 2026-10-25 09:00 +01:00')
  })

  it('measures a night shift across a daylight-saving change in elapsed hours', () => {
    const nights = siteCalendar(ROME, { workingDays: [7], workingHours: { start: '00:00', end: '06:00' } })
    expect(workingHoursBetween(nights, at('2026-03-29T00:00'), at('2026-03-29T12:00'))).toBe(5)
    expect(workingHoursBetween(nights, at('2026-10-25T00:00'), at('2026-10-25T12:00'))).toBe(7)
    expect(local(addWorkingHours(nights, at('2026-03-29T00:00'), 5))).toBe('Sun 2026-03-29 06:00 +02:00')
  })

  it('adds zero hours without moving, and refuses negative hours', () => {
    const saturday = at('2026-03-07T10:00')
    expect(addWorkingHours(rome, saturday, 0)).toBe(saturday)
    expect(() => addWorkingHours(rome, saturday, -1)).toThrow(RangeError)
  })
})

describe('addWorkingDays', () => {
  it('keeps the local time of day and skips the weekend', () => {
    expect(local(addWorkingDays(rome, at('2026-03-06T10:30'), 1))).toBe('Mon 2026-03-09 10:30 +01:00')
    expect(local(addWorkingDays(rome, at('2026-03-03T16:00'), 5))).toBe('Tue 2026-03-10 16:00 +01:00')
  })

  it('skips holidays', () => {
    expect(local(addWorkingDays(rome, at('2026-04-30T10:00'), 1))).toBe('Mon 2026-05-04 10:00 +02:00')
    expect(local(addWorkingDays(newYork, at('2026-11-25T09:15', NEW_YORK), 1), NEW_YORK)).toBe(
      'Fri 2026-11-27 09:15 -05:00',
    )
  })

  it('counts from the next working start when the start is outside working time', () => {
    expect(local(addWorkingDays(rome, at('2026-03-06T18:00'), 1))).toBe('Tue 2026-03-10 08:00 +01:00')
    expect(local(addWorkingDays(rome, at('2026-03-07T10:00'), 2))).toBe('Wed 2026-03-11 08:00 +01:00')
    expect(local(addWorkingDays(rome, at('2026-03-03T07:00'), 0))).toBe('Tue 2026-03-03 08:00 +01:00')
  })

  it('keeps the local time across the spring-forward night, one elapsed hour short', () => {
    const from = at('2026-03-27T10:00')
    const due = addWorkingDays(rome, from, 1)
    expect(local(due)).toBe('Mon 2026-03-30 10:00 +02:00')
    expect(due - from).toBe(3 * DAY - HOUR)
  })

  it('keeps the local time across the fall-back night in New York, one elapsed hour long', () => {
    const from = at('2026-10-30T10:00', NEW_YORK)
    const due = addWorkingDays(newYork, from, 1)
    expect(local(due, NEW_YORK)).toBe('Mon 2026-11-02 10:00 -05:00')
    expect(due - from).toBe(3 * DAY + HOUR)
  })

  it('refuses a fraction of a day', () => {
    expect(() => addWorkingDays(rome, at('2026-03-03T10:00'), 1.5)).toThrow(RangeError)
  })
})

describe('workingHoursBetween', () => {
  it('counts the nine hours of a weekday and nothing of a weekend', () => {
    expect(workingHoursBetween(rome, at('2026-03-03T00:00'), at('2026-03-04T00:00'))).toBe(9)
    expect(workingHoursBetween(rome, at('2026-03-07T00:00'), at('2026-03-09T00:00'))).toBe(0)
  })

  it('counts Friday 16:00 to Monday 09:00 as two hours, and the other way round as minus two', () => {
    expect(workingHoursBetween(rome, at('2026-03-06T16:00'), at('2026-03-09T09:00'))).toBe(2)
    expect(workingHoursBetween(rome, at('2026-03-09T09:00'), at('2026-03-06T16:00'))).toBe(-2)
  })

  it('leaves out a holiday', () => {
    expect(workingHoursBetween(rome, at('2026-04-03T08:00'), at('2026-04-08T08:00'))).toBe(18)
  })
})

describe('nextWorkingStart', () => {
  it('is the instant itself during working time', () => {
    expect(nextWorkingStart(rome, at('2026-03-03T11:11'))).toBe(at('2026-03-03T11:11'))
  })

  it('is 08:00 of the next working day from 17:00, and Tuesday from a Friday evening before Easter Monday', () => {
    expect(local(nextWorkingStart(rome, at('2026-03-03T17:00')))).toBe('Wed 2026-03-04 08:00 +01:00')
    expect(local(nextWorkingStart(rome, at('2026-04-03T19:00')))).toBe('Tue 2026-04-07 08:00 +02:00')
  })
})

describe('deliveryDate', () => {
  it('delivers an order placed before noon in 2 working days, at the start of working time', () => {
    expect(local(deliveryDate(rome, at('2026-03-03T10:00')))).toBe('Thu 2026-03-05 08:00 +01:00')
  })

  it('delivers an order placed at or after noon in 3 working days', () => {
    expect(local(deliveryDate(rome, at('2026-03-03T12:00')))).toBe('Fri 2026-03-06 08:00 +01:00')
    expect(local(deliveryDate(rome, at('2026-03-03T19:00')))).toBe('Fri 2026-03-06 08:00 +01:00')
  })

  it('delivers a Friday order after the weekend', () => {
    expect(local(deliveryDate(rome, at('2026-03-06T11:00')))).toBe('Tue 2026-03-10 08:00 +01:00')
    expect(local(deliveryDate(rome, at('2026-03-06T13:00')))).toBe('Wed 2026-03-11 08:00 +01:00')
  })

  it('skips the holiday after an order placed the day before it', () => {
    expect(local(deliveryDate(rome, at('2026-04-30T10:00')))).toBe('Tue 2026-05-05 08:00 +02:00')
    expect(local(deliveryDate(rome, at('2026-04-30T15:00')))).toBe('Wed 2026-05-06 08:00 +02:00')
  })

  it('takes a weekend order on Monday morning', () => {
    expect(local(deliveryDate(rome, at('2026-03-07T15:00')))).toBe('Wed 2026-03-11 08:00 +01:00')
    expect(local(deliveryDate(rome, at('2026-03-08T09:00')))).toBe('Wed 2026-03-11 08:00 +01:00')
  })

  it('applies the cutoff on the site’s clock', () => {
    // 16:30 UTC is 11:30 in New York: still a morning order there.
    const order = Date.parse('2026-03-03T16:30:00Z')
    expect(local(deliveryDate(newYork, order), NEW_YORK)).toBe('Thu 2026-03-05 08:00 -05:00')
    expect(local(deliveryDate(rome, order))).toBe('Fri 2026-03-06 08:00 +01:00')
  })

  it('arrives at the start of working time after a daylight-saving change', () => {
    expect(local(deliveryDate(rome, at('2026-03-26T15:00')))).toBe('Tue 2026-03-31 08:00 +02:00')
  })

  it('takes other lead times and cutoffs', () => {
    const lead = { morningDays: 1, afternoonDays: 2, cutoffHour: 14 }
    expect(local(deliveryDate(rome, at('2026-03-03T13:00'), lead))).toBe('Wed 2026-03-04 08:00 +01:00')
    expect(local(deliveryDate(rome, at('2026-03-03T14:00'), lead))).toBe('Thu 2026-03-05 08:00 +01:00')
  })
})

describe('SiteCalendarSchema', () => {
  it('fills the defaults: Monday to Friday, 08:00 to 17:00, no holidays', () => {
    const cal = Value.Default(SiteCalendarSchema, { zone: ROME })
    expect(Value.Check(SiteCalendarSchema, cal)).toBe(true)
    expect(cal).toEqual(siteCalendar(ROME))
    expect(cal).toEqual({
      zone: ROME,
      workingDays: [1, 2, 3, 4, 5],
      workingHours: { start: '08:00', end: '17:00' },
      holidays: [],
    })
  })

  it('refuses a time without two digits for the hour and a weekday 0', () => {
    expect(
      Value.Check(SiteCalendarSchema, {
        ...siteCalendar(ROME),
        workingHours: { start: '8:00', end: '17:00' },
      }),
    ).toBe(false)
    expect(Value.Check(SiteCalendarSchema, { ...siteCalendar(ROME), workingDays: [0, 1] })).toBe(false)
  })

  it('names what the schema cannot check: an unknown zone, an end before the start, a date that does not exist', () => {
    const bad: SiteCalendar = {
      zone: 'Europe/Milano',
      workingDays: [1],
      workingHours: { start: '17:00', end: '08:00' },
      holidays: ['2026-02-30'],
    }
    const problems = calendarProblems(bad)
    expect(problems).toHaveLength(3)
    expect(problems.join('\n')).toMatch(/Europe\/Milano.*\n.*17:00.*08:00.*\n.*2026-02-30/)
    expect(calendarProblems(rome)).toEqual([])
    expect(() => isWorkingTime(bad, 0)).toThrow(RangeError)
  })

  it('throws rather than search for ever when holidays cover every working day for ten years', () => {
    const mondays: string[] = []
    for (let d = DateTime.fromISO('2026-01-05'); d.year < 2037; d = d.plus({ weeks: 1 })) {
      mondays.push(d.toFormat('yyyy-MM-dd'))
    }
    const cal = siteCalendar(ROME, { workingDays: [1], holidays: mondays })
    expect(() => nextWorkingStart(cal, at('2026-01-01T00:00'))).toThrow(/no working day/)
  })
})

/** Working hours in whole minutes, up to about two working weeks of a standard calendar. */
const hoursArb = fc.integer({ min: 1, max: 90 * 60 }).map((m) => m / 60)

describe('calendar properties', () => {
  it('puts every addWorkingHours due date in (start, end] of a working interval', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, hoursArb, (cal, t, h) => {
        const due = addWorkingHours(cal, t, h)
        expect(due).toBeGreaterThan(t)
        expect(isWorkingTime(cal, due - 1)).toBe(true)
      }),
    )
  })

  it('puts every addWorkingDays due date inside working time', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, fc.integer({ min: 0, max: 15 }), (cal, t, n) => {
        expect(isWorkingTime(cal, addWorkingDays(cal, t, n))).toBe(true)
      }),
    )
  })

  it('adds a + b working hours the same as a, then b', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, hoursArb, hoursArb, (cal, t, a, b) => {
        expect(addWorkingHours(cal, addWorkingHours(cal, t, a), b)).toBe(addWorkingHours(cal, t, a + b))
      }),
    )
  })

  it('finds h working hours between t and addWorkingHours(t, h)', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, hoursArb, (cal, t, h) => {
        expect(workingHoursBetween(cal, t, addWorkingHours(cal, t, h))).toBeCloseTo(h, 9)
      }),
    )
  })

  it('puts n working days of 9 hours between working time and addWorkingDays(n), in every zone', () => {
    const standard = fc
      .tuple(fc.constantFrom(...ZONES), fc.array(dateArb, { maxLength: 30 }))
      .map(([zone, holidays]) => siteCalendar(zone, { holidays }))
    fc.assert(
      fc.property(standard, instantArb, fc.integer({ min: 0, max: 15 }), (cal, t, n) => {
        const from = nextWorkingStart(cal, t)
        expect(workingHoursBetween(cal, from, addWorkingDays(cal, from, n))).toBe(9 * n)
      }),
    )
  })

  it('finds no working time between an instant and its next working start', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, (cal, t) => {
        const start = nextWorkingStart(cal, t)
        expect(start).toBeGreaterThanOrEqual(t)
        expect(isWorkingTime(cal, start)).toBe(true)
        expect(workingHoursBetween(cal, t, start)).toBe(0)
      }),
    )
  })

  it('delivers at the start of a working interval, after the order, never earlier for a later order', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, fc.integer({ min: 0, max: 2 * DAY }), (cal, t, later) => {
        const arrival = deliveryDate(cal, t)
        expect(arrival).toBeGreaterThan(t)
        expect(isWorkingTime(cal, arrival)).toBe(true)
        expect(isWorkingTime(cal, arrival - 1)).toBe(false)
        expect(deliveryDate(cal, t + later)).toBeGreaterThanOrEqual(arrival)
      }),
    )
  })
})
