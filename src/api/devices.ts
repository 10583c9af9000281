import { Type } from '@sinclair/typebox'
import { ROLES_OF } from '../access/http.ts'
import type { Scope } from '../access/permissions.ts'
import {
  BillingView,
  Counters,
  DeviceInventory,
  DeviceView,
  Id,
  StoredReading,
  Timestamp,
} from '../contract/schemas.ts'
import { lastEndedPeriod, pagesFromCounters, pagesFromToner, parsePeriod } from '../domain/billing.ts'
import { toEpochMs, toWire } from '../domain/reading.ts'
import { badRequest, notFound } from '../errors.ts'
import type { DeviceRecord } from '../store/store.ts'
import type { App, AppDeps } from './app.ts'

/** A device as the API shows it: its birth message, then the inventory (which wins), then its state. */
export function deviceView(d: DeviceRecord, inv?: DeviceInventory): DeviceView {
  const s = d.state
  return {
    deviceId: d.deviceId,
    siteId: d.siteId,
    ...d.birth,
    ...inv,
    lastReadingAt: s ? new Date(s.lastTs).toISOString() : null,
    status: s?.status ?? null,
    toner: Object.fromEntries(Object.entries(s?.toner ?? {}).map(([color, t]) => [color, t.level])),
    wasteBox: s?.wasteBox?.report ?? null,
    counters: s?.counters ?? null,
    errors: Object.values(s?.errors ?? {}).map((e) => ({ ...e, since: new Date(e.since).toISOString() })),
  }
}

const Params = Type.Object({ deviceId: Id })
const DAY = 86_400_000

export const deviceRoutes = (deps: AppDeps) => async (app: App) => {
  /** Devices heard from, and devices of the inventory not heard from yet. */
  const view = (d: DeviceRecord) => deviceView(d, deps.inventory.device(d.deviceId))
  const unheard = (deviceId: string, scope: Scope): DeviceRecord | null => {
    const inv = deps.inventory.deviceInScope(deviceId, scope)
    return inv ? { deviceId, siteId: inv.siteId, birth: {}, state: null } : null
  }

  app.get(
    '/devices',
    {
      config: { roles: ROLES_OF.read },
      schema: { response: { 200: Type.Object({ items: Type.Array(DeviceView) }) } },
    },
    async (request) => {
      const heard = await deps.store.devices(request.scope)
      const known = new Set(heard.map((d) => d.deviceId))
      const others = deps.inventory
        .devicesInScope(request.scope)
        .filter((d) => !known.has(d.deviceId))
        .map((d) => unheard(d.deviceId, request.scope))
        .filter((d): d is DeviceRecord => d !== null)
      const all = [...heard, ...others].sort(
        (a, b) => a.siteId.localeCompare(b.siteId) || a.deviceId.localeCompare(b.deviceId),
      )
      return { items: all.map(view) }
    },
  )

  app.get(
    '/devices/:deviceId',
    { config: { roles: ROLES_OF.read }, schema: { params: Params, response: { 200: DeviceView } } },
    async (request) => {
      const { deviceId } = request.params
      const device = (await deps.store.device(deviceId, request.scope)) ?? unheard(deviceId, request.scope)
      if (!device) throw notFound(`device ${deviceId}`)
      return view(device)
    },
  )

  // A meter reading typed in by the site (when a device sends no counters): it counts as a reading.
  app.post(
    '/devices/:deviceId/meter-readings',
    {
      config: { roles: ROLES_OF.work },
      schema: {
        params: Params,
        body: Type.Object({
          ts: Timestamp,
          counters: Counters,
          seq: Type.Optional(Type.Integer({ minimum: 0 })),
        }),
        response: { 201: StoredReading },
      },
    },
    async (request, reply) => {
      const { deviceId } = request.params
      const siteId =
        deps.inventory.deviceInScope(deviceId, request.scope)?.siteId ??
        (await deps.store.device(deviceId, request.scope))?.siteId
      if (siteId === undefined) throw notFound(`device ${deviceId}`)
      const refused = await deps.acceptReading(siteId, deviceId, request.body)
      if (refused) throw badRequest(`${refused.reason}: ${refused.detail}`)
      const ts = toEpochMs(request.body.ts)
      return reply.status(201).send(toWire({ deviceId, siteId, ts, counters: request.body.counters }))
    },
  )

  // What to bill for a month: pages from the counters, or an estimate from the toner delivered.
  app.get(
    '/devices/:deviceId/billing',
    {
      config: { roles: ROLES_OF.read },
      schema: {
        params: Params,
        querystring: Type.Object({ period: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}$' })) }),
        response: { 200: BillingView },
      },
    },
    async (request) => {
      const { deviceId } = request.params
      const device = (await deps.store.device(deviceId, request.scope)) ?? unheard(deviceId, request.scope)
      if (!device) throw notFound(`device ${deviceId}`)
      const raw = request.query.period
      const period = raw === undefined ? lastEndedPeriod(deps.clock.now()) : parsePeriod(raw)
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
      const cartridges: Record<string, number> = {}
      for (const o of orders) {
        const at = Date.parse(o.createdAt)
        const color = o.details.color
        if (at >= period.start && at < period.end && typeof color === 'string')
          cartridges[color] = (cartridges[color] ?? 0) + 1
      }
      const yields = deps.inventory.device(deviceId)?.yields ?? {}
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
    },
  )

  app.put(
    '/devices/:deviceId',
    {
      config: { roles: ROLES_OF.staff },
      schema: {
        params: Params,
        body: Type.Omit(DeviceInventory, ['deviceId']),
        response: { 200: DeviceView },
      },
    },
    async (request) => {
      const { deviceId } = request.params
      await deps.inventory.putDevice({ ...request.body, deviceId })
      return view((await deps.store.device(deviceId)) ?? (unheard(deviceId, request.scope) as DeviceRecord))
    },
  )

  app.get(
    '/devices/:deviceId/readings',
    {
      config: { roles: ROLES_OF.read },
      schema: {
        params: Params,
        querystring: Type.Object(
          {
            from: Type.Optional(Timestamp),
            to: Type.Optional(Timestamp),
            limit: Type.Optional(
              Type.Integer({ minimum: 1, description: 'at most this many; all when absent' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(StoredReading) }) },
      },
    },
    async (request) => {
      const { deviceId } = request.params
      const { from, to, limit = Number.MAX_SAFE_INTEGER } = request.query
      const range = {
        from: from === undefined ? 0 : toEpochMs(from),
        to: to === undefined ? Number.MAX_SAFE_INTEGER : toEpochMs(to),
        limit,
      }
      if (!Number.isFinite(range.from) || !Number.isFinite(range.to))
        throw badRequest('from and to must be dates')
      if (range.from > range.to) throw badRequest(`from (${from}) is after to (${to})`)
      if (
        !(await deps.store.device(deviceId, request.scope)) &&
        !deps.inventory.deviceInScope(deviceId, request.scope)
      )
        throw notFound(`device ${deviceId}`)
      return { items: (await deps.timeseries.readings(deviceId, range)).map(toWire) }
    },
  )
}
