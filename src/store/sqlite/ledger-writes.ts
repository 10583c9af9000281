/**
 * What changes the action ledger, each in one transaction with its outbox message (the outbox
 * pattern): processing's commits, and a person's steps (a transition, a cancel, a ticket's or a
 * delivery's step, a stock count).
 */
import { randomUUID } from 'node:crypto'
import type { Action } from '../../contract/schemas.ts'
import { type Delivery, deliveryOf } from '../../domain/delivery.ts'
import {
  type ActionCandidate,
  dedupKey,
  SERVICE_REQUEST,
  type Transition,
  transition,
} from '../../domain/ledger.ts'
import { halfYearOfEpisode, type StockCount } from '../../domain/stock.ts'
import { joinTicket, type Ticket, withTicket } from '../../domain/ticket.ts'
import type { Commit } from '../store.ts'
import { type ActionRow, type Statements, toAction } from './statements.ts'

export class LedgerWrites {
  constructor(
    private readonly s: Statements,
    /** A transaction of the store's, whose failure is a coded storage error. */
    private readonly tx: <T>(fn: () => T) => () => T,
  ) {}

  async commit(change: Commit): Promise<number> {
    const s = this.s
    let messages = 0
    // Every change writes its outbox message at once, in the same transaction (the outbox pattern):
    // an action created and resolved in one commit is sent twice, open and then resolved.
    const emit = (id: string) => {
      s.insertOutbox.run(JSON.stringify(toAction(s.action.get(id) as ActionRow)))
      messages++
    }
    this.tx(() => {
      for (const state of change.states)
        s.upsertState.run(state.deviceId, state.siteId, JSON.stringify(state))
      for (const c of change.ledger.create) {
        const id = this.insert(c, change.createdAtDecision ? c.at : change.at)
        if (id === null) continue // the cause is known already: nothing is created twice
        emit(id)
        if (change.ledger.resolveAtOnce.has(dedupKey(c)) && s.resolve.run(change.at, id).changes > 0) emit(id)
      }
      for (const id of change.ledger.resolve) {
        if (s.resolve.run(change.at, id).changes > 0) emit(id)
      }
      for (const { into, candidate } of change.ledger.join ?? []) {
        if (this.joinFault(into, candidate, change.at)) emit(into)
      }
      for (const i of change.installs ?? []) s.insertInstall.run(i.deviceId, i.color, i.ts, i.siteId, i.model)
      if (change.position !== undefined) s.setJournalPosition.run(change.position)
    })()
    return messages
  }

  /** Records a new action (inside a transaction): its id, or null when its cause is known already. */
  private insert(c: ActionCandidate, createdAt: number): string | null {
    const id = randomUUID()
    const inserted = this.s.insertAction.run({
      id,
      dedupKey: dedupKey(c),
      type: c.type,
      scope: c.scope ?? 'device',
      deviceId: c.scope === 'site' ? null : (c.deviceId ?? null),
      siteId: c.siteId,
      rule: c.rule,
      subject: c.subject,
      episode: c.episode,
      createdAt,
      details: JSON.stringify(c.ticket ? withTicket(c.details, c.ticket) : c.details),
      ticket: c.ticket ? JSON.stringify(c.ticket) : null,
    }).changes
    return inserted === 0 ? null : id
  }

  /**
   * A device's fault joins the open service request `into` (inside the commit's transaction): it is
   * recorded on the request's ticket, which becomes critical with it. False if the request is gone.
   */
  private joinFault(into: string, c: ActionCandidate, at: number): boolean {
    const s = this.s
    const row = s.action.get(into) as ActionRow | undefined
    const stored = s.ticket.get(into) as { ticket: string | null } | undefined
    if (!row || row.status === 'resolved' || !stored?.ticket || !c.ticket) return false
    const code = c.details.code
    const ticket = joinTicket(JSON.parse(stored.ticket) as Ticket, {
      severity: c.ticket.severity,
      ...(c.ticket.dueDates.onSite === undefined ? {} : { onSiteDue: c.ticket.dueDates.onSite }),
      fault: {
        key: dedupKey(c),
        subject: c.subject,
        episode: c.episode,
        severity: c.ticket.severity,
        at: c.at,
        ...(typeof code === 'string' ? { code } : {}),
      },
    })
    const details = JSON.parse(row.details) as Record<string, unknown>
    if (c.details.alternatives !== undefined) details.alternatives = c.details.alternatives
    s.setTicket.run(JSON.stringify(ticket), JSON.stringify(withTicket(details, ticket)), at, into)
    return true
  }

  async openAction(c: ActionCandidate, at: number): Promise<Action | null> {
    return this.tx(() => {
      const id = this.insert(c, at)
      if (id === null) return null
      const action = toAction(this.s.action.get(id) as ActionRow)
      this.s.insertOutbox.run(JSON.stringify(action))
      return action
    })()
  }

  async cancel(
    id: string,
    refusal: (action: Action) => string | null,
    cancelled: { at: number; by?: string; reason?: string },
  ): Promise<{ action: Action } | { refused: string } | null> {
    const s = this.s
    return this.tx(() => {
      const row = s.action.get(id) as ActionRow | undefined
      if (!row) return null
      const before = toAction(row)
      const refused = refusal(before)
      if (refused !== null) return { refused }
      const at = new Date(cancelled.at).toISOString()
      const by = cancelled.by === undefined ? {} : { by: cancelled.by }
      const history = Array.isArray(before.details.history) ? before.details.history : []
      const details = {
        ...before.details,
        resolution: 'cancelled',
        cancelled: { at, ...by, ...(cancelled.reason === undefined ? {} : { reason: cancelled.reason }) },
        history: [...history, { at, ...by, status: 'resolved', resolution: 'cancelled' }],
      }
      s.cancel.run(JSON.stringify(details), cancelled.at, id)
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      this.resolveFollowUps(row, cancelled.at)
      return { action }
    })()
  }

  /**
   * A person's service request is over: what its ticket brought (a replacement device) is too. A
   * device's fault ends with its error instead, which ends its follow-ups the same way.
   */
  private resolveFollowUps(row: ActionRow, at: number): void {
    if (row.type !== SERVICE_REQUEST || row.device_id === null) return
    const s = this.s
    const subject = s.subjectOf.get(row.id) as string
    for (const id of s.followUps.all(row.device_id, subject, row.id) as string[]) {
      if (s.resolve.run(at, id).changes > 0)
        s.insertOutbox.run(JSON.stringify(toAction(s.action.get(id) as ActionRow)))
    }
  }

  async recordStockCount(siteId: string, count: StockCount, at: number, zone?: string): Promise<Action[]> {
    const s = this.s
    return this.tx(() => {
      s.insertStockCount.run(siteId, count.ts, JSON.stringify(count.items), at)
      const resolved: Action[] = []
      for (const { id, episode } of s.openReconciliations.all(siteId) as { id: string; episode: string }[]) {
        // A count made before the half-year it was asked for does not answer it.
        const half = halfYearOfEpisode(episode, zone)
        if (half !== null && count.ts < half.start) continue
        if (s.resolve.run(at, id).changes === 0) continue
        const action = toAction(s.action.get(id) as ActionRow)
        s.insertOutbox.run(JSON.stringify(action))
        resolved.push(action)
      }
      return resolved
    })()
  }

  async updateTicket(
    id: string,
    change: (ticket: Ticket) => { ticket: Ticket; details?: Record<string, unknown> } | { refused: string },
    at: number,
  ): Promise<{ action: Action } | { refused: string } | null> {
    const s = this.s
    return this.tx(() => {
      const row = s.ticket.get(id) as { ticket: string | null; details: string } | undefined
      if (!row) return null
      if (row.ticket === null) return { refused: 'this action is not a service ticket' }
      const result = change(JSON.parse(row.ticket) as Ticket)
      if ('refused' in result) return result
      const details = withTicket({ ...JSON.parse(row.details), ...result.details }, result.ticket)
      s.setTicket.run(JSON.stringify(result.ticket), JSON.stringify(details), at, id)
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      return { action }
    })()
  }

  async updateDelivery(
    id: string,
    change: (delivery: Delivery) => { delivery: Delivery } | { refused: string },
    at: number,
  ): Promise<{ action: Action } | { refused: string } | null> {
    const s = this.s
    return this.tx(() => {
      const row = s.action.get(id) as ActionRow | undefined
      if (!row) return null
      const details = JSON.parse(row.details) as Record<string, unknown>
      const delivery = deliveryOf(details)
      if (!delivery) return { refused: `this action (${row.type}) is not an order with a delivery` }
      const result = change(delivery)
      if ('refused' in result) return result
      s.setDetails.run(JSON.stringify({ ...details, delivery: result.delivery }), at, id)
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      return { action }
    })()
  }

  async transition(id: string, verb: Transition, at: number, by?: string) {
    const s = this.s
    return this.tx(() => {
      const row = s.action.get(id) as ActionRow | undefined
      if (!row) return null
      const blocked = (JSON.parse(row.details) as { blocked?: { reason?: unknown } }).blocked
      const step = transition(
        row.status,
        verb,
        typeof blocked?.reason === 'string' ? blocked.reason : undefined,
      )
      if (!step.ok) return { refused: step.reason }
      if (!step.changed) return { action: toAction(row), changed: false }
      s.setStatus.run(step.to, at, id)
      // Access: the audit trail names the account behind the change, in the action's history.
      if (by !== undefined) {
        const details = JSON.parse(row.details) as Record<string, unknown>
        const history = Array.isArray(details.history) ? details.history : []
        details.history = [...history, { at: new Date(at).toISOString(), by, status: step.to }]
        s.setHistory.run(JSON.stringify(details), id)
      }
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      if (step.to === 'resolved') this.resolveFollowUps(row, at)
      return { action, changed: true }
    })()
  }
}
