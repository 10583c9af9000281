import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ActionStatus } from '../../src/contract/schemas.ts'
import { DEFAULT_SITE_CALENDAR } from '../../src/domain/calendar.ts'
import {
  type ActionCandidate,
  dedupKey,
  episodeBase,
  isCurrent,
  isExtraEpisode,
  type LedgerEntry,
  orderEpisode,
  planLedger,
  SERVICE_REQUEST,
  transition,
} from '../../src/domain/ledger.ts'
import { openTicket } from '../../src/domain/ticket.ts'

function candidate(overrides: Partial<ActionCandidate> = {}): ActionCandidate {
  return {
    rule: 'toner-reorder',
    type: 'reorder',
    deviceId: 'SCM-004512',
    siteId: 'milano-hq',
    subject: 'toner:black',
    episode: 'initial',
    details: { color: 'black', level: 19 },
    at: 0,
    ...overrides,
  }
}

function entry(
  id: string,
  subject: string,
  episode: string,
  status: ActionStatus = 'open',
  rule = 'toner-reorder',
): LedgerEntry {
  return { id, rule, type: 'reorder', createdAt: 0, deviceId: 'SCM-004512', subject, episode, status }
}

describe('dedupKey', () => {
  it('gives the same key to two candidates that differ only in their details and rule', () => {
    expect(dedupKey(candidate({ details: { level: 5 }, rule: 'toner-reorder-konica' }))).toBe(
      dedupKey(candidate()),
    )
  })

  it.each<[string, Partial<ActionCandidate>]>([
    ['type', { type: 'toner-shake' }],
    ['device', { deviceId: 'SCM-000001' }],
    ['subject', { subject: 'toner:cyan' }],
    ['episode', { episode: 'c1795161600000' }],
  ])('gives a different key to a candidate with another %s', (_what, change) => {
    expect(dedupKey(candidate(change))).not.toBe(dedupKey(candidate()))
  })

  it('does not confuse fields whose values would run together', () => {
    const a = dedupKey(candidate({ type: 'a', deviceId: 'bc' }))
    const b = dedupKey(candidate({ type: 'ab', deviceId: 'c' }))
    expect(a).not.toBe(b)
  })
})

describe('planLedger', () => {
  const episodes = new Map([
    ['toner:black', 'c2000'],
    ['toner:cyan', 'initial'],
    ['silence', 's2000'],
  ])

  it('keeps one candidate of each dedup key, the first one', () => {
    const first = candidate({ details: { level: 19 } })
    const plan = planLedger([], [first, candidate({ details: { level: 18 } }), candidate()], episodes)
    expect(plan.create).toEqual([first])
  })

  it('keeps candidates that differ in episode or subject, in their order', () => {
    const list = [
      candidate(),
      candidate({ episode: 'c2000' }),
      candidate({ subject: 'toner:cyan' }),
      candidate(),
    ]
    const plan = planLedger([], list, episodes)
    expect(plan.create).toEqual(list.slice(0, 3))
  })

  it('resolves an unresolved action whose episode is no longer current', () => {
    const plan = planLedger([entry('a1', 'toner:black', 'initial')], [], episodes)
    expect(plan.resolve).toEqual(['a1'])
  })

  it('resolves an acknowledged action whose episode is over', () => {
    const plan = planLedger([entry('a1', 'toner:black', 'initial', 'acknowledged')], [], episodes)
    expect(plan.resolve).toEqual(['a1'])
  })

  it('does not resolve an action whose episode is current', () => {
    const plan = planLedger(
      [entry('a1', 'toner:black', 'c2000'), entry('a2', 'toner:cyan', 'initial', 'acknowledged')],
      [],
      episodes,
    )
    expect(plan.resolve).toEqual([])
  })

  it('resolves an action whose subject has no current episode any more (an error that cleared)', () => {
    const plan = planLedger([entry('a1', 'error:C-2557', 'e1000')], [], episodes)
    expect(plan.resolve).toEqual(['a1'])
  })

  it('does not resolve again an action that is already resolved', () => {
    const plan = planLedger([entry('a1', 'toner:black', 'initial', 'resolved')], [], episodes)
    expect(plan.resolve).toEqual([])
  })

  it('resolves only the actions that are over, among several', () => {
    const plan = planLedger(
      [entry('a1', 'silence', 's1000'), entry('a2', 'silence', 's2000'), entry('a3', 'toner:cyan', 'c1500')],
      [candidate()],
      episodes,
    )
    expect(plan.resolve).toEqual(['a1', 'a3'])
    expect(plan.create).toHaveLength(1)
  })

  it('creates the candidates of any episode: whether it is current is for the caller to decide', () => {
    const old = candidate({ episode: 'initial' })
    expect(isCurrent(old, episodes)).toBe(false)
    expect(planLedger([], [old], episodes).create).toEqual([old])
  })

  it('creates each distinct dedup key exactly once, for any candidates', () => {
    const candidateArb = fc.record({
      rule: fc.constantFrom('toner-reorder', 'waste-box'),
      type: fc.constant('reorder'),
      deviceId: fc.constantFrom('A', 'B'),
      siteId: fc.constant('s'),
      subject: fc.constantFrom('toner:black', 'toner:cyan', 'wasteBox'),
      episode: fc.constantFrom('initial', 'c1', 'c2'),
      details: fc.record({ level: fc.integer({ min: 0, max: 20 }) }),
      at: fc.nat(),
    })
    fc.assert(
      fc.property(fc.array(candidateArb, { maxLength: 40 }), (list) => {
        const keys = planLedger([], list, episodes).create.map(dedupKey)
        expect(new Set(keys).size).toBe(keys.length)
        expect(new Set(keys)).toEqual(new Set(list.map(dedupKey)))
      }),
    )
  })
})

describe('isCurrent', () => {
  it('says whether a candidate belongs to the episode its subject is in now', () => {
    const episodes = new Map([['wasteBox', 'b1000']])
    expect(isCurrent({ subject: 'wasteBox', episode: 'b1000' }, episodes)).toBe(true)
    expect(isCurrent({ subject: 'wasteBox', episode: 'initial' }, episodes)).toBe(false)
    expect(isCurrent({ subject: 'toner:black', episode: 'initial' }, episodes)).toBe(false)
  })
})

describe('transition', () => {
  it('moves an open action to acknowledged', () => {
    expect(transition('open', 'ack')).toEqual({ ok: true, to: 'acknowledged', changed: true })
  })

  it('leaves an acknowledged action unchanged when it is acknowledged again', () => {
    expect(transition('acknowledged', 'ack')).toEqual({ ok: true, to: 'acknowledged', changed: false })
  })

  it('resolves an open action and an acknowledged action', () => {
    expect(transition('open', 'resolve')).toEqual({ ok: true, to: 'resolved', changed: true })
    expect(transition('acknowledged', 'resolve')).toEqual({ ok: true, to: 'resolved', changed: true })
  })

  it('leaves a resolved action unchanged when it is resolved again', () => {
    expect(transition('resolved', 'resolve')).toEqual({ ok: true, to: 'resolved', changed: false })
  })

  it('refuses to acknowledge a resolved action, and says why', () => {
    expect(transition('resolved', 'ack')).toEqual({
      ok: false,
      reason: expect.stringMatching(/resolved/),
    })
  })

  it('never moves an action back towards open', () => {
    const order: ActionStatus[] = ['open', 'acknowledged', 'resolved']
    // Every step that is taken moves forward; the one refused is acknowledging a resolved action.
    const steps = order.flatMap((from) =>
      (['ack', 'resolve'] as const).map((verb) => ({ from, verb, result: transition(from, verb) })),
    )
    const taken = steps.flatMap((s) => (s.result.ok ? [{ from: s.from, to: s.result.to }] : []))
    expect(taken).toHaveLength(5)
    for (const { from, to } of taken) expect(order.indexOf(to)).toBeGreaterThanOrEqual(order.indexOf(from))
    expect(steps.filter((s) => !s.result.ok).map((s) => [s.from, s.verb])).toEqual([['resolved', 'ack']])
  })
})

describe('planLedger and causes already open', () => {
  it('creates nothing for a cause that an unresolved action already covers, so a lasting condition costs no write', () => {
    const open = [entry('a1', 'toner:black', 'initial')]
    const plan = planLedger(
      open,
      [candidate(), candidate({ details: { color: 'black', level: 12 } })],
      new Map([['toner:black', 'initial']]),
    )
    expect(plan).toEqual({ create: [], resolve: [], join: [] })
  })

  it('creates nothing for the same cause asked by another rule: one order per cartridge, whatever rule asks', () => {
    const open = [entry('a1', 'toner:black', 'initial', 'open', 'toner-reorder-konica')]
    const plan = planLedger(open, [candidate()], new Map([['toner:black', 'initial']]))
    expect(plan.create).toEqual([])
  })
})

describe('orders people place, and service calls that tickets join', () => {
  const episodes = new Map([['toner:black', 'c1000']])
  const person = (episode: string, status: ActionStatus = 'open'): LedgerEntry => ({
    ...entry('p1', 'toner:black', episode, status, 'order-request'),
    deliveryStep: 'ordered',
  })

  it("makes a person's order the order of its cartridge: the rule's reorder for it is not made", () => {
    const plan = planLedger(
      [person(orderEpisode('c1000', false, 'ab12'))],
      [candidate({ episode: 'c1000' })],
      episodes,
    )
    expect(plan.create).toEqual([])
    expect(plan.resolve).toEqual([])
  })

  it('lets the rule reorder beside an extra, which is for the shelf', () => {
    const plan = planLedger(
      [person(orderEpisode('c1000', true, 'ab12'))],
      [candidate({ episode: 'c1000' })],
      episodes,
    )
    expect(plan.create).toHaveLength(1)
  })

  it('resolves an order of either kind when a new cartridge is seen', () => {
    const orders = [
      person(orderEpisode('c1000', false, 'a')),
      { ...person(orderEpisode('c1000', true, 'b')), id: 'p2' },
    ]
    expect(planLedger(orders, [], new Map([['toner:black', 'c2000']])).resolve).toEqual(['p1', 'p2'])
  })

  it('keeps an order for a part the device never reported, and resolves it at its first report', () => {
    const order = person(orderEpisode('unreported', false, 'a'))
    expect(planLedger([order], [], new Map()).resolve).toEqual([])
    expect(planLedger([order], [], new Map([['toner:black', 'initial']])).resolve).toEqual(['p1'])
  })

  it('reads the part of an episode before the mark of an order', () => {
    expect(episodeBase(orderEpisode('c1000', true, 'x1'))).toBe('c1000')
    expect(episodeBase('c1000')).toBe('c1000')
    expect(isExtraEpisode(orderEpisode('c1000', true, 'x1'))).toBe(true)
    expect(isExtraEpisode(orderEpisode('c1000', false, 'x1'))).toBe(false)
    expect(isCurrent(candidate({ episode: orderEpisode('c1000', false, 'a') }), episodes)).toBe(true)
  })

  const call: LedgerEntry = {
    id: 'sr1',
    rule: 'service-request',
    type: SERVICE_REQUEST,
    createdAt: 0,
    deviceId: 'SCM-004512',
    subject: 'request:ab12cd34',
    episode: 'r0',
    status: 'acknowledged',
  }
  const fault = candidate({
    type: 'fault',
    rule: 'critical-fault',
    subject: 'error:C-2557',
    episode: 'e5000',
    ticket: openTicket(DEFAULT_SITE_CALENDAR, 5000, 'critical', true),
  })

  it("joins a device's ticket to the person's call open on it, once", () => {
    const plan = planLedger([call], [fault], new Map())
    expect(plan.create).toEqual([])
    expect(plan.join).toEqual([{ into: 'sr1', candidate: fault }])
    expect(plan.resolve).toEqual([])
    expect(planLedger([{ ...call, joined: [dedupKey(fault)] }], [fault], new Map()).join).toEqual([])
  })

  it('opens the ticket as usual once the call is resolved, and joins no action without a ticket', () => {
    expect(planLedger([{ ...call, status: 'resolved' }], [fault], new Map()).create).toEqual([fault])
    expect(planLedger([call], [candidate()], episodes).join).toEqual([])
  })
})
