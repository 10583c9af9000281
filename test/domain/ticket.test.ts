import fc from 'fast-check'
import { DateTime } from 'luxon'
import { describe, expect, it } from 'vitest'
import { isWorkingTime, siteCalendar } from '../../src/domain/calendar.ts'
import {
  advance,
  checkClocks,
  joinTicket,
  openTicket,
  releaseTicket,
  type SlaClock,
  type Ticket,
  type TicketEventType,
  type TicketSeverity,
  ticketView,
} from '../../src/domain/ticket.ts'
import { calendarArb, instantArb } from '../helpers/calendars.ts'

const ROME = 'Europe/Rome'
const rome = siteCalendar(ROME, { holidays: ['2026-04-06', '2026-05-01'] })

function at(local: string, zone = ROME): number {
  return DateTime.fromISO(local, { zone }).toMillis()
}

function local(ms: number | undefined, zone = ROME): string {
  if (ms === undefined) return 'none'
  return DateTime.fromMillis(ms, { zone }).toFormat('ccc yyyy-MM-dd HH:mm ZZ', { locale: 'en' })
}

/** Applies an event that must be accepted. */
function apply(ticket: Ticket, type: TicketEventType, when: number): Ticket {
  const r = advance(ticket, { type }, when)
  if (!r.ok) throw new Error(r.reason)
  return r.ticket
}

// Registered on a Tuesday at 16:00 in Rome.
const REGISTERED = at('2026-03-03T16:00')
const critical = () => openTicket(rome, REGISTERED, 'critical', true)

describe('openTicket', () => {
  it('gives a critical ticket its callback, visit and replacement due dates on the site’s working hours', () => {
    const t = critical()
    expect(t.stage).toBe('registered')
    expect(local(t.dueDates.remoteSupport)).toBe('Wed 2026-03-04 09:00 +01:00')
    expect(local(t.dueDates.onSite)).toBe('Wed 2026-03-04 15:00 +01:00')
    expect(local(t.dueDates.replacement)).toBe('Tue 2026-03-10 16:00 +01:00')
    expect(t.breaches).toEqual([])
    expect(t.events).toEqual([])
    expect(t.blocked).toBeUndefined()
  })

  it('gives a warning no on-site clock', () => {
    const t = openTicket(rome, REGISTERED, 'warning', true)
    expect(t.dueDates.onSite).toBeUndefined()
    expect(t.dueDates.remoteSupport).toBeDefined()
  })

  it('marks a ticket blocked, with the reason and no clock running, when the contract is inactive', () => {
    const t = openTicket(rome, REGISTERED, 'critical', false)
    expect(t.blocked).toEqual({ code: 'contract-inactive', reason: expect.stringMatching(/contract/) })
    expect(t.dueDates).toEqual({})
    const later = checkClocks(t, at('2026-12-31T12:00'))
    expect(later.ticket.breaches).toEqual([])
    expect(later.followUps).toEqual([])
  })

  it('takes its figures from the terms when a rule file changes them', () => {
    const t = openTicket(rome, REGISTERED, 'critical', true, {
      remoteSupportHours: 4,
      onSiteHours: 0.5,
      replacementDays: 2,
    })
    expect(local(t.dueDates.remoteSupport)).toBe('Wed 2026-03-04 11:00 +01:00')
    expect(local(t.dueDates.onSite)).toBe('Tue 2026-03-03 16:30 +01:00')
    expect(local(t.dueDates.replacement)).toBe('Thu 2026-03-05 16:00 +01:00')
  })

  it('keeps the due hour across the spring-forward night and past a holiday', () => {
    const t = openTicket(rome, at('2026-03-27T16:00'), 'critical', true)
    expect(local(t.dueDates.remoteSupport)).toBe('Mon 2026-03-30 09:00 +02:00')
    expect(local(t.dueDates.onSite)).toBe('Mon 2026-03-30 15:00 +02:00')
    const easter = openTicket(rome, at('2026-04-03T10:00'), 'critical', true)
    expect(local(easter.dueDates.replacement)).toBe('Mon 2026-04-13 10:00 +02:00')
  })

  it('starts the clocks at the next working start for a fault registered on a Saturday', () => {
    const t = openTicket(rome, at('2026-03-07T11:00'), 'critical', true)
    expect(local(t.dueDates.remoteSupport)).toBe('Mon 2026-03-09 10:00 +01:00')
    expect(local(t.dueDates.onSite)).toBe('Mon 2026-03-09 16:00 +01:00')
    expect(local(t.dueDates.replacement)).toBe('Mon 2026-03-16 08:00 +01:00')
  })
})

describe('advance', () => {
  it('moves from registered through remote support and on site to closed', () => {
    let t = critical()
    t = apply(t, 'remote-support-called', at('2026-03-03T16:30'))
    expect(t.stage).toBe('remote-support')
    t = apply(t, 'engineer-on-site', at('2026-03-04T10:00'))
    expect(t.stage).toBe('on-site')
    t = apply(t, 'restored', at('2026-03-04T11:00'))
    expect(t.stage).toBe('on-site')
    t = apply(t, 'closed', at('2026-03-04T11:05'))
    expect(t.stage).toBe('closed')
    expect(t.events.map((e) => e.type)).toEqual([
      'remote-support-called',
      'engineer-on-site',
      'restored',
      'closed',
    ])
  })

  it('lets an engineer go on site without a callback first', () => {
    expect(apply(critical(), 'engineer-on-site', at('2026-03-04T09:00')).stage).toBe('on-site')
  })

  it('records a callback during the visit without moving the ticket back', () => {
    const onSite = apply(critical(), 'engineer-on-site', at('2026-03-04T09:00'))
    const t = apply(onSite, 'remote-support-called', at('2026-03-04T09:30'))
    expect(t.stage).toBe('on-site')
    expect(t.events).toHaveLength(2)
  })

  it('refuses events on a closed ticket and events before registration, leaving the ticket as it was', () => {
    const closed = apply(critical(), 'closed', at('2026-03-03T17:00'))
    expect(advance(closed, { type: 'restored' }, at('2026-03-03T18:00'))).toEqual({
      ok: false,
      reason: expect.stringMatching(/closed/),
    })
    expect(advance(critical(), { type: 'restored' }, REGISTERED - 1).ok).toBe(false)
    expect(closed.events).toHaveLength(1)
  })

  it('never changes the ticket it was given', () => {
    const t = critical()
    const copy = structuredClone(t)
    apply(t, 'remote-support-called', at('2026-03-03T16:30'))
    checkClocks(t, at('2026-12-31T12:00'))
    expect(t).toEqual(copy)
  })
})

describe('checkClocks', () => {
  it('records nothing before a clock runs out, nor at the due instant itself', () => {
    const t = critical()
    const due = t.dueDates.remoteSupport ?? 0
    expect(checkClocks(t, due - 1)).toEqual({ ticket: t, followUps: [] })
    expect(checkClocks(t, due).ticket.breaches).toEqual([])
  })

  it('records a breach of the callback clock once it runs out, with when it was seen', () => {
    const t = critical()
    const now = at('2026-03-04T09:01')
    const { ticket, followUps } = checkClocks(t, now)
    expect(ticket.breaches).toEqual([
      { clock: 'remoteSupport', dueAt: t.dueDates.remoteSupport, detectedAt: now },
    ])
    expect(followUps).toEqual([
      { type: 'sla-breach', clock: 'remoteSupport', dueAt: t.dueDates.remoteSupport },
    ])
  })

  it('records each breach once, however often the clocks are checked', () => {
    const first = checkClocks(critical(), at('2026-03-04T09:01')).ticket
    const again = checkClocks(first, at('2026-03-04T09:30'))
    expect(again.ticket).toBe(first)
    expect(again.followUps).toEqual([])
    const later = checkClocks(first, at('2026-03-04T15:01'))
    expect(later.ticket.breaches.map((b) => b.clock)).toEqual(['remoteSupport', 'onSite'])
    expect(later.followUps.map((f) => f.clock)).toEqual(['onSite'])
  })

  it('does not breach a callback made in time, however late the check', () => {
    const t = apply(critical(), 'remote-support-called', at('2026-03-04T09:00'))
    const { ticket } = checkClocks(t, at('2026-03-04T12:00'))
    expect(ticket.breaches).toEqual([])
  })

  it('records a breach for a callback made late, even when first checked after the callback', () => {
    const t = apply(critical(), 'remote-support-called', at('2026-03-04T09:30'))
    const { ticket } = checkClocks(t, at('2026-03-04T10:00'))
    expect(ticket.breaches.map((b) => b.clock)).toEqual(['remoteSupport'])
  })

  it('takes an engineer on site in time as meeting the callback too', () => {
    const t = apply(critical(), 'engineer-on-site', at('2026-03-04T08:30'))
    expect(checkClocks(t, at('2026-03-20T12:00')).ticket.breaches.map((b) => b.clock)).toEqual([
      'replacement',
    ])
  })

  it('asks for a replacement device when the device is not restored within 5 working days', () => {
    let t = apply(critical(), 'remote-support-called', at('2026-03-03T16:30'))
    t = apply(t, 'engineer-on-site', at('2026-03-04T10:00'))
    expect(checkClocks(t, at('2026-03-10T16:00')).followUps).toEqual([])
    const { ticket, followUps } = checkClocks(t, at('2026-03-10T16:01'))
    expect(followUps).toEqual([
      { type: 'replacement-device', clock: 'replacement', dueAt: at('2026-03-10T16:00') },
    ])
    expect(ticket.breaches.map((b) => b.clock)).toEqual(['replacement'])
  })

  it('asks for no replacement when the device is restored in time, remotely', () => {
    const t = apply(critical(), 'restored', at('2026-03-03T16:45'))
    expect(checkClocks(t, at('2026-04-30T12:00'))).toEqual({ ticket: t, followUps: [] })
  })

  it('still records a clock that ran out before the ticket was closed', () => {
    const closed = apply(critical(), 'closed', at('2026-03-05T10:00'))
    const { ticket } = checkClocks(closed, at('2026-03-20T10:00'))
    expect(ticket.breaches.map((b) => b.clock)).toEqual(['remoteSupport', 'onSite'])
  })
})

// --- properties ---

const CLOCKS: readonly SlaClock[] = ['remoteSupport', 'onSite', 'replacement']
const EVENTS: readonly TicketEventType[] = ['remote-support-called', 'engineer-on-site', 'restored', 'closed']
/** For each clock, an event that stops it (the one that names it). */
const MEETS: Record<SlaClock, TicketEventType> = {
  remoteSupport: 'remote-support-called',
  onSite: 'engineer-on-site',
  replacement: 'restored',
}
const HOUR = 3_600_000
const DAY = 24 * HOUR

const severityArb = fc.constantFrom<TicketSeverity>('critical', 'warning', 'info')

const ticketArb = fc
  .tuple(
    calendarArb,
    instantArb,
    severityArb,
    fc.boolean(),
    fc.integer({ min: 1, max: 16 }),
    fc.integer({ min: 1, max: 10 }),
  )
  .map(([cal, registeredAt, severity, active, hours, days]) => ({
    cal,
    ticket: openTicket(cal, registeredAt, severity, active, {
      remoteSupportHours: hours / 4,
      onSiteHours: hours,
      replacementDays: days,
    }),
  }))

/** Offsets from registration spanning a few weeks, so that every clock can run out. */
const offsetArb = fc.integer({ min: -HOUR, max: 40 * DAY })

type Op = { kind: 'check'; offset: number } | { kind: 'event'; type: TicketEventType; offset: number }
const opArb: fc.Arbitrary<Op> = fc.oneof(
  offsetArb.map((offset) => ({ kind: 'check' as const, offset })),
  fc.record({ kind: fc.constant('event' as const), type: fc.constantFrom(...EVENTS), offset: offsetArb }),
)

/** Runs the operations, ignoring refused events, and returns every ticket seen along the way. */
function run(start: Ticket, ops: readonly Op[]): Ticket[] {
  const seen = [start]
  let t = start
  for (const op of ops) {
    const when = t.registeredAt + op.offset
    if (op.kind === 'check') t = checkClocks(t, when).ticket
    else {
      const r = advance(t, { type: op.type }, when)
      if (r.ok) t = r.ticket
    }
    seen.push(t)
  }
  return seen
}

describe('ticket properties', () => {
  it('puts every SLA due date inside working time, or exactly at the end of a working interval', () => {
    fc.assert(
      fc.property(ticketArb, ({ cal, ticket }) => {
        const { remoteSupport, onSite, replacement } = ticket.dueDates
        // Counted in hours: (start, end]. Counted in days: [start, end).
        const hourly = [remoteSupport, onSite].filter((d): d is number => d !== undefined)
        const daily = [replacement].filter((d): d is number => d !== undefined)
        expect(hourly.map((due) => isWorkingTime(cal, due - 1))).toEqual(hourly.map(() => true))
        expect(daily.map((due) => isWorkingTime(cal, due))).toEqual(daily.map(() => true))
        // A ticket not blocked by its contract has its remote-support clock running.
        expect(ticket.blocked !== undefined || remoteSupport !== undefined).toBe(true)
      }),
    )
  })

  it('never records a breach twice, and never forgets one, whatever the sequence of checks and events', () => {
    fc.assert(
      fc.property(ticketArb, fc.array(opArb, { maxLength: 25 }), ({ ticket }, ops) => {
        const seen = run(ticket, ops)
        for (let i = 0; i < seen.length; i++) {
          const clocks = (seen[i]?.breaches ?? []).map((b) => b.clock)
          expect(new Set(clocks).size).toBe(clocks.length)
          if (i > 0)
            expect(seen[i]?.breaches.slice(0, seen[i - 1]?.breaches.length)).toEqual(seen[i - 1]?.breaches)
        }
      }),
    )
  })

  it('never breaches a clock that was met before its due time', () => {
    fc.assert(
      fc.property(
        ticketArb,
        fc.constantFrom(...CLOCKS),
        // Met exactly at the due instant as well as before it.
        fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
        fc.array(opArb, { maxLength: 20 }),
        ({ ticket }, clock, fraction, ops) => {
          const due = ticket.dueDates[clock]
          if (due === undefined) return
          const metAt = ticket.registeredAt + Math.floor(fraction * (due - ticket.registeredAt))
          const met = apply(ticket, MEETS[clock], metAt)
          const final = run(met, [...ops, { kind: 'check', offset: 60 * DAY }]).at(-1)
          expect(final?.breaches.map((b) => b.clock)).not.toContain(clock)
        },
      ),
    )
  })

  it('breaches every clock still running after its due time, with one follow-up each', () => {
    fc.assert(
      fc.property(ticketArb, fc.integer({ min: 1, max: 10 * DAY }), ({ ticket }, late) => {
        const latest = Math.max(...Object.values(ticket.dueDates), ticket.registeredAt)
        const { ticket: checked, followUps } = checkClocks(ticket, latest + late)
        const expected = CLOCKS.filter((c) => ticket.dueDates[c] !== undefined)
        expect(checked.breaches.map((b) => b.clock)).toEqual(expected)
        expect(followUps.map((f) => f.clock)).toEqual(expected)
        expect(followUps.filter((f) => f.type === 'replacement-device').length).toBe(
          expected.includes('replacement') ? 1 : 0,
        )
      }),
    )
  })
})

describe('a ticket blocked by its contract', () => {
  it('runs no clock while suspended, and starts its clocks from the moment it is released, on its own terms', () => {
    const faultAt = at('2026-03-02T08:00')
    const blocked = openTicket(rome, faultAt, 'critical', 'suspended', { remoteSupportHours: 1 })
    expect(blocked.blocked?.code).toBe('contract-suspended')
    expect(blocked.dueDates).toEqual({})
    expect(checkClocks(blocked, at('2026-03-20T08:00')).followUps).toEqual([])
    const released = releaseTicket(blocked, rome, at('2026-03-03T10:00'))
    expect(released.blocked).toBeUndefined()
    expect(local(released.clocksStartedAt)).toBe('Tue 2026-03-03 10:00 +01:00')
    expect(local(released.dueDates.remoteSupport)).toBe('Tue 2026-03-03 11:00 +01:00')
    expect(released.registeredAt).toBe(faultAt)
  })

  it('says ended for an ended contract, and leaves a ticket that is not blocked as it is', () => {
    expect(openTicket(rome, at('2026-03-02T08:00'), 'critical', 'ended').blocked?.code).toBe('contract-ended')
    const running = openTicket(rome, at('2026-03-02T08:00'), 'critical', 'active')
    expect(releaseTicket(running, rome, at('2026-03-03T10:00'))).toBe(running)
  })

  it('keeps the time of the reading beside the time the service learned of it', () => {
    const t = openTicket(rome, at('2026-03-02T12:00'), 'critical', 'active', {}, at('2026-03-02T09:00'))
    expect(ticketView(t)).toMatchObject({
      faultAt: new Date(at('2026-03-02T09:00')).toISOString(),
      learnedAt: new Date(at('2026-03-02T12:00')).toISOString(),
      registeredAt: new Date(at('2026-03-02T12:00')).toISOString(),
    })
  })
})

describe('a fault or a call joining an open ticket', () => {
  const cal = siteCalendar('UTC', { workingHours: { start: '09:00', end: '18:00' } })
  const monday10 = Date.UTC(2026, 10, 16, 10)
  const fault = {
    key: 'k',
    subject: 'error:C-2557',
    episode: 'e1',
    severity: 'critical' as const,
    at: monday10,
  }

  it('makes a degraded call critical, with the on-site clock the fault brings', () => {
    const call = openTicket(cal, monday10, 'warning', true)
    const joined = joinTicket(call, { severity: 'critical', onSiteDue: monday10 + 8 * HOUR, fault })
    expect(joined.severity).toBe('critical')
    expect(joined.dueDates).toEqual({ ...call.dueDates, onSite: monday10 + 8 * HOUR })
    expect(joined.joined).toEqual([fault])
    expect(call.joined).toBeUndefined()
  })

  it('keeps the clocks of a ticket that was critical already, and records the call', () => {
    const ticket = openTicket(cal, monday10, 'critical', true)
    const call = { at: monday10 + HOUR, description: 'it smells of burning', stopped: true }
    const joined = joinTicket(ticket, { severity: 'critical', onSiteDue: monday10 + 99 * HOUR, call })
    expect(joined.dueDates).toEqual(ticket.dueDates)
    expect(joined.calls).toEqual([call])
  })

  it('starts no clock on a blocked ticket: it is critical once released', () => {
    const blocked = openTicket(cal, monday10, 'warning', 'suspended')
    const joined = joinTicket(blocked, { severity: 'critical', onSiteDue: monday10 + 8 * HOUR, fault })
    expect(joined.dueDates).toEqual({})
    expect(releaseTicket(joined, cal, monday10 + HOUR).dueDates.onSite).toBeDefined()
  })
})
