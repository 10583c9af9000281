import { describe, expect, it } from 'vitest'
import { type Calendar, deliveryTime, isOfficeHours, localTime } from '../../simulator/calendar.ts'

const lead = { beforeCutoffDays: 2, afterCutoffDays: 3, cutoffHour: 12, deliveryHour: 10 }
const cal = (zone = 'UTC', holidays: string[] = []): Calendar => ({
  zone,
  officeStart: 8 * 60,
  officeEnd: 18 * 60,
  workingDays: new Set([1, 2, 3, 4, 5]),
  holidays: new Set(holidays),
  busy: [],
})
const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()

describe('delivery lead times', () => {
  it('delivers an order placed before noon 2 working days later, at 10:00', () => {
    expect(iso(deliveryTime(at('2026-01-05T11:59:00Z'), cal(), lead))).toBe('2026-01-07T10:00:00.000Z')
  })

  it('delivers an order placed at noon or later 3 working days later', () => {
    expect(iso(deliveryTime(at('2026-01-05T12:00:00Z'), cal(), lead))).toBe('2026-01-08T10:00:00.000Z')
  })

  it('counts working days only: a Friday morning order arrives on Tuesday, a weekend order on Wednesday', () => {
    expect(iso(deliveryTime(at('2026-01-09T09:00:00Z'), cal(), lead))).toBe('2026-01-13T10:00:00.000Z')
    expect(iso(deliveryTime(at('2026-01-10T09:00:00Z'), cal(), lead))).toBe('2026-01-14T10:00:00.000Z')
  })

  it('skips holidays', () => {
    expect(iso(deliveryTime(at('2026-01-05T09:00:00Z'), cal('UTC', ['2026-01-06']), lead))).toBe(
      '2026-01-08T10:00:00.000Z',
    )
  })

  it('reads noon and 10:00 in the site’s zone', () => {
    // 11:30 UTC is 12:30 in Rome in January: after noon there, so 3 working days, at 10:00 Rome time.
    expect(iso(deliveryTime(at('2026-01-05T11:30:00Z'), cal('Europe/Rome'), lead))).toBe(
      '2026-01-08T09:00:00.000Z',
    )
    // In July Rome is UTC+2.
    expect(iso(deliveryTime(at('2026-07-06T09:30:00Z'), cal('Europe/Rome'), lead))).toBe(
      '2026-07-08T08:00:00.000Z',
    )
  })
})

describe('office hours', () => {
  it('are the site’s local hours on its working days', () => {
    expect(isOfficeHours(localTime(at('2026-01-05T07:30:00Z'), 'Europe/Rome'), cal('Europe/Rome'))).toBe(true)
    expect(isOfficeHours(localTime(at('2026-01-05T07:30:00Z'), 'UTC'), cal())).toBe(false)
    expect(isOfficeHours(localTime(at('2026-01-10T10:00:00Z'), 'UTC'), cal())).toBe(false)
    expect(isOfficeHours(localTime(at('2026-01-06T10:00:00Z'), 'UTC'), cal('UTC', ['2026-01-06']))).toBe(
      false,
    )
  })
})
