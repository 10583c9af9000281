/**
 * A device's pages in one billing month: from its page counters, or an estimate from the toner
 * delivered, marked as such. One computation for `GET /devices/{id}/billing` and the print-volume
 * report.
 */
import type { BillingView } from '../contract/schemas.ts'
import { lastEndedPeriod, pagesFromCounters, pagesFromToner, parsePeriod } from '../domain/billing.ts'
import { badRequest } from '../errors.ts'
import type { DeviceRecord } from '../store/store.ts'
import type { AppDeps } from './app.ts'

const DAY = 86_400_000

/** `raw`: the month asked for (YYYY-MM), in the site's zone; the last one ended when absent. */
export async function deviceBilling(
  deps: Pick<AppDeps, 'inventory' | 'store' | 'timeseries' | 'clock'>,
  deviceId: string,
  device: DeviceRecord,
  raw: string | undefined,
): Promise<BillingView> {
  // The month in the site's zone.
  const zone = deps.inventory.site(deps.inventory.device(deviceId)?.siteId ?? device.siteId)?.calendar?.zone
  const period = raw === undefined ? lastEndedPeriod(deps.clock.now(), zone) : parsePeriod(raw, zone)
  if (!period) throw badRequest(`querystring/period: ${raw} is not a month (YYYY-MM)`)
  const base = {
    deviceId,
    period: period.id,
    periodStart: new Date(period.start).toISOString(),
    periodEnd: new Date(period.end).toISOString(),
  }
  // Counters from up to a month before the period, for the reading the pages count from.
  const readings = await deps.timeseries.readings(deviceId, {
    from: period.start - 31 * DAY,
    to: period.end - 1,
    limit: Number.MAX_SAFE_INTEGER,
  })
  const measured = pagesFromCounters(
    readings.flatMap((r) => (r.counters ? [{ ts: r.ts, counters: r.counters }] : [])),
    period,
  )
  if (measured) {
    const wire = (p: typeof measured.from) => ({ ts: new Date(p.ts).toISOString(), counters: p.counters })
    return {
      ...base,
      source: 'counters' as const,
      estimated: false,
      pages: measured.pages,
      from: wire(measured.from),
      to: wire(measured.to),
      ...(measured.resets > 0
        ? {
            note: `the counter went back ${measured.resets} time(s) in the period (a reset): the pages between those readings are not counted`,
          }
        : {}),
    }
  }
  const orders = await deps.store.actions({ deviceId, type: 'reorder', limit: Number.MAX_SAFE_INTEGER })
  // Keyed by colour: no prototype behind it, whatever a stored action says its colour is.
  const cartridges = Object.create(null) as Record<string, number>
  for (const o of orders) {
    const at = Date.parse(o.createdAt)
    const color = o.details.color
    // A cancelled order was never delivered; a person's order may be for several cartridges.
    if (o.details.resolution === 'cancelled') continue
    const quantity = typeof o.details.quantity === 'number' ? o.details.quantity : 1
    if (at >= period.start && at < period.end && typeof color === 'string')
      cartridges[color] = (cartridges[color] ?? 0) + quantity
  }
  // The yields of the model in the catalogue, under the inventory's.
  const known = await deps.store.device(deviceId)
  const yields = deps.inventory.describe(known?.birth ?? {}, deviceId, known?.siteId ?? '').yields ?? {}
  const { pages, withoutYield } = pagesFromToner(cartridges, yields)
  if (!pages) {
    return {
      ...base,
      source: 'none' as const,
      estimated: false,
      pages: null,
      cartridges,
      note:
        Object.keys(cartridges).length === 0
          ? 'no page counters in the period, and no cartridge ordered in it to estimate from'
          : 'no page counters in the period, and no yield in the inventory for the cartridges ordered',
    }
  }
  return {
    ...base,
    source: 'toner-delivered' as const,
    estimated: true,
    pages,
    cartridges,
    note:
      'estimated from the cartridges ordered in the period and their yields: no page counters tell' +
      (withoutYield.length > 0 ? `; without a yield, not counted: ${withoutYield.join(', ')}` : ''),
  }
}
