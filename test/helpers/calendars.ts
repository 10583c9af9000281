/**
 * fast-check arbitraries of site calendars and instants, for the property tests of working-time
 * arithmetic and of what is built on it (service ticket clocks, deliveries).
 */
import fc from 'fast-check'
import { DateTime } from 'luxon'
import { type SiteCalendar, siteCalendar } from '../../src/domain/calendar.ts'

const DAY = 86_400_000

/**
 * Zones with daylight-saving changes at 02:00 (Rome, New York, Sydney), at midnight (Santiago), of
 * half an hour (Lord Howe), none at all (Tokyo, Kolkata's half-hour offset, UTC).
 */
export const ZONES = [
  'Europe/Rome',
  'America/New_York',
  'Australia/Sydney',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Asia/Tokyo',
  'Asia/Kolkata',
  'UTC',
]

/** The daylight-saving changes of those zones in 2026. */
export const DST_CHANGES = [
  '2026-03-29T01:00:00Z',
  '2026-10-25T01:00:00Z',
  '2026-03-08T07:00:00Z',
  '2026-11-01T06:00:00Z',
  '2026-04-04T16:00:00Z',
  '2026-10-03T16:00:00Z',
  '2026-04-05T03:00:00Z',
  '2026-09-06T04:00:00Z',
].map(Date.parse)

/** `HH:MM` of the quarter of an hour numbered `quarter` (0 to 95) in a day. */
export const hhmm = (quarter: number) =>
  `${String(Math.floor(quarter / 4)).padStart(2, '0')}:${String((quarter % 4) * 15).padStart(2, '0')}`

/** A date of 2026 or early 2027, `YYYY-MM-DD`. */
export const dateArb = fc
  .integer({ min: 0, max: 500 })
  .map((i) => DateTime.fromISO('2026-01-01', { zone: 'UTC' }).plus({ days: i }).toFormat('yyyy-MM-dd'))

/** Any calendar: zone, working days, hours on quarter-hour bounds, holidays. */
export const calendarArb: fc.Arbitrary<SiteCalendar> = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    workingDays: fc.subarray([1, 2, 3, 4, 5, 6, 7], { minLength: 1 }),
    start: fc.integer({ min: 0, max: 94 }),
    length: fc.integer({ min: 1, max: 95 }),
    holidays: fc.array(dateArb, { maxLength: 30 }),
  })
  .map(({ zone, workingDays, start, length, holidays }) =>
    siteCalendar(zone, {
      workingDays,
      workingHours: { start: hhmm(start), end: hhmm(Math.min(95, start + length)) },
      holidays,
    }),
  )

/** Anywhere in 2026, often within three days of a daylight-saving change somewhere. */
export const instantArb = fc.oneof(
  fc.integer({ min: Date.parse('2025-12-20T00:00:00Z'), max: Date.parse('2027-01-10T00:00:00Z') }),
  fc
    .tuple(fc.constantFrom(...DST_CHANGES), fc.integer({ min: -3 * DAY, max: 3 * DAY }))
    .map(([t, d]) => t + d),
)
