/**
 * One action of each shipped type, with the details its rule gives it (rules/README.md), for
 * `npm run notify -- preview --type …` and for the test that renders every template.
 */
import type { Action } from '../contract/schemas.ts'

const base = {
  deviceId: 'SCM-004512',
  siteId: 'milano-hq',
  status: 'open' as const,
  createdAt: '2026-11-20T08:00:03.120Z',
  updatedAt: '2026-11-20T08:00:03.120Z',
}
const who = { addressee: 'm.rossi@example.com', label: 'SCM-004512', location: 'Piano 2, contabilità' }
const ticket = {
  stage: 'registered',
  severity: 'critical',
  registeredAt: '2026-11-20T08:00:03.120Z',
  dueDates: {
    remoteSupport: '2026-11-20T10:00:03.120Z',
    onSite: '2026-11-20T16:00:03.120Z',
    replacement: '2026-11-27T08:00:03.120Z',
  },
  breaches: [],
  events: [],
}

export const SAMPLE_ACTIONS: readonly Action[] = [
  {
    ...base,
    id: 'sample-reorder',
    type: 'reorder',
    rule: 'toner-reorder',
    details: { color: 'black', level: 19, model: 'TK-5240K', ...who },
  },
  {
    ...base,
    id: 'sample-waste-box',
    type: 'waste-box',
    rule: 'waste-box',
    details: { state: 'nearFull', ...who },
  },
  {
    ...base,
    id: 'sample-waste-box-advisory',
    type: 'waste-box-advisory',
    rule: 'waste-box-advisory',
    details: { fill: 92, ...who },
  },
  {
    ...base,
    id: 'sample-missed-reading',
    type: 'missed-reading',
    rule: 'missed-reading',
    details: { lastReadingAt: '2026-11-15T07:45:00.000Z', hoursSinceLastReading: 121, ...who },
  },
  {
    ...base,
    id: 'sample-fault',
    type: 'fault',
    rule: 'critical-fault',
    details: { code: 'C-2557', severity: 'critical', text: 'Fuser error', ticket, ...who },
  },
  {
    ...base,
    id: 'sample-toner-shake',
    type: 'toner-shake',
    rule: 'toner-shake',
    details: { color: 'cyan', level: 4, bumps: 2, ...who },
  },
  {
    ...base,
    id: 'sample-early-replacement',
    type: 'early-replacement',
    rule: 'early-replacement',
    details: { color: 'magenta', level: 97, thrownAway: 31, ...who },
  },
  {
    ...base,
    id: 'sample-delivery-overdue',
    type: 'delivery-overdue',
    rule: 'delivery-overdue',
    details: { color: 'black', level: 0, orderedForHours: 50, ...who },
  },
  {
    ...base,
    id: 'sample-meter-request',
    type: 'meter-request',
    rule: 'meter-request',
    details: { period: '2026-11', lastCounters: null, lastCountersAt: null, ...who },
  },
  {
    ...base,
    id: 'sample-replacement-device',
    type: 'replacement-device',
    rule: 'critical-fault',
    details: { code: 'C-2557', severity: 'critical', ...who },
  },
  {
    ...base,
    id: 'sample-order-request',
    type: 'reorder',
    rule: 'order-request',
    details: {
      color: 'cyan',
      quantity: 2,
      reason: 'Streaks on every colour page',
      extra: false,
      monitored: false,
      requestedBy: 'm.rossi',
      ...who,
    },
  },
  {
    ...base,
    id: 'sample-waste-box-order',
    type: 'waste-box',
    rule: 'order-request',
    details: { quantity: 1, reason: 'The panel says the box is full', requestedBy: 'm.rossi', ...who },
  },
  {
    ...base,
    id: 'sample-service-request',
    type: 'service-request',
    rule: 'service-request',
    details: { description: 'Paper jams in tray 2', stopped: true, requestedBy: 'm.rossi', ticket, ...who },
  },
  {
    ...base,
    deviceId: undefined as never,
    id: 'sample-stock-reconciliation',
    type: 'stock-reconciliation',
    rule: 'stock-reconciliation',
    details: {
      period: '2026-H2',
      lastCountedAt: null,
      expected: [{ model: 'TK-5240K', color: 'black', count: 2 }],
      addressee: who.addressee,
    },
  },
  {
    ...base,
    deviceId: undefined as never,
    id: 'sample-gateway-offline',
    type: 'gateway-offline',
    rule: 'gateway-offline',
    details: { gatewayId: 'gw-milano-1', addressee: who.addressee },
  },
].map((a) => {
  const { deviceId, ...rest } = a
  return (deviceId === undefined ? rest : a) as unknown as Action
})

/** What a change adds to a sample: a shipment's tracking, a breach of a clock. */
export function sampleChange(action: Action, change: string): Action {
  const later = '2026-11-21T09:30:00.000Z'
  const details = { ...action.details }
  if (change === 'shipped' || change === 'delivered') {
    details.delivery = {
      status: change,
      orderedAt: action.createdAt,
      shippedAt: '2026-11-20T15:00:00.000Z',
      carrier: 'BRT',
      trackingNumber: '0123456789',
      expectedDelivery: '2026-11-23T12:00:00.000Z',
      ...(change === 'delivered' ? { deliveredAt: later } : {}),
    }
  }
  if (change === 'sla-breach') {
    const t = (details.ticket ?? ticket) as typeof ticket
    details.ticket = { ...t, breaches: [{ clock: 'onSite', dueAt: t.dueDates.onSite, detectedAt: later }] }
  }
  const status =
    change === 'acknowledged' ? 'acknowledged' : change === 'resolved' ? 'resolved' : action.status
  return { ...action, status, updatedAt: later, details }
}
