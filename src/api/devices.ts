import { Type } from '@sinclair/typebox'
import { ROLES_OF } from '../access/http.ts'
import type { Scope } from '../access/permissions.ts'
import { profileOf } from '../catalogue/catalogue.ts'
import {
  BillingView,
  Counters,
  DeviceInventory,
  DeviceView,
  Id,
  Limit,
  StoredReading,
  Timestamp,
} from '../contract/schemas.ts'
import { isDeviceId } from '../contract/topics.ts'
import { toEpochMs, toWire } from '../domain/reading.ts'
import { badRequest, notFound } from '../errors.ts'
import type { DeviceRecord } from '../store/store.ts'
import type { App, AppDeps } from './app.ts'
import { deviceBilling } from './billing-view.ts'

/** A device as the API shows it: its birth message, then the inventory (which wins), then its state. */
export function deviceView(d: DeviceRecord, inv?: DeviceInventory): DeviceView {
  const s = d.state
  // The catalogue's profile of the vendor and model, under what the inventory says.
  const profile = profileOf(inv?.vendor ?? d.birth.vendor, inv?.model ?? d.birth.model)
  return {
    deviceId: d.deviceId,
    siteId: d.siteId,
    ...d.birth,
    ...(profile ? { wasteBoxShipsWithToner: profile.wasteBoxShipsWithToner } : {}),
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
      return deviceBilling(deps, deviceId, device, request.query.period)
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
      if (!isDeviceId(deviceId))
        throw badRequest(
          `params/deviceId: ${deviceId} is reserved (actions and gateways are never device IDs)`,
        )
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
            limit: Type.Optional(Limit),
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
