import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ActionStatus } from '../../src/contract/schemas.ts'
import {
  type ActionCandidate,
  dedupKey,
  isCurrent,
  type LedgerEntry,
  planLedger,
  transition,
} from '../../src/domain/ledger.ts'

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
    expect(plan).toEqual({ create: [], resolve: [] })
  })

  it('creates nothing for the same cause asked by another rule: one order per cartridge, whatever rule asks', () => {
    const open = [entry('a1', 'toner:black', 'initial', 'open', 'toner-reorder-konica')]
    const plan = planLedger(open, [candidate()], new Map([['toner:black', 'initial']]))
    expect(plan.create).toEqual([])
  })
})
