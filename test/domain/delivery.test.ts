import { describe, expect, it } from 'vitest'
import { expectedDeliveryAt, siteCalendar, workingDaysSince } from '../../src/domain/calendar.ts'
import { orderedDelivery, recordDeliveryStep } from '../../src/domain/delivery.ts'

const rome = siteCalendar('Europe/Rome', { holidays: ['2026-12-08'] })
const iso = (ms: number) => new Date(ms).toISOString()

describe('expectedDeliveryAt', () => {
  it('expects a Friday 15:00 order, with the Tuesday after a holiday, on Thursday at the end of the working day', () => {
    // Monday, (Tuesday a holiday), Wednesday, Thursday: 17:00 in Rome is 16:00 UTC.
    expect(iso(expectedDeliveryAt(rome, Date.parse('2026-12-04T15:00:00+01:00')))).toBe(
      '2026-12-10T16:00:00.000Z',
    )
  })

  it('expects a Friday 11:00 order two working days later, skipping the holiday: Wednesday', () => {
    expect(iso(expectedDeliveryAt(rome, Date.parse('2026-12-04T11:00:00+01:00')))).toBe(
      '2026-12-09T16:00:00.000Z',
    )
  })

  it('takes an order of a Saturday as placed on Monday morning, the order day not counted', () => {
    expect(iso(expectedDeliveryAt(rome, Date.parse('2026-12-05T15:00:00+01:00')))).toBe(
      '2026-12-10T16:00:00.000Z',
    )
  })

  it('takes the lead days of the rule file', () => {
    const lead = { morningDays: 1, afternoonDays: 1, cutoffHour: 12 }
    expect(iso(expectedDeliveryAt(rome, Date.parse('2026-12-04T15:00:00+01:00'), lead))).toBe(
      '2026-12-07T16:00:00.000Z',
    )
  })
})

describe('workingDaysSince', () => {
  const expected = Date.parse('2026-12-04T16:00:00Z') // Friday, end of the working day in Rome
  it('is null before, 0 from the expected delivery, and counts the ends of working days after it', () => {
    expect(workingDaysSince(rome, expected, expected - 1)).toBeNull()
    expect(workingDaysSince(rome, expected, expected)).toBe(0)
    expect(workingDaysSince(rome, expected, Date.parse('2026-12-07T15:59:00Z'))).toBe(0)
    expect(workingDaysSince(rome, expected, Date.parse('2026-12-07T16:00:00Z'))).toBe(1)
    // Tuesday is a holiday: Wednesday's end is the second.
    expect(workingDaysSince(rome, expected, Date.parse('2026-12-08T23:00:00Z'))).toBe(1)
    expect(workingDaysSince(rome, expected, Date.parse('2026-12-09T16:00:00Z'))).toBe(2)
  })
})

describe('recordDeliveryStep', () => {
  const ordered = orderedDelivery(Date.parse('2026-12-04T14:00:00Z'))
  const t = (s: string) => Date.parse(s)

  it('records shipped with its carrier and tracking number, then delivered, each with its time', () => {
    const shipped = recordDeliveryStep(
      ordered,
      { step: 'shipped', carrier: 'BRT', trackingNumber: '42' },
      t('2026-12-05T09:00:00Z'),
    )
    expect(shipped).toEqual({
      ok: true,
      delivery: {
        step: 'shipped',
        ordered: { at: '2026-12-04T14:00:00.000Z' },
        shipped: { at: '2026-12-05T09:00:00.000Z', carrier: 'BRT', trackingNumber: '42' },
      },
    })
    if (!shipped.ok) throw new Error('shipped was refused')
    expect(
      recordDeliveryStep(shipped.delivery, { step: 'delivered' }, t('2026-12-09T10:00:00Z')),
    ).toMatchObject({
      ok: true,
      delivery: { step: 'delivered', delivered: { at: '2026-12-09T10:00:00.000Z' } },
    })
  })

  it('refuses delivered before shipped, a step twice, and a step before the one it follows', () => {
    expect(recordDeliveryStep(ordered, { step: 'delivered' }, t('2026-12-09T10:00:00Z'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not shipped yet/),
    })
    expect(
      recordDeliveryStep(
        ordered,
        { step: 'shipped', carrier: 'BRT', trackingNumber: '1' },
        t('2026-12-03T00:00:00Z'),
      ),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/before it was ordered/) })
    const shipped = recordDeliveryStep(
      ordered,
      { step: 'shipped', carrier: 'BRT', trackingNumber: '1' },
      t('2026-12-05T00:00:00Z'),
    )
    if (!shipped.ok) throw new Error('shipped was refused')
    expect(
      recordDeliveryStep(
        shipped.delivery,
        { step: 'shipped', carrier: 'X', trackingNumber: '2' },
        t('2026-12-06T00:00:00Z'),
      ),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/shipped already/) })
    expect(
      recordDeliveryStep(shipped.delivery, { step: 'delivered' }, t('2026-12-04T23:00:00Z')),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/before it shipped/),
    })
  })
})
