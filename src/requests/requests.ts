/**
 * What people ask for: a service call for a device, and an order of toner or a waste box. Both
 * become actions on the same lifecycle as the ones rules make: a call is a ticket with the SLA
 * clocks of a fault, on the support calendar; an order is a reorder with its expected delivery and
 * delivery steps, counted in the spare stock and in billing estimates. Either may be cancelled
 * until it is shipped or worked on.
 *
 * Each request runs between two processing runs (the processor's queue), so that a batch of
 * readings never decides on half of it: a person's order is the order for its cartridge, and the
 * rule's own reorder for it is not made.
 */
import { randomUUID } from 'node:crypto'
import type { Action, Birth } from '../contract/schemas.ts'
import { type Alternative, somewhereElse } from '../domain/alternatives.ts'
import { addWorkingHours, DEFAULT_SITE_CALENDAR, expectedDeliveryAt } from '../domain/calendar.ts'
import { deliveryOf, orderedDelivery } from '../domain/delivery.ts'
import type { DeviceState } from '../domain/device-state.ts'
import { subjectKey } from '../domain/device-state.ts'
import { type ActionCandidate, isExtraEpisode, orderEpisode, SERVICE_REQUEST } from '../domain/ledger.ts'
import { DEFAULT_SLA_TERMS, joinTicket, openTicket, type SlaTerms } from '../domain/ticket.ts'
import { actionIdentity, contractOf, type DeviceInfo } from '../rules/facts.ts'
import type { LoadedRule } from '../rules/loader.ts'
import type { Store } from '../store/store.ts'

/** The rule name on actions people opened: no rule file made them. */
export const SERVICE_REQUEST_RULE = 'service-request'
export const ORDER_RULE = 'order-request'

/** The item of an order, and the action type it is. */
export const ORDER_TYPES = { toner: 'reorder', 'waste-box': 'waste-box' } as const
export type OrderItem = keyof typeof ORDER_TYPES

export interface ServiceCall {
  description: string
  /** The device stopped (it prints nothing): an engineer comes on site. Else it is degraded. */
  stopped?: boolean
}

export interface OrderRequest {
  item: OrderItem
  color?: string
  quantity: number
  reason: string
  /** For the shelf: beside the order of the cartridge in use, never instead of it. */
  extra?: boolean
}

/** What the requests need of the running service. */
export interface RequestDeps {
  store: Store
  now: () => number
  /** What is known of a device (the inventory, its birth, its site's calendar). */
  describe: (birth: Birth, deviceId: string, siteId: string) => DeviceInfo
  /** false when the inventory marks the device as not monitored. */
  monitored: (deviceId: string) => boolean
  /** The rule files loaded now: the fault rule's SLA terms, the reorder's lead time. */
  rules: () => readonly LoadedRule[]
  processing: {
    exclusive<T>(task: () => Promise<T>): Promise<T>
    stateOf(deviceId: string): DeviceState | null
    statesOfSite(siteId: string): DeviceState[]
  }
}

export interface DeviceRef {
  deviceId: string
  siteId: string
}

export type Refused = { refused: string }

export class CustomerRequests {
  constructor(private readonly deps: RequestDeps) {}

  /**
   * A person's service call. With a ticket already open on the device (its own fault, or an
   * earlier call), the call joins it: `joined` is true and the action is that ticket.
   */
  async serviceCall(
    device: DeviceRef,
    call: ServiceCall,
    by?: string,
  ): Promise<{ action: Action; joined: boolean }> {
    return this.deps.processing.exclusive(async () => {
      const { store } = this.deps
      const now = this.deps.now()
      const info = await this.info(device)
      const calendar = info.calendar ?? DEFAULT_SITE_CALENDAR
      const stopped = call.stopped ?? false
      const severity = stopped ? ('critical' as const) : ('warning' as const)
      const terms = this.slaTerms()
      const alternatives = stopped ? { alternatives: await this.alternatives(device, now) } : {}
      const [open] = await store.openTickets(device.deviceId)
      if (open) {
        const joined = await store.updateTicket(
          open.id,
          (ticket) => ({
            ticket: joinTicket(ticket, {
              severity,
              onSiteDue: addWorkingHours(calendar, now, terms.onSiteHours),
              call: { at: now, ...(by === undefined ? {} : { by }), description: call.description, stopped },
            }),
            details: alternatives,
          }),
          now,
        )
        if (joined && 'action' in joined) return { action: joined.action, joined: true }
      }
      const id = randomUUID()
      const candidate: ActionCandidate = {
        rule: SERVICE_REQUEST_RULE,
        type: SERVICE_REQUEST,
        deviceId: device.deviceId,
        siteId: device.siteId,
        subject: `request:${id.slice(0, 8)}`,
        episode: `r${now}`,
        details: {
          description: call.description,
          stopped,
          ...(by === undefined ? {} : { requestedBy: by }),
          ...actionIdentity(info),
          ...alternatives,
        },
        at: now,
        ticket: openTicket(calendar, now, severity, contractOf(info), terms),
      }
      const action = await store.openAction(candidate, now)
      if (!action) throw new Error(`service request ${candidate.subject} exists already`)
      return { action, joined: false }
    })
  }

  /** A person's order: refused with the reason, or the order made. */
  async order(device: DeviceRef, order: OrderRequest, by?: string): Promise<{ action: Action } | Refused> {
    return this.deps.processing.exclusive(async () => {
      const { store } = this.deps
      const now = this.deps.now()
      const info = await this.info(device)
      const state = this.deps.processing.stateOf(device.deviceId)
      const part = this.part(device, order, info, state)
      if ('refused' in part) return part
      const type = ORDER_TYPES[order.item]
      const unresolved = (await store.unresolvedActions([device.deviceId])).get(device.deviceId) ?? []
      const pending = unresolved.find(
        (a) => a.type === type && a.subject === part.subject && !isExtraEpisode(a.episode),
      )
      if (pending && !order.extra)
        return {
          refused: `${part.what} of ${device.deviceId} has an open order already (action ${pending.id}, made ${new Date(pending.createdAt).toISOString()}): send "extra": true to order one more for the shelf`,
        }
      const silent = unresolved.some((a) => a.type === 'missed-reading')
      const monitored = this.deps.monitored(device.deviceId) && state !== null && !silent && part.reported
      const calendar = info.calendar ?? DEFAULT_SITE_CALENDAR
      const action = await store.openAction(
        {
          rule: ORDER_RULE,
          type,
          deviceId: device.deviceId,
          siteId: device.siteId,
          subject: part.subject,
          episode: orderEpisode(part.episode, order.extra ?? false, randomUUID().slice(0, 8)),
          details: {
            ...(order.color === undefined ? {} : { color: order.color }),
            ...(info.model === undefined ? {} : { model: info.model }),
            quantity: order.quantity,
            reason: order.reason,
            extra: order.extra ?? false,
            monitored,
            ...(by === undefined ? {} : { requestedBy: by }),
            ...actionIdentity(info),
            expectedDelivery: new Date(expectedDeliveryAt(calendar, now, this.leadTime(type))).toISOString(),
            delivery: orderedDelivery(now),
          },
          at: now,
        },
        now,
      )
      if (!action) throw new Error(`an order for ${part.subject} exists already`)
      return { action }
    })
  }

  /**
   * Cancels an order not yet shipped, or a service call not yet worked on. `own`: the account may
   * cancel only what it asked for itself (a site's user).
   */
  async cancel(id: string, by: string | undefined, reason: string | undefined, ownOnly: boolean) {
    return this.deps.processing.exclusive(() =>
      this.deps.store.cancel(id, (action) => cancelRefusal(action, ownOnly ? (by ?? null) : undefined), {
        at: this.deps.now(),
        ...(by === undefined ? {} : { by }),
        ...(reason === undefined ? {} : { reason }),
      }),
    )
  }

  private async info(device: DeviceRef): Promise<DeviceInfo> {
    return this.deps.describe(await this.deps.store.birth(device.deviceId), device.deviceId, device.siteId)
  }

  /** The subject and episode of the part ordered, or why it cannot be ordered for this device. */
  private part(
    device: DeviceRef,
    order: OrderRequest,
    info: DeviceInfo,
    state: DeviceState | null,
  ): { subject: string; episode: string; what: string; reported: boolean } | Refused {
    if (order.item === 'waste-box') {
      if (order.color !== undefined) return { refused: 'body/color: a waste box has no colour' }
      if (info.tonerBottleIsWasteBox)
        return { refused: `${device.deviceId}'s toner bottle is its waste box: order toner instead` }
      return {
        subject: subjectKey('wasteBox'),
        episode: state?.wasteBox?.box ?? UNREPORTED,
        what: 'the waste box',
        reported: state?.wasteBox !== undefined,
      }
    }
    const color = order.color
    if (color === undefined) return { refused: 'body/color: a toner order names its colour' }
    const known = new Set(Object.keys(state?.toner ?? {}))
    // The catalogue's profile of the model knows its colours when the device never said them.
    if (info.profile === 'model') for (const c of Object.keys(info.yields ?? {})) known.add(c)
    if (known.size > 0 && !known.has(color))
      return {
        refused: `body/color: ${device.deviceId} has no ${color} toner (its toners: ${[...known].sort().join(', ')})`,
      }
    const toner = state && Object.hasOwn(state.toner, color) ? state.toner[color] : undefined
    return {
      subject: subjectKey('toner', color),
      episode: toner?.cartridge ?? UNREPORTED,
      what: `the ${color} toner`,
      reported: toner !== undefined,
    }
  }

  /** The SLA of the fault rule (`critical-fault`, or another that opens `fault` tickets). */
  private slaTerms(): SlaTerms {
    const rules = this.deps.rules().filter((r) => r.event.type === 'fault' && r.ticket)
    const rule = rules.find((r) => r.name === 'critical-fault') ?? rules[0]
    return { ...DEFAULT_SLA_TERMS, ...rule?.ticket }
  }

  /** The lead time of the rule that orders this type, if one does. */
  private leadTime(type: string) {
    return this.deps.rules().find((r) => r.event.type === type && r.delivery)?.delivery ?? {}
  }

  private alternatives(device: DeviceRef, now: number): Promise<Alternative[]> {
    const { processing, store } = this.deps
    const describe = async (deviceId: string, siteId: string) =>
      this.deps.describe(await store.birth(deviceId), deviceId, siteId)
    const target = { ...device, state: processing.stateOf(device.deviceId) }
    return somewhereElse(target, processing.statesOfSite(device.siteId), describe, now)
  }
}

/** The episode of a part the device never reported: its first report ends the order. */
const UNREPORTED = 'unreported'

/**
 * Why an action may not be cancelled, or null. `own`: the account that asks, when it may cancel
 * only what it asked for (undefined: it may cancel any).
 */
export function cancelRefusal(action: Action, own: string | null | undefined): string | null {
  if (action.status === 'resolved')
    return action.details.resolution === 'cancelled'
      ? 'the action is cancelled already'
      : 'the action is resolved: there is nothing to cancel'
  if (own !== undefined && action.details.requestedBy !== own)
    return 'a site user may cancel only the service calls and orders it opened'
  const delivery = deliveryOf(action.details)
  if (delivery) {
    if (delivery.step === 'ordered') return null
    const shipped = delivery.shipped
    return `the order was shipped${shipped ? ` on ${shipped.at} (${shipped.carrier} ${shipped.trackingNumber})` : ''}: it can no longer be cancelled`
  }
  if (action.type === SERVICE_REQUEST) {
    const ticket = action.details.ticket as { events?: { type: string; at: string }[] } | undefined
    const worked = ticket?.events?.[0]
    return worked
      ? `support has worked on the call (${worked.type} at ${worked.at}): it can no longer be cancelled`
      : null
  }
  return `a ${action.type} action cannot be cancelled: only orders and service calls can`
}
