import { describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import { deliverySteps, deriveChanges, digestSlot } from '../../src/domain/mail-changes.ts'

const action = (over: Partial<Action> = {}): Action => ({
  id: 'a1',
  type: 'fault',
  deviceId: 'd1',
  siteId: 's1',
  status: 'open',
  rule: 'critical-fault',
  createdAt: '2026-11-16T09:00:00.000Z',
  updatedAt: '2026-11-16T09:00:00.000Z',
  details: {},
  ...over,
})

describe('the changes of an action worth a message', () => {
  it('sees a new action as created, and a repeat of the same snapshot as nothing', () => {
    expect(deriveChanges(null, action()).map((c) => c.key)).toEqual(['created'])
    expect(deriveChanges(action(), action())).toEqual([])
  })

  it('sees an action resolved straight from open as resolved, not acknowledged', () => {
    expect(deriveChanges(action(), action({ status: 'resolved' })).map((c) => c.key)).toEqual(['resolved'])
    expect(deriveChanges(action(), action({ status: 'acknowledged' })).map((c) => c.key)).toEqual([
      'acknowledged',
    ])
  })

  it('sees each new breach of a ticket once, by its clock', () => {
    const breached = (clocks: string[]) =>
      action({
        details: {
          ticket: { breaches: clocks.map((clock) => ({ clock, dueAt: '2026-11-16T11:00:00.000Z' })) },
        },
      })
    expect(deriveChanges(breached([]), breached(['remoteSupport'])).map((c) => c.key)).toEqual([
      'sla-breach.remoteSupport',
    ])
    expect(
      deriveChanges(breached(['remoteSupport']), breached(['remoteSupport', 'onSite'])).map((c) => c.key),
    ).toEqual(['sla-breach.onSite'])
  })

  it('reads delivery steps from a status, from keys per step, or from a list of steps', () => {
    expect([...deliverySteps({ delivery: { status: 'shipped' } })]).toEqual(['ordered', 'shipped'])
    expect([...deliverySteps({ delivery: { deliveredAt: '2026-11-20T10:00:00Z' } })]).toEqual([
      'ordered',
      'shipped',
      'delivered',
    ])
    expect([...deliverySteps({ delivery: { steps: [{ step: 'ordered' }, { status: 'shipped' }] } })]).toEqual(
      ['ordered', 'shipped'],
    )
    expect([...deliverySteps({ delivery: { shipped: null } })]).toEqual([])
    expect(
      deriveChanges(
        action({ details: { delivery: { status: 'ordered' } } }),
        action({ details: { delivery: { status: 'delivered' } } }),
      ).map((c) => c.key),
    ).toEqual(['shipped', 'delivered'])
  })

  it('puts an advisory in the digest at the next digest time in the site zone', () => {
    // 07:30 in Rome (06:30 UTC): today's 08:00 digest; 08:30 in Rome: tomorrow's.
    expect(digestSlot(Date.parse('2026-11-16T06:30:00Z'), 'Europe/Rome', '08:00')).toEqual({
      day: '2026-11-16',
      dueAt: Date.parse('2026-11-16T07:00:00Z'),
    })
    expect(digestSlot(Date.parse('2026-11-16T07:30:00Z'), 'Europe/Rome', '08:00')).toEqual({
      day: '2026-11-17',
      dueAt: Date.parse('2026-11-17T07:00:00Z'),
    })
    // Across the change to summer time (29 March 2026 in Europe), 08:00 local stays 08:00 local.
    expect(digestSlot(Date.parse('2026-03-28T12:00:00Z'), 'Europe/Rome', '08:00').dueAt).toBe(
      Date.parse('2026-03-29T06:00:00Z'),
    )
  })
})
