/**
 * An order's delivery, as a pure state machine beside its action's status: ordered, shipped (with
 * the carrier and tracking number), delivered, each step once and in that order, each with its
 * time. The status of the action (open, acknowledged, resolved) is the contract's and stays apart:
 * an order is resolved when its new cartridge or box is seen, whatever the carrier said.
 */
import { type Static, Type } from '@sinclair/typebox'
import { Timestamp } from '../contract/schemas.ts'
import { type LeadTime, LeadTimeSchema } from './calendar.ts'

export const DELIVERY_STEPS = ['ordered', 'shipped', 'delivered'] as const
export type DeliveryStep = (typeof DELIVERY_STEPS)[number]

/** What a rule file that orders says about its deliveries: the lead time, on the site's calendar. */
export const DeliveryTermsSchema = Type.Partial(LeadTimeSchema)
export type DeliveryTerms = Partial<LeadTime>

/** `details.delivery` of an order, times in ISO 8601. */
export interface Delivery {
  step: DeliveryStep
  ordered: { at: string }
  shipped?: { at: string; carrier: string; trackingNumber: string }
  delivered?: { at: string }
}

/** What an ERP reports: the body of `POST /actions/{id}/delivery`; `at` is now when absent. */
export const DeliveryReport = Type.Union([
  Type.Object(
    {
      step: Type.Literal('shipped'),
      carrier: Type.String({ minLength: 1, maxLength: 128 }),
      trackingNumber: Type.String({ minLength: 1, maxLength: 128 }),
      at: Type.Optional(Timestamp),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      step: Type.Literal('delivered'),
      at: Type.Optional(Timestamp),
    },
    { additionalProperties: false },
  ),
])
export type DeliveryReport = Static<typeof DeliveryReport>

export function orderedDelivery(orderedAt: number): Delivery {
  return { step: 'ordered', ordered: { at: new Date(orderedAt).toISOString() } }
}

export type DeliveryResult = { ok: true; delivery: Delivery } | { ok: false; reason: string }

/**
 * Records a step. Each step comes once and after the one before it: shipped after ordered,
 * delivered after shipped, never before the step it follows.
 */
export function recordDeliveryStep(delivery: Delivery, report: DeliveryReport, at: number): DeliveryResult {
  if (!Number.isFinite(at)) return { ok: false, reason: 'the step needs a real time' }
  const iso = new Date(at).toISOString()
  if (report.step === 'shipped') {
    if (delivery.step !== 'ordered')
      return { ok: false, reason: `the order is ${delivery.step} already: it cannot be shipped again` }
    if (at < Date.parse(delivery.ordered.at))
      return { ok: false, reason: `an order cannot ship before it was ordered (${delivery.ordered.at})` }
    return {
      ok: true,
      delivery: {
        ...delivery,
        step: 'shipped',
        shipped: { at: iso, carrier: report.carrier, trackingNumber: report.trackingNumber },
      },
    }
  }
  if (delivery.step === 'delivered') return { ok: false, reason: 'the order is delivered already' }
  if (delivery.step !== 'shipped' || !delivery.shipped)
    return {
      ok: false,
      reason: 'the order is not shipped yet: report shipped, with carrier and tracking number, first',
    }
  if (at < Date.parse(delivery.shipped.at))
    return { ok: false, reason: `an order cannot be delivered before it shipped (${delivery.shipped.at})` }
  return { ok: true, delivery: { ...delivery, step: 'delivered', delivered: { at: iso } } }
}

/** A stored `details.delivery`, when it is one. */
export function deliveryOf(details: Record<string, unknown>): Delivery | null {
  const d = details.delivery
  if (typeof d !== 'object' || d === null) return null
  const step = (d as { step?: unknown }).step
  return (DELIVERY_STEPS as readonly unknown[]).includes(step) ? (d as Delivery) : null
}
