/**
 * A service ticket for a `fault`, as a pure state machine with SLA clocks on the site's working-hour
 * calendar: registered → remote-support → on-site → closed. Due dates are fixed when the ticket is
 * opened, so that a holiday added to the calendar later never moves a promise already made.
 *
 * A clock stops at the first event that makes it moot, whoever caused it: a device restored
 * remotely needs no visit, and an engineer on site makes the callback moot. A clock breaches when it
 * ran out before it stopped; the breach is recorded once, whenever it is first seen.
 */
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Severity } from '../contract/schemas.ts'
import { addWorkingDays, addWorkingHours, type SiteCalendar } from './calendar.ts'

export const SlaTermsSchema = Type.Object(
  {
    remoteSupportHours: Type.Number({
      exclusiveMinimum: 0,
      default: 2,
      description: 'working hours to the callback',
    }),
    onSiteHours: Type.Number({
      exclusiveMinimum: 0,
      default: 8,
      description: 'working hours to an engineer on site',
    }),
    replacementDays: Type.Integer({
      minimum: 1,
      default: 5,
      description: 'working days to restore the device',
    }),
  },
  { additionalProperties: false },
)
export type SlaTerms = Static<typeof SlaTermsSchema>
/** The schema's defaults: a callback within 2 working hours, on site within 8, replaced after 5 working days. */
export const DEFAULT_SLA_TERMS: SlaTerms = Value.Create(SlaTermsSchema)

export type TicketSeverity = Static<typeof Severity>
export type TicketStage = 'registered' | 'remote-support' | 'on-site' | 'closed'
export const TICKET_EVENTS = ['remote-support-called', 'engineer-on-site', 'restored', 'closed'] as const
export type TicketEventType = (typeof TICKET_EVENTS)[number]
export type SlaClock = 'remoteSupport' | 'onSite' | 'replacement'

export interface TicketEvent {
  type: TicketEventType
  at: number
}

export interface Breach {
  clock: SlaClock
  dueAt: number
  detectedAt: number
}

export type ContractStanding = 'active' | 'suspended' | 'ended'

export interface TicketBlock {
  code: 'contract-inactive' | 'contract-suspended' | 'contract-ended'
  reason: string
}

export interface Ticket {
  /** When the service learned of the fault (the reading's receipt): its clocks count from here. */
  registeredAt: number
  /** The time of the reading that showed the fault, when it is known; earlier for a replayed one. */
  faultAt?: number
  severity: TicketSeverity
  stage: TicketStage
  /** Set when no clock runs because the service is not covered. */
  blocked?: TicketBlock
  /** The terms its clocks take once a blocked ticket is released. */
  terms?: SlaTerms
  /** When its clocks started: `registeredAt`, or the moment a blocked ticket was released. */
  clocksStartedAt?: number
  /** `onSite` only for critical faults; none at all for a blocked ticket. */
  dueDates: Partial<Record<SlaClock, number>>
  breaches: Breach[]
  events: TicketEvent[]
  /** The device's own faults that joined this ticket while it was open (a person's call first). */
  joined?: JoinedFault[]
  /** The calls people made about the device while this ticket was open, after the one that opened it. */
  calls?: Call[]
}

/** A fault the device reported, recorded on the ticket it joined: its ledger cause and its error. */
export interface JoinedFault {
  /** The dedup key of the fault's cause: it joins once. */
  key: string
  subject: string
  episode: string
  severity: TicketSeverity
  at: number
  code?: string
}

/** A person's service call. */
export interface Call {
  at: number
  by?: string
  description: string
  stopped: boolean
}

export interface FollowUp {
  type: 'replacement-device' | 'sla-breach'
  clock: SlaClock
  dueAt: number
}

const STAGE_ORDER: readonly TicketStage[] = ['registered', 'remote-support', 'on-site', 'closed']

const STAGE_OF: Record<TicketEventType, TicketStage | undefined> = {
  'remote-support-called': 'remote-support',
  'engineer-on-site': 'on-site',
  restored: undefined,
  closed: 'closed',
}

const STOPPED_BY: Record<SlaClock, readonly TicketEventType[]> = {
  remoteSupport: ['remote-support-called', 'engineer-on-site', 'restored', 'closed'],
  onSite: ['engineer-on-site', 'restored', 'closed'],
  replacement: ['restored', 'closed'],
}

const BLOCKS: Record<Exclude<ContractStanding, 'active'>, TicketBlock> = {
  suspended: {
    code: 'contract-suspended',
    reason: "the device's service contract is suspended (unpaid): no SLA clock runs until it is active again",
  },
  ended: {
    code: 'contract-ended',
    reason: "the device's service contract has ended: no SLA clock runs unless it is active again",
  },
}

function dueDatesFrom(
  cal: SiteCalendar,
  from: number,
  severity: TicketSeverity,
  terms: Partial<SlaTerms>,
): Ticket['dueDates'] {
  const t = { ...DEFAULT_SLA_TERMS, ...terms }
  const dueDates: Ticket['dueDates'] = {
    remoteSupport: addWorkingHours(cal, from, t.remoteSupportHours),
    replacement: addWorkingDays(cal, from, t.replacementDays),
  }
  if (severity === 'critical') dueDates.onSite = addWorkingHours(cal, from, t.onSiteHours)
  return dueDates
}

/**
 * A ticket registered when the service learned of its fault (`registeredAt`, the reading's receipt);
 * `faultAt` is the reading's own time, earlier for a reading a gateway kept while offline. Without
 * an active contract it is blocked: no clock runs until `releaseTicket`.
 */
export function openTicket(
  cal: SiteCalendar,
  registeredAt: number,
  severity: TicketSeverity,
  contract: boolean | ContractStanding,
  terms: Partial<SlaTerms> = {},
  faultAt?: number,
): Ticket {
  const standing: ContractStanding = contract === true ? 'active' : contract === false ? 'ended' : contract
  const base = {
    registeredAt,
    ...(faultAt === undefined ? {} : { faultAt }),
    severity,
    stage: 'registered' as const,
    breaches: [],
    events: [],
  }
  if (standing !== 'active') {
    const blocked =
      contract === false
        ? {
            code: 'contract-inactive' as const,
            reason: 'the device has no active service contract: no SLA applies',
          }
        : BLOCKS[standing]
    return { ...base, blocked, terms: { ...DEFAULT_SLA_TERMS, ...terms }, dueDates: {} }
  }
  return {
    ...base,
    clocksStartedAt: registeredAt,
    dueDates: dueDatesFrom(cal, registeredAt, severity, terms),
  }
}

/**
 * A blocked ticket whose contract is active again: its clocks start now, from `at`, on the terms it
 * was opened with. Any other ticket comes back unchanged (the same value).
 */
export function releaseTicket(ticket: Ticket, cal: SiteCalendar, at: number): Ticket {
  if (!ticket.blocked || ticket.stage === 'closed') return ticket
  const { blocked: _blocked, terms, ...rest } = ticket
  return {
    ...rest,
    clocksStartedAt: at,
    dueDates: dueDatesFrom(cal, at, ticket.severity, terms ?? {}),
  }
}

export type AdvanceResult = { ok: true; ticket: Ticket } | { ok: false; reason: string }

/**
 * Records an event. The stage only moves forward: a second callback during the visit is recorded
 * but leaves the ticket on site. Events may arrive out of order (a visit logged the next day);
 * clocks look at the earliest event that stops them.
 */
export function advance(ticket: Ticket, event: { type: TicketEventType }, at: number): AdvanceResult {
  if (ticket.stage === 'closed') return { ok: false, reason: 'a closed ticket takes no more events' }
  if (!Number.isFinite(at) || at < ticket.registeredAt) {
    return { ok: false, reason: 'an event cannot happen before the ticket was registered' }
  }
  const next = STAGE_OF[event.type]
  const stage =
    next !== undefined && STAGE_ORDER.indexOf(next) > STAGE_ORDER.indexOf(ticket.stage) ? next : ticket.stage
  return { ok: true, ticket: { ...ticket, stage, events: [...ticket.events, { type: event.type, at }] } }
}

/**
 * Records a breach for every clock that ran out before it stopped, once each, and says what is newly
 * due because of it. The ticket comes back unchanged (the same value) when nothing is new.
 */
export function checkClocks(ticket: Ticket, now: number): { ticket: Ticket; followUps: FollowUp[] } {
  const known = new Set(ticket.breaches.map((b) => b.clock))
  const fresh: Breach[] = []
  for (const clock of Object.keys(STOPPED_BY) as SlaClock[]) {
    const dueAt = ticket.dueDates[clock]
    if (dueAt === undefined || known.has(clock) || now <= dueAt) continue
    // No stopping event yet: the clock is still running, and Math.min of nothing is Infinity.
    const stoppedAt = Math.min(
      ...ticket.events.filter((e) => STOPPED_BY[clock].includes(e.type)).map((e) => e.at),
    )
    if (stoppedAt > dueAt) fresh.push({ clock, dueAt, detectedAt: now })
  }
  if (fresh.length === 0) return { ticket, followUps: [] }
  const followUps = fresh.map(
    ({ clock, dueAt }): FollowUp => ({
      type: clock === 'replacement' ? 'replacement-device' : 'sla-breach',
      clock,
      dueAt,
    }),
  )
  return { ticket: { ...ticket, breaches: [...ticket.breaches, ...fresh] }, followUps }
}

/**
 * A fault or a call joins an open ticket: recorded on it, and a critical one (the device stopped)
 * makes the ticket critical, with the on-site clock it brings (`onSiteDue`, from when the service
 * learned of it). A blocked ticket only becomes critical: its clocks start when it is released.
 */
export function joinTicket(
  ticket: Ticket,
  join: { severity: TicketSeverity; onSiteDue?: number } & ({ fault: JoinedFault } | { call: Call }),
): Ticket {
  const next: Ticket =
    'fault' in join
      ? { ...ticket, joined: [...(ticket.joined ?? []), join.fault] }
      : { ...ticket, calls: [...(ticket.calls ?? []), join.call] }
  if (join.severity !== 'critical' || ticket.severity === 'critical' || ticket.stage === 'closed') return next
  next.severity = 'critical'
  if (!ticket.blocked && join.onSiteDue !== undefined)
    next.dueDates = { ...ticket.dueDates, onSite: join.onSiteDue }
  return next
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

/** A ticket as the API and the action's details show it: times in ISO 8601. */
export function ticketView(t: Ticket): Record<string, unknown> {
  return {
    stage: t.stage,
    severity: t.severity,
    registeredAt: iso(t.registeredAt),
    // Both times: when the fault was read, and when the service learned of it (its clocks' start).
    ...(t.faultAt === undefined ? {} : { faultAt: iso(t.faultAt), learnedAt: iso(t.registeredAt) }),
    ...(t.clocksStartedAt === undefined ? {} : { clocksStartedAt: iso(t.clocksStartedAt) }),
    ...(t.blocked ? { blocked: t.blocked } : {}),
    dueDates: Object.fromEntries(Object.entries(t.dueDates).map(([k, v]) => [k, iso(v)])),
    breaches: t.breaches.map((b) => ({ clock: b.clock, dueAt: iso(b.dueAt), detectedAt: iso(b.detectedAt) })),
    events: t.events.map((e) => ({ type: e.type, at: iso(e.at) })),
    ...(t.joined?.length
      ? {
          joined: t.joined.map((j) => ({
            ...(j.code === undefined ? {} : { code: j.code }),
            severity: j.severity,
            at: iso(j.at),
          })),
        }
      : {}),
    ...(t.calls?.length
      ? {
          calls: t.calls.map((c) => ({
            at: iso(c.at),
            ...(c.by === undefined ? {} : { by: c.by }),
            description: c.description,
            stopped: c.stopped,
          })),
        }
      : {}),
  }
}

/**
 * An action's details with its ticket: `details.ticket` shows it, and `details.blocked` (the
 * contract's place for it) says why no clock runs, while that is so.
 */
export function withTicket(details: Record<string, unknown>, t: Ticket): Record<string, unknown> {
  const { blocked: _old, ...rest } = details
  return { ...rest, ticket: ticketView(t), ...(t.blocked ? { blocked: t.blocked } : {}) }
}
