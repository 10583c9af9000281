/**
 * The customer portal's model: customers (owning sites), device groups, the monthly print-volume
 * report by device, group, site or customer (JSON or CSV), and a device's history of tickets and
 * orders.
 */
import { type Static, Type } from '@sinclair/typebox'
import { ROLES_OF } from '../access/http.ts'
import { EVERYTHING, type Scope } from '../access/permissions.ts'
import { type Action, type BillingView, Customer, DeviceGroup, Id, Site } from '../contract/schemas.ts'
import { badRequest, notFound } from '../errors.ts'
import type { DeviceRecord } from '../store/store.ts'
import type { App, AppDeps } from './app.ts'
import { deviceBilling } from './billing-view.ts'

const CustomerParams = Type.Object({ customerId: Id })
const GroupParams = Type.Object({ groupId: Id })
const GroupDeviceParams = Type.Object({ groupId: Id, deviceId: Id })

const BY = ['device', 'group', 'site', 'customer'] as const
type By = (typeof BY)[number]

const Pages = Type.Object({ total: Type.Integer(), mono: Type.Integer(), color: Type.Integer() })

/** One line of the print-volume report: the pages of one device, group, site or customer. */
export const PrintVolumeRow = Type.Object({
  /** The device, group, site or customer ID; null for the devices of no group, or sites of no customer. */
  key: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  pages: Pages,
  /** True when any of its devices' pages are an estimate from the toner delivered (no counters). */
  estimated: Type.Boolean(),
  devices: Type.Integer(),
  /** Devices whose pages are estimated, and devices of which neither counters nor toner tell. */
  estimatedDevices: Type.Integer(),
  unknownDevices: Type.Integer(),
})
export type PrintVolumeRow = Static<typeof PrintVolumeRow>

export const PrintVolumeReport = Type.Object({
  period: Type.String(),
  by: Type.Unsafe<By>({ type: 'string', enum: [...BY] }),
  rows: Type.Array(PrintVolumeRow),
  total: Pages,
  estimated: Type.Boolean(),
})
export type PrintVolumeReport = Static<typeof PrintVolumeReport>

const HistoryItem = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: Type.String(),
  rule: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
})

export const DeviceHistory = Type.Object({
  deviceId: Id,
  /** Service tickets, newest first, each with its SLA clocks (`details.ticket`). */
  tickets: Type.Array(Type.Composite([HistoryItem, Type.Object({ ticket: Type.Unknown() })])),
  /** Orders (toner, waste boxes), newest first, with their delivery steps where known (`details.delivery`). */
  orders: Type.Array(
    Type.Composite([HistoryItem, Type.Object({ delivery: Type.Union([Type.Unknown(), Type.Null()]) })]),
  ),
})

/** Order actions: the contract's and the API's, and any action with delivery steps. */
const ORDER_TYPES = new Set(['reorder', 'waste-box', 'order'])

const CSV_COLUMNS = [
  'by',
  'key',
  'name',
  'total',
  'mono',
  'color',
  'estimated',
  'devices',
  'estimatedDevices',
  'unknownDevices',
] as const

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function printVolumeCsv(report: PrintVolumeReport): string {
  const lines = [['period', ...CSV_COLUMNS].join(',')]
  for (const r of report.rows)
    lines.push(
      [
        report.period,
        report.by,
        r.key,
        r.name,
        r.pages.total,
        r.pages.mono,
        r.pages.color,
        r.estimated,
        r.devices,
        r.estimatedDevices,
        r.unknownDevices,
      ]
        .map(csvCell)
        .join(','),
    )
  return `${lines.join('\r\n')}\r\n`
}

export const portalRoutes = (deps: AppDeps) => async (app: App) => {
  const inv = deps.inventory

  app.get(
    '/customers',
    {
      config: { roles: ROLES_OF.staff },
      schema: { response: { 200: Type.Object({ items: Type.Array(Customer) }) } },
    },
    async () => ({
      items: inv.allCustomers(),
    }),
  )

  const knownCustomer = (customerId: string) => {
    const c = inv.customer(customerId)
    if (!c) throw notFound(`customer ${customerId}`)
    return c
  }

  app.get(
    '/customers/:customerId',
    {
      config: { roles: ROLES_OF.staff },
      schema: {
        params: CustomerParams,
        response: { 200: Type.Composite([Customer, Type.Object({ sites: Type.Array(Site) })]) },
      },
    },
    async (request) => {
      const c = knownCustomer(request.params.customerId)
      return { ...c, sites: inv.sitesOf(c.customerId) }
    },
  )

  app.put(
    '/customers/:customerId',
    {
      config: { roles: ROLES_OF.staff },
      schema: {
        params: CustomerParams,
        body: Type.Omit(Customer, ['customerId']),
        response: { 200: Customer },
      },
    },
    async (request) => {
      const customer = { ...request.body, customerId: request.params.customerId }
      await inv.putCustomer(customer)
      return customer
    },
  )

  app.delete(
    '/customers/:customerId',
    { config: { roles: ROLES_OF.staff }, schema: { params: CustomerParams } },
    async (request, reply) => {
      knownCustomer(request.params.customerId)
      await inv.deleteCustomer(request.params.customerId)
      return reply.status(204).send()
    },
  )

  app.get(
    '/groups',
    {
      config: { roles: ROLES_OF.staff },
      schema: { response: { 200: Type.Object({ items: Type.Array(DeviceGroup) }) } },
    },
    async () => ({
      items: inv.allGroups(),
    }),
  )

  const knownGroup = (groupId: string) => {
    const g = inv.group(groupId)
    if (!g) throw notFound(`group ${groupId}`)
    return g
  }

  app.get(
    '/groups/:groupId',
    { config: { roles: ROLES_OF.staff }, schema: { params: GroupParams, response: { 200: DeviceGroup } } },
    async (request) => knownGroup(request.params.groupId),
  )

  app.put(
    '/groups/:groupId',
    {
      config: { roles: ROLES_OF.staff },
      schema: {
        params: GroupParams,
        body: Type.Omit(DeviceGroup, ['groupId', 'devices']),
        response: { 200: DeviceGroup },
      },
    },
    async (request) => {
      // Renaming a group keeps its devices; they are added and removed one by one.
      const group = {
        ...request.body,
        groupId: request.params.groupId,
        devices: inv.group(request.params.groupId)?.devices ?? [],
      }
      await inv.putGroup(group)
      return group
    },
  )

  app.delete(
    '/groups/:groupId',
    { config: { roles: ROLES_OF.staff }, schema: { params: GroupParams } },
    async (request, reply) => {
      knownGroup(request.params.groupId)
      await inv.deleteGroup(request.params.groupId)
      return reply.status(204).send()
    },
  )

  /** A device the service heard from or the inventory lists; 404 otherwise. */
  const knownDevice = async (deviceId: string, scope: Scope = EVERYTHING): Promise<DeviceRecord> => {
    const heard = await deps.store.device(deviceId, scope)
    if (heard) return heard
    const listed = inv.deviceInScope(deviceId, scope)
    if (!listed) throw notFound(`device ${deviceId}`)
    return { deviceId, siteId: listed.siteId, birth: {}, state: null }
  }

  app.put(
    '/groups/:groupId/devices/:deviceId',
    {
      config: { roles: ROLES_OF.staff },
      schema: { params: GroupDeviceParams, response: { 200: DeviceGroup } },
    },
    async (request) => {
      const { groupId, deviceId } = request.params
      const group = knownGroup(groupId)
      const device = await knownDevice(deviceId)
      if (group.customerId !== undefined) {
        const siteId = inv.device(deviceId)?.siteId ?? device.siteId
        if (inv.site(siteId)?.customer !== group.customerId)
          throw badRequest(
            `device ${deviceId} is at site ${siteId}, not a site of customer ${group.customerId}`,
          )
      }
      if (group.devices.includes(deviceId)) return group
      const next = { ...group, devices: [...group.devices, deviceId] }
      await inv.putGroup(next)
      return next
    },
  )

  app.delete(
    '/groups/:groupId/devices/:deviceId',
    {
      config: { roles: ROLES_OF.staff },
      schema: { params: GroupDeviceParams, response: { 200: DeviceGroup } },
    },
    async (request) => {
      const { groupId, deviceId } = request.params
      const group = knownGroup(groupId)
      if (!group.devices.includes(deviceId)) throw notFound(`device ${deviceId} in group ${groupId}`)
      const next = { ...group, devices: group.devices.filter((d) => d !== deviceId) }
      await inv.putGroup(next)
      return next
    },
  )

  app.get(
    '/reports/print-volume',
    {
      config: { roles: ROLES_OF.read },
      schema: {
        querystring: Type.Object(
          {
            period: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'the month, YYYY-MM' }),
            by: Type.Unsafe<By>({ type: 'string', enum: [...BY], default: 'device' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: PrintVolumeReport },
      },
    },
    async (request, reply) => {
      const report = await printVolume(deps, request.query.period, request.query.by, request.scope)
      if (/\btext\/csv\b/.test(request.headers.accept ?? ''))
        // The CSV is sent as it is: the JSON schema of the answer is for the JSON.
        return reply.type('text/csv; charset=utf-8').send(printVolumeCsv(report) as never)
      return report
    },
  )

  app.get(
    '/devices/:deviceId/history',
    {
      config: { roles: ROLES_OF.read },
      schema: { params: Type.Object({ deviceId: Id }), response: { 200: DeviceHistory } },
    },
    async (request) => {
      const { deviceId } = request.params
      await knownDevice(deviceId, request.scope)
      const all = await deps.store.actions({ deviceId, limit: Number.MAX_SAFE_INTEGER, scope: request.scope })
      const item = (a: Action) => ({
        id: a.id,
        type: a.type,
        status: a.status,
        rule: a.rule,
        createdAt: a.createdAt,
        updatedAt: a.updatedAt,
        details: a.details,
      })
      return {
        deviceId,
        tickets: all
          .filter((a) => typeof a.details.ticket === 'object' && a.details.ticket !== null)
          .map((a) => ({ ...item(a), ticket: a.details.ticket })),
        orders: all
          .filter((a) => ORDER_TYPES.has(a.type) || a.details.delivery !== undefined)
          .map((a) => ({ ...item(a), delivery: a.details.delivery ?? null })),
      }
    },
  )
}

/**
 * The pages of every device in the month that the scope lets the account see (a customer's own),
 * added up by what `by` says.
 */
export async function printVolume(
  deps: AppDeps,
  period: string,
  by: By,
  scope: Scope = EVERYTHING,
): Promise<PrintVolumeReport> {
  const inv = deps.inventory
  const records = new Map<string, DeviceRecord>()
  for (const d of await deps.store.devices(scope)) records.set(d.deviceId, d)
  for (const d of inv.devicesInScope(scope))
    if (!records.has(d.deviceId))
      records.set(d.deviceId, { deviceId: d.deviceId, siteId: d.siteId, birth: {}, state: null })
  const billed: { deviceId: string; siteId: string; view: BillingView }[] = []
  for (const d of [...records.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId))) {
    const view = await deviceBilling(deps, d.deviceId, d, period)
    billed.push({ deviceId: d.deviceId, siteId: inv.device(d.deviceId)?.siteId ?? d.siteId, view })
  }
  const rows = new Map<string | null, PrintVolumeRow>()
  const add = (key: string | null, name: string | null, view: BillingView) => {
    let row = rows.get(key)
    if (!row) {
      row = {
        key,
        name,
        pages: { total: 0, mono: 0, color: 0 },
        estimated: false,
        devices: 0,
        estimatedDevices: 0,
        unknownDevices: 0,
      }
      rows.set(key, row)
    }
    row.devices++
    if (view.pages) {
      row.pages.total += view.pages.total
      row.pages.mono += view.pages.mono ?? 0
      row.pages.color += view.pages.color ?? 0
    } else row.unknownDevices++
    if (view.estimated) {
      row.estimated = true
      row.estimatedDevices++
    }
  }
  for (const { deviceId, siteId, view } of billed) {
    const site = inv.site(siteId)
    if (by === 'device') add(deviceId, inv.device(deviceId)?.label ?? null, view)
    else if (by === 'site') add(siteId, site?.name ?? null, view)
    else if (by === 'customer') {
      const customer = site?.customer ?? null
      add(customer, customer === null ? null : (inv.customer(customer)?.name ?? null), view)
    } else {
      // A device counts in each of its groups; the devices of none under a null key.
      const groups = inv.groupsOf(deviceId)
      if (groups.length === 0) add(null, null, view)
      for (const g of groups) add(g.groupId, g.name, view)
    }
  }
  const list = [...rows.values()].sort((a, b) => (a.key ?? '\uffff').localeCompare(b.key ?? '\uffff'))
  // The total counts each device once, whatever its groups.
  const total = { total: 0, mono: 0, color: 0 }
  for (const { view } of billed) {
    total.total += view.pages?.total ?? 0
    total.mono += view.pages?.mono ?? 0
    total.color += view.pages?.color ?? 0
  }
  return { period, by, rows: list, total, estimated: billed.some((b) => b.view.estimated) }
}
