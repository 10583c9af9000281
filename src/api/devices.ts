import { Type } from '@sinclair/typebox'
import { DeviceView, Id, StoredReading, Timestamp } from '../contract/schemas.ts'
import { toEpochMs, toWire } from '../domain/reading.ts'
import { badRequest, notFound } from '../errors.ts'
import type { DeviceRecord } from '../store/store.ts'
import type { App, AppDeps } from './app.ts'

export function deviceView(d: DeviceRecord): DeviceView {
  const s = d.state
  return {
    deviceId: d.deviceId,
    siteId: d.siteId,
    ...d.birth,
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
  app.get(
    '/devices',
    { schema: { response: { 200: Type.Object({ items: Type.Array(DeviceView) }) } } },
    async () => ({
      items: (await deps.store.devices()).map(deviceView),
    }),
  )

  app.get(
    '/devices/:deviceId',
    { schema: { params: Params, response: { 200: DeviceView } } },
    async (request) => {
      const device = await deps.store.device(request.params.deviceId)
      if (!device) throw notFound(`device ${request.params.deviceId}`)
      return deviceView(device)
    },
  )

  app.get(
    '/devices/:deviceId/readings',
    {
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
      if (!(await deps.store.device(deviceId))) throw notFound(`device ${deviceId}`)
      return { items: (await deps.timeseries.readings(deviceId, range)).map(toWire) }
    },
  )
}
