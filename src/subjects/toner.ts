/**
 * Each colour a device reports: one episode per cartridge, at each reading. Its facts forecast the
 * cartridge's end and the delivery of an order placed now, and follow its open order.
 */
import {
  DEFAULT_SITE_CALENDAR,
  deliveryDate,
  type SiteCalendar,
  workingDaysAfter,
  workingDaysSince,
} from '../domain/calendar.ts'
import { type DeviceState, pagesPerDay, subjectKey, type TonerState } from '../domain/device-state.ts'
import { daysToEmpty } from '../domain/forecast.ts'
import { ordersPart } from '../domain/ledger.ts'
import type { DeviceInfo, OpenAction } from '../rules/facts.ts'
import { DAY, type DeviceEpisodes, type DeviceInstances, HOUR } from './device-subject.ts'

export const tonerEpisodes: DeviceEpisodes = (state) =>
  Object.entries(state.toner).map(([color, t]) => [subjectKey('toner', color), t.cartridge] as const)

export const tonerInstances: DeviceInstances = ({ state, info, at, open, device }) =>
  Object.entries(state.toner).map(([color, t]) => {
    const key = subjectKey('toner', color)
    const order = openOrder(open, key, t.cartridge)
    return {
      kind: 'toner',
      key,
      episode: t.cartridge,
      facts: {
        device,
        toner: {
          color,
          level: t.level,
          cartridge: t.cartridge,
          installedAt: t.installedAt === undefined ? null : new Date(t.installedAt).toISOString(),
          installedNow: t.installedAt === at,
          replacedAtLevel: t.replacedAtLevel ?? null,
          bumps: t.bumps ?? 0,
          // Hours since this cartridge's `reorder` was made, while it is not resolved.
          orderedForHours: order ? Math.max(0, at - order.createdAt) / HOUR : null,
          ...forecast(t, color, state, info, at),
          ...orderFacts(order, info.calendar ?? DEFAULT_SITE_CALENDAR, at),
        },
      },
      // The model says which cartridge: a site's spare stock is counted by model and colour.
      details:
        info.model === undefined ? { color, level: t.level } : { color, level: t.level, model: info.model },
    }
  })

/** The cartridge's `reorder` not resolved yet, if any. */
function openOrder(open: readonly OpenAction[], subject: string, episode: string): OpenAction | undefined {
  return open.find((a) => a.type === 'reorder' && a.subject === subject && ordersPart(a.episode, episode))
}

/**
 * The open order of a cartridge as facts: when it is expected, its delivery's step, and the whole
 * working days (on the site's calendar) it is past its expected delivery while not delivered.
 */
function orderFacts(order: OpenAction | undefined, cal: SiteCalendar, at: number) {
  const expected = order?.expectedDelivery
  const step = order ? (order.deliveryStep ?? 'ordered') : null
  return {
    expectedDelivery: expected === undefined ? null : new Date(expected).toISOString(),
    deliveryStep: step,
    workingDaysOverdue:
      expected === undefined || step === 'delivered' ? null : overdueDays(cal, expected, at),
  }
}

/**
 * `workingDaysSince(cal, expected, at)`, from the ends of the working days after `expected`, kept
 * per calendar and order: every reading of a device with an open order asks, with a later `at`.
 */
const overdueEnds = new WeakMap<SiteCalendar, Map<number, number[]>>()
function overdueDays(cal: SiteCalendar, expected: number, at: number): number | null {
  if (at < expected) return null
  let byOrder = overdueEnds.get(cal)
  if (!byOrder) {
    byOrder = new Map()
    overdueEnds.set(cal, byOrder)
  }
  let ends = byOrder.get(expected)
  if (!ends) {
    if (byOrder.size > 10_000) byOrder.clear()
    ends = []
    byOrder.set(expected, ends)
  }
  while (ends.length < 31 && (ends.length === 0 || at >= (ends[ends.length - 1] as number)))
    ends.push(workingDaysAfter(cal, expected, ends.length + 1))
  let n = 0
  while (n < ends.length && at >= (ends[n] as number)) n++
  return n < ends.length ? n : workingDaysSince(cal, expected, at)
}

/**
 * Days until the cartridge is empty, days until an order placed now would arrive (2 working days
 * before noon, 3 after, on the site's calendar), and what is left between the two.
 */
function forecast(t: TonerState, color: string, state: DeviceState, info: DeviceInfo, at: number) {
  const empty = daysToEmpty(t, at, {
    pagesPerDay: pagesPerDay(state),
    yieldPages: info.yields && Object.hasOwn(info.yields, color) ? info.yields[color] : undefined,
  })
  const delivery = (deliveryDate(info.calendar ?? DEFAULT_SITE_CALENDAR, at) - at) / DAY
  const round = (n: number) => Math.round(n * 100) / 100
  return {
    daysToEmpty: empty === null ? null : round(empty),
    deliveryInDays: round(delivery),
    daysLeftAfterDelivery: empty === null ? null : round(empty - delivery),
  }
}
