/**
 * Every route × every role × a thing of the account's own customer and one of another customer,
 * from one table: 401 without a token, 403 for a role the route does not declare, 404 for another
 * customer's thing, absent from lists.
 */
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Role } from '../../src/access/accounts.ts'
import type { Action, Inventory } from '../../src/contract/schemas.ts'
import { type AccessService, startWithAccounts } from '../helpers/access.ts'
import { waitFor } from '../helpers/service-process.ts'

const INVENTORY: Inventory = {
  sites: [
    { siteId: 'milano', customer: 'acme', contact: 'm@acme.example' },
    { siteId: 'roma', customer: 'acme', contact: 'r@acme.example' },
    { siteId: 'paris', customer: 'globex', contact: 'p@globex.example' },
  ],
  devices: [
    { deviceId: 'MI-1', siteId: 'milano' },
    { deviceId: 'RM-1', siteId: 'roma' },
    { deviceId: 'PA-1', siteId: 'paris' },
  ],
  customers: [
    { customerId: 'acme', name: 'ACME' },
    { customerId: 'globex', name: 'Globex' },
  ],
  groups: [],
}

/** The account that speaks for each role; the customer ones are acme's. */
const AS: Record<Role, string> = {
  admin: 'admin',
  operator: 'operator',
  'customer-admin': 'acme-admin',
  'customer-user': 'acme-user',
  monitor: 'monitor',
  gateway: 'gw-milano',
}
const ROLES = Object.keys(AS) as Role[]

interface Target {
  device: string
  site: string
  action: string
  /** A customer-user account to manage. */
  account: string
}
type Side = 'own' | 'other'

interface Row {
  route: string
  /** The roles that may use it. */
  roles: readonly Role[]
  /** Whether the route is about one customer's thing (own and other differ). */
  scoped: boolean
  request: (
    t: Target,
    n: number,
  ) => { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: unknown }
  /** Made before each request (a throwaway account to remove). */
  prepare?: (s: AccessService, t: Target, n: number) => Promise<void>
}

const PEOPLE: Role[] = ['admin', 'operator', 'customer-admin', 'customer-user']
const MANAGE: Role[] = ['admin', 'operator', 'customer-admin']
const STAFF: Role[] = ['admin', 'operator']
const ACCOUNTS: Role[] = ['admin', 'customer-admin']

const TABLE: Row[] = [
  { route: 'GET /health', roles: ROLES, scoped: false, request: () => ({ method: 'GET', url: '/health' }) },
  { route: 'GET /stats', roles: STAFF, scoped: false, request: () => ({ method: 'GET', url: '/stats' }) },
  { route: 'GET /rules', roles: STAFF, scoped: false, request: () => ({ method: 'GET', url: '/rules' }) },
  {
    route: 'GET /devices',
    roles: PEOPLE,
    scoped: false,
    request: () => ({ method: 'GET', url: '/devices' }),
  },
  {
    route: 'GET /devices/:id',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({ method: 'GET', url: `/devices/${t.device}` }),
  },
  {
    route: 'GET /devices/:id/readings',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({ method: 'GET', url: `/devices/${t.device}/readings` }),
  },
  {
    route: 'GET /devices/:id/billing',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({ method: 'GET', url: `/devices/${t.device}/billing?period=2026-10` }),
  },
  {
    route: 'POST /devices/:id/meter-readings',
    roles: PEOPLE,
    scoped: true,
    request: (t, n) => ({
      method: 'POST',
      url: `/devices/${t.device}/meter-readings`,
      payload: {
        ts: new Date(Date.UTC(2026, 10, 1) + n * 60_000).toISOString(),
        counters: { total: 1000 + n },
      },
    }),
  },
  {
    route: 'PUT /devices/:id',
    roles: STAFF,
    scoped: true,
    request: (t) => ({ method: 'PUT', url: `/devices/${t.device}`, payload: { siteId: t.site } }),
  },
  {
    route: 'GET /actions',
    roles: PEOPLE,
    scoped: false,
    request: () => ({ method: 'GET', url: '/actions' }),
  },
  {
    route: 'GET /actions/:id',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({ method: 'GET', url: `/actions/${t.action}` }),
  },
  {
    route: 'POST /actions/:id/ack',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({ method: 'POST', url: `/actions/${t.action}/ack` }),
  },
  {
    route: 'POST /actions/:id/ticket',
    roles: MANAGE,
    scoped: true,
    request: (t) => ({
      method: 'POST',
      url: `/actions/${t.action}/ticket`,
      payload: { type: 'remote-support-called' },
    }),
  },
  {
    route: 'POST /devices/:id/service-requests',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({
      method: 'POST',
      url: `/devices/${t.device}/service-requests`,
      payload: { description: 'Paper jam in tray 2' },
    }),
  },
  {
    route: 'POST /devices/:id/orders',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({
      method: 'POST',
      url: `/devices/${t.device}/orders`,
      payload: { item: 'toner', color: 'black', quantity: 1, reason: 'for the shelf', extra: true },
    }),
  },
  {
    route: 'POST /actions/:id/cancel',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({ method: 'POST', url: `/actions/${t.action}/cancel`, payload: {} }),
  },
  {
    route: 'POST /actions/:id/resolve',
    roles: MANAGE,
    scoped: true,
    request: (t) => ({ method: 'POST', url: `/actions/${t.action}/resolve` }),
  },
  { route: 'GET /sites', roles: PEOPLE, scoped: false, request: () => ({ method: 'GET', url: '/sites' }) },
  {
    route: 'GET /sites/:id',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({ method: 'GET', url: `/sites/${t.site}` }),
  },
  {
    route: 'GET /sites/:id/stock',
    roles: PEOPLE,
    scoped: true,
    request: (t) => ({ method: 'GET', url: `/sites/${t.site}/stock` }),
  },
  {
    route: 'POST /sites/:id/stock-counts',
    roles: PEOPLE,
    scoped: true,
    request: (t, n) => ({
      method: 'POST',
      url: `/sites/${t.site}/stock-counts`,
      payload: {
        ts: new Date(Date.UTC(2026, 9, 1) + n * 60_000).toISOString(),
        items: [{ color: 'black', count: 2 }],
      },
    }),
  },
  {
    route: 'PUT /sites/:id',
    roles: STAFF,
    scoped: true,
    request: (t) => ({
      method: 'PUT',
      url: `/sites/${t.site}`,
      payload: INVENTORY.sites.map(({ siteId: _s, ...rest }) => rest)[t.site === 'milano' ? 0 : 2],
    }),
  },
  {
    route: 'GET /accounts',
    roles: ACCOUNTS,
    scoped: false,
    request: () => ({ method: 'GET', url: '/accounts' }),
  },
  {
    route: 'POST /accounts',
    roles: ACCOUNTS,
    scoped: false,
    request: (_t, n) => ({
      method: 'POST',
      url: '/accounts',
      payload: { name: `new-user-${n}`, role: 'customer-user', customer: 'acme' },
    }),
  },
  {
    route: 'POST /accounts/:name/rotate',
    roles: ACCOUNTS,
    scoped: true,
    request: (t) => ({ method: 'POST', url: `/accounts/${t.account}/rotate` }),
  },
  {
    route: 'PUT /accounts/:name/assignments',
    roles: ACCOUNTS,
    scoped: true,
    request: (t) => ({
      method: 'PUT',
      url: `/accounts/${t.account}/assignments`,
      payload: { devices: [t.device], groups: [] },
    }),
  },
  {
    route: 'DELETE /accounts/:name',
    roles: ACCOUNTS,
    scoped: true,
    prepare: async (s, t, n) => {
      await s.book.add({
        name: `${t.account}-tmp-${n}`,
        role: 'customer-user',
        customer: t.site === 'milano' ? 'acme' : 'globex',
      })
    },
    request: (t, n) => ({ method: 'DELETE', url: `/accounts/${t.account}-tmp-${n}` }),
  },
]

/** What each role may see of the other customer: admins and operators see everything. */
const seesEverything = (role: Role) => role === 'admin' || role === 'operator'

describe('the API, route by route and role by role', () => {
  let s: AccessService
  const targets = {} as Record<Side, Target>

  beforeAll(async () => {
    s = await startWithAccounts(
      [
        { name: 'admin', role: 'admin' },
        { name: 'operator', role: 'operator' },
        { name: 'acme-admin', role: 'customer-admin', customer: 'acme' },
        { name: 'acme-user', role: 'customer-user', customer: 'acme', devices: ['MI-1'] },
        { name: 'acme-extra', role: 'customer-user', customer: 'acme' },
        { name: 'globex-extra', role: 'customer-user', customer: 'globex' },
        { name: 'monitor', role: 'monitor' },
        { name: 'gw-milano', role: 'gateway', sites: ['milano'] },
      ],
      { inventory: INVENTORY },
    )
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.service.mqttPort}`, {
      username: 'admin',
      password: s.tokens.admin as string,
      reconnectPeriod: 0,
    })
    for (const [site, device] of [
      ['milano', 'MI-1'],
      ['paris', 'PA-1'],
    ])
      await client.publishAsync(
        `fleet/v1/${site}/${device}/telemetry`,
        JSON.stringify({ ts: '2026-11-20T08:00:00Z', toner: { black: 10 } }),
        { qos: 1 },
      )
    await client.endAsync()
    const actionOf = (device: string) =>
      waitFor(
        async () => {
          const r = await s.service.app.inject({
            url: `/actions?deviceId=${device}`,
            headers: s.bearer('admin'),
          })
          return (r.json() as { items: Action[] }).items[0]?.id
        },
        20_000,
        `an action of ${device}`,
      )
    targets.own = { device: 'MI-1', site: 'milano', action: await actionOf('MI-1'), account: 'acme-extra' }
    targets.other = { device: 'PA-1', site: 'paris', action: await actionOf('PA-1'), account: 'globex-extra' }
  })
  afterAll(async () => {
    await s?.stop()
  })

  let n = 0
  const send = async (row: Row, side: Side, headers: Record<string, string>) => {
    n++
    await row.prepare?.(s, targets[side], n)
    const { payload, method, url } = row.request(targets[side], n)
    return s.service.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    })
  }

  it.each(TABLE.filter((r) => r.route !== 'GET /health'))(
    'answers 401 to $route without a token or with a bad one',
    async (row) => {
      expect((await send(row, 'own', {})).statusCode).toBe(401)
      expect((await send(row, 'own', { authorization: 'Bearer pw_0123456789abcdef_nope' })).statusCode).toBe(
        401,
      )
    },
  )

  const cases = TABLE.flatMap((row) =>
    ROLES.flatMap((role) =>
      (['own', 'other'] as Side[]).map((side) => ({ route: row.route, row, role, side })),
    ),
  )
  it.each(cases)(
    'answers $route for a $role account about the $side customer as the table says',
    async ({ row, role, side }) => {
      const status = (await send(row, side, s.bearer(AS[role]))).statusCode
      const expected = !row.roles.includes(role)
        ? 403
        : row.scoped && side === 'other' && !seesEverything(role)
          ? 404
          : 'allowed'
      if (expected === 'allowed') expect([401, 403, 404]).not.toContain(status)
      else expect(status).toBe(expected)
    },
  )

  const lists = [
    {
      url: '/devices',
      ids: (b: unknown) => (b as { items: { deviceId: string }[] }).items.map((d) => d.deviceId),
    },
    { url: '/actions', ids: (b: unknown) => (b as { items: Action[] }).items.map((a) => a.deviceId) },
    { url: '/sites', ids: (b: unknown) => (b as { items: { siteId: string }[] }).items.map((x) => x.siteId) },
  ]
  it.each(PEOPLE.flatMap((role) => lists.map((l) => ({ role, ...l }))))(
    "leaves the other customer's things out of $url for a $role account",
    async ({ role, url, ids }) => {
      const r = await s.service.app.inject({ url, headers: s.bearer(AS[role]) })
      expect(r.statusCode).toBe(200)
      const got = ids(r.json())
      const other = url === '/sites' ? 'paris' : 'PA-1'
      if (seesEverything(role)) expect(got).toContain(other)
      else expect(got).not.toContain(other)
      expect(got).toContain(url === '/sites' ? 'milano' : 'MI-1')
    },
  )

  it("shows a customer-user only its assigned devices, not the rest of its customer's", async () => {
    const r = await s.service.app.inject({ url: '/devices', headers: s.bearer('acme-user') })
    expect((r.json() as { items: { deviceId: string }[] }).items.map((d) => d.deviceId)).toEqual(['MI-1'])
  })

  it("counts only its own customer's devices in a customer's print-volume report", async () => {
    const devicesIn = async (account: string) => {
      const r = await s.service.app.inject({
        url: '/reports/print-volume?period=2026-11&by=device',
        headers: s.bearer(account),
      })
      expect(r.statusCode).toBe(200)
      return (r.json() as { rows: { key: string }[] }).rows.map((row) => row.key)
    }
    expect(await devicesIn('acme-admin')).toEqual(['MI-1', 'RM-1'])
    expect(await devicesIn('acme-user')).toEqual(['MI-1'])
    expect(await devicesIn('operator')).toEqual(['MI-1', 'PA-1', 'RM-1'])
  })

  it("answers 404 for another customer's device history, and 200 for its own", async () => {
    const history = (device: string, account: string) =>
      s.service.app.inject({ url: `/devices/${device}/history`, headers: s.bearer(account) })
    expect((await history('PA-1', 'acme-admin')).statusCode).toBe(404)
    expect((await history('MI-1', 'acme-admin')).statusCode).toBe(200)
    expect((await history('PA-1', 'operator')).statusCode).toBe(200)
  })

  it('lists only its own customer-user accounts to a customer-admin', async () => {
    const r = await s.service.app.inject({ url: '/accounts', headers: s.bearer('acme-admin') })
    const names = (r.json() as { items: { name: string; customer?: string }[] }).items
    expect(names.length).toBeGreaterThan(0)
    expect(names.every((a) => a.customer === 'acme')).toBe(true)
  })

  it("records the account behind each status change in the action's history", async () => {
    // The table's first acknowledgement and resolution of each action were the admin's.
    for (const side of ['own', 'other'] as Side[]) {
      const made = await s.service.app.inject({
        url: `/actions/${targets[side].action}`,
        headers: s.bearer('admin'),
      })
      const history = (made.json() as Action).details.history as { by: string; status: string }[]
      expect(history.map(({ by, status }) => ({ by, status }))).toEqual([
        { by: 'admin', status: 'acknowledged' },
        { by: 'admin', status: 'resolved' },
      ])
    }
  })
})
