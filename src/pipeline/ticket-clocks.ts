/**
 * The SLA clocks of the open service tickets, run by the sweeps: a clock that ran out is recorded
 * as a breach on its ticket, and a device not restored in time gets a `replacement-device` action.
 * Read again when actions were written or a device's description changed, or when the next clock
 * runs out.
 */
import { DEFAULT_SITE_CALENDAR } from '../domain/calendar.ts'
import type { ActionCandidate } from '../domain/ledger.ts'
import { checkClocks, releaseTicket } from '../domain/ticket.ts'
import { actionIdentity, contractOf } from '../rules/facts.ts'
import { ticketDeadline } from './deadlines.ts'
import type { SweepHost } from './sweep-host.ts'

export class TicketClocks {
  /** The open tickets may have changed since they were last read. */
  stale = true
  /** When the next clock runs out. */
  due = Number.POSITIVE_INFINITY

  constructor(private readonly host: Pick<SweepHost, 'store' | 'info' | 'onActions'>) {}

  /** Whether a sweep at `now` must read the tickets. */
  dueAt(now: number): boolean {
    return this.stale || now >= this.due
  }

  /**
   * Reads the open tickets as `check` at `from` would, without changing any: true, with
   * their next deadline known, when none would change at `from` (no breach, no release).
   */
  async quiet(from: number): Promise<boolean> {
    let due = Number.POSITIVE_INFINITY
    for (const open of await this.host.store.openTickets()) {
      if (open.ticket.blocked) {
        const info = await this.host.info(open.deviceId, open.siteId)
        if (contractOf(info) === 'active') return false
      }
      if (checkClocks(open.ticket, from).ticket !== open.ticket) return false
      due = Math.min(due, ticketDeadline(open.ticket, from))
    }
    this.stale = false
    this.due = due
    return true
  }

  /** Runs the clocks at `now`: breaches recorded on their tickets, and the replacement devices due. */
  async check(now: number): Promise<ActionCandidate[]> {
    const followUps: ActionCandidate[] = []
    let changed = false
    let due = Number.POSITIVE_INFINITY
    this.stale = false
    for (const open of await this.host.store.openTickets()) {
      const info = await this.host.info(open.deviceId, open.siteId)
      // A ticket blocked by its contract starts its clocks once the contract is active again.
      let ticket = open.ticket
      if (ticket.blocked && contractOf(info) === 'active') {
        ticket = releaseTicket(ticket, info.calendar ?? DEFAULT_SITE_CALENDAR, now)
      }
      const checked = checkClocks(ticket, now)
      due = Math.min(due, ticketDeadline(checked.ticket, now))
      if (checked.ticket !== open.ticket) {
        await this.host.store.updateTicket(open.id, () => ({ ticket: checked.ticket }), now)
        changed = true
      }
      for (const f of checked.followUps) {
        if (f.type !== 'replacement-device') continue
        followUps.push({
          rule: open.rule,
          type: 'replacement-device',
          deviceId: open.deviceId,
          siteId: open.siteId,
          subject: open.subject,
          episode: open.episode,
          details: { ticket: open.id, dueAt: new Date(f.dueAt).toISOString(), ...actionIdentity(info) },
          at: now,
        })
      }
    }
    this.due = due
    if (changed) this.host.onActions()
    return followUps
  }
}
