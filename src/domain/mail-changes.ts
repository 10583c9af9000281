/**
 * Which changes of an action are worth a message, derived from two snapshots of it (the last one
 * the email sink saw, and the new one): pure, so the same answer comes on every replay of the outbox.
 *
 * A change is a status step (`created`, `acknowledged`, `resolved`), a new SLA breach of a service
 * ticket (`sla-breach`, one per clock), or a new step of an order's delivery (`ordered`, `shipped`,
 * `delivered`, from `details.delivery`). Each has a key that is the same whenever the same change
 * is derived again, so a message about it gets one Message-ID.
 */
import { DateTime } from 'luxon'
import type { Action } from '../contract/schemas.ts'

export const STATUS_CHANGES = ['created', 'acknowledged', 'resolved'] as const
export const DELIVERY_STEPS = ['ordered', 'shipped', 'delivered'] as const
/** `ordered` is an order's creation, which `created` tells: no change of its own. */
export const MAIL_CHANGES = [...STATUS_CHANGES, 'sla-breach', 'shipped', 'delivered'] as const
export type MailChange = (typeof MAIL_CHANGES)[number]

export interface DerivedChange {
  change: MailChange
  /** Stable for this change of this action: `created`, `sla-breach.onSite`, `shipped`. */
  key: string
  /** What the change is about, for the template: the breached clock and its due time, a delivery step. */
  about: Record<string, unknown>
}

type Details = Record<string, unknown>

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The SLA clocks a ticket has breached, with what the details say of each. */
function breaches(details: Details): Map<string, Record<string, unknown>> {
  const ticket = details.ticket
  const list = isObject(ticket) && Array.isArray(ticket.breaches) ? ticket.breaches : []
  const out = new Map<string, Record<string, unknown>>()
  for (const b of list) if (isObject(b) && typeof b.clock === 'string') out.set(b.clock, b)
  return out
}

/**
 * The delivery steps reached, read generically, as whoever records deliveries may write them: a
 * `status`/`stage`/`step` naming the latest step (the steps before it count as reached), a key per
 * step (`shipped`, or `shippedAt`), or a list of steps (`steps`, `history`, `events`) of objects
 * naming theirs.
 */
export function deliverySteps(details: Details): Set<string> {
  const reached = new Set<string>()
  const delivery = details.delivery
  if (!isObject(delivery)) return reached
  const take = (name: unknown) => {
    if (typeof name !== 'string') return
    const i = (DELIVERY_STEPS as readonly string[]).indexOf(name)
    if (i >= 0) for (const s of DELIVERY_STEPS.slice(0, i + 1)) reached.add(s)
  }
  for (const field of ['status', 'stage', 'step', 'state']) take(delivery[field])
  for (const step of DELIVERY_STEPS) {
    const v = delivery[step] ?? delivery[`${step}At`]
    if (v !== undefined && v !== null && v !== false) take(step)
  }
  for (const field of ['steps', 'history', 'events']) {
    const list = delivery[field]
    if (!Array.isArray(list)) continue
    for (const item of list) {
      if (isObject(item)) for (const k of ['step', 'status', 'type', 'name']) take(item[k])
      else take(item)
    }
  }
  return reached
}

/** What changed from `previous` (null: the sink never saw this action) to `current`, in the order it happened. */
export function deriveChanges(previous: Action | null, current: Action): DerivedChange[] {
  const out: DerivedChange[] = []
  const statusRank = (s: Action['status'] | undefined) =>
    s === undefined ? -1 : s === 'open' ? 0 : s === 'acknowledged' ? 1 : 2
  const before = statusRank(previous?.status)
  if (before < 0) out.push({ change: 'created', key: 'created', about: {} })
  // An action resolved straight from open skips acknowledged: nobody acknowledged it.
  if (current.status === 'acknowledged' && before < 1)
    out.push({ change: 'acknowledged', key: 'acknowledged', about: {} })
  const prevSteps = previous ? deliverySteps(previous.details) : new Set<string>()
  const delivery = isObject(current.details.delivery) ? current.details.delivery : {}
  for (const step of ['shipped', 'delivered'] as const) {
    if (deliverySteps(current.details).has(step) && !prevSteps.has(step))
      out.push({ change: step, key: step, about: { ...delivery } })
  }
  const known = previous ? breaches(previous.details) : new Map()
  for (const [clock, breach] of breaches(current.details)) {
    if (!known.has(clock))
      out.push({ change: 'sla-breach', key: `sla-breach.${clock}`, about: { ...breach } })
  }
  if (current.status === 'resolved' && before < 2)
    out.push({ change: 'resolved', key: 'resolved', about: {} })
  return out
}

/**
 * The Message-ID of the message about one change of one action: the same on every attempt and
 * after a restart, so a receiver (and the mail log) can tell a repeat.
 */
export function messageId(actionId: string, changeKey: string, domain: string): string {
  return `<${actionId}.${changeKey}@${domain}>`
}

export function digestMessageId(siteId: string, day: string, domain: string): string {
  return `<digest.${siteId}.${day}@${domain}>`
}

/**
 * The digest an advisory of instant `at` goes into: the first `time` (HH:mm, site-local) after
 * `at` in `zone`. `day` is that digest's local date, and names it.
 */
export function digestSlot(at: number, zone: string, time: string): { day: string; dueAt: number } {
  const [hour, minute] = time.split(':').map(Number) as [number, number]
  const local = DateTime.fromMillis(at, { zone })
  let due = local.set({ hour, minute, second: 0, millisecond: 0 })
  if (due.toMillis() <= at) due = due.plus({ days: 1 }).set({ hour, minute })
  return { day: due.toISODate() as string, dueAt: due.toMillis() }
}

/** The slot after a given one, for an advisory whose digest already went out. */
export function nextDigestSlot(
  slot: { dueAt: number },
  zone: string,
  time: string,
): { day: string; dueAt: number } {
  return digestSlot(slot.dueAt, zone, time)
}
