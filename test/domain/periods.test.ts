import { describe, expect, it } from 'vitest'
import { lastEndedPeriod, missingMeterPeriod } from '../../src/domain/billing.ts'
import { halfYearOf, monthOf, parsePeriod } from '../../src/domain/periods.ts'

const TOKYO = 'Asia/Tokyo'

describe('periods in a site’s zone', () => {
  it('starts July at local midnight in Tokyo, which is still 30 June in UTC', () => {
    const at = Date.UTC(2026, 5, 30, 16) // 01:00 on 1 July in Tokyo
    expect(halfYearOf(at, TOKYO)).toEqual({
      id: '2026-H2',
      start: Date.UTC(2026, 5, 30, 15),
      end: Date.UTC(2026, 11, 31, 15),
    })
    expect(halfYearOf(at).id).toBe('2026-H1')
    expect(monthOf(at, TOKYO).id).toBe('2026-07')
  })

  it('follows summer time in a zone that has it', () => {
    // Rome: UTC+1 in winter, UTC+2 from the last Sunday of March.
    expect(parsePeriod('2026-04', 'Europe/Rome')).toEqual({
      id: '2026-04',
      start: Date.UTC(2026, 2, 31, 22),
      end: Date.UTC(2026, 3, 30, 22),
    })
    expect(parsePeriod('2026-H1', 'Europe/Rome')?.start).toBe(Date.UTC(2025, 11, 31, 23))
  })

  it('asks for a meter reading of the month that ended in the site’s zone', () => {
    const at = Date.UTC(2026, 9, 31, 16) // 1 November, 01:00 in Tokyo
    expect(lastEndedPeriod(at, TOKYO).id).toBe('2026-10')
    expect(lastEndedPeriod(at).id).toBe('2026-09')
    expect(missingMeterPeriod(undefined, Date.UTC(2026, 8, 1), at, TOKYO)?.id).toBe('2026-10')
  })
})
