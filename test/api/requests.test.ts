/**
 * Bad requests to the routes people use to ask (service calls, orders, cancelling), on the real
 * service with accounts: each answers 400 or 404 with the reason, and changes nothing.
 */
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action, Inventory } from '../../src/contract/schemas.ts'
import { type AccessService, startWithAccounts } from '../helpers/access.ts'
import { waitFor } from '../helpers/service-process.ts'

const INVENTORY: Inventory = {
  sites: [
    { siteId: 'milano', customer: 'acme', contact: 'm@acme.example' },
    { siteId: 'paris', customer: 'globex', contact: 'p@globex.example' },
  ],
  devices: [
    { deviceId: 'MI-COLOR', siteId: 'milano' },
    { deviceId: 'MI-MONO', siteId: 'milano' },
    { deviceId: 'MI-KYO', siteId: 'milano', vendor: 'Kyocera', model: 'ECOSYS M3145dn' },
    { deviceId: 'PA-1', siteId: 'paris' },
  ],
  customers: [
    { customerId: 'acme', name: 'ACME' },
    { customerId: 'globex', name: 'Globex' },
  ],
  groups: [],
}

describe('requests people make, refused with the reason', () => {
  let s: AccessService
  let reorder: Action

  beforeAll(async () => {
    s = await startWithAccounts(
      [
        { name: 'admin', role: 'admin' },
        { name: 'acme-admin', role: 'customer-admin', customer: 'acme' },
        { name: 'acme-user', role: 'customer-user', customer: 'acme', devices: ['MI-COLOR', 'MI-MONO'] },
        { name: 'acme-other', role: 'customer-user', customer: 'acme', devices: ['MI-COLOR'] },
      ],
      { inventory: INVENTORY },
    )
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.service.mqttPort}`, {
      username: 'admin',
      password: s.tokens.admin as string,
      reconnectPeriod: 0,
    })
    const ts = new Date().toISOString()
    for (const [site, device, toner] of [
      ['milano', 'MI-COLOR', { black: 10, cyan: 60, magenta: 60, yellow: 60 }],
      ['milano', 'MI-MONO', { black: 60 }],
      ['paris', 'PA-1', { black: 60 }],
    ] as const)
      await client.publishAsync(`fleet/v1/${site}/${device}/telemetry`, JSON.stringify({ ts, toner }), {
        qos: 1,
      })
    await client.endAsync()
    reorder = await waitFor(
      async () => (await list()).find((a) => a.type === 'reorder' && a.deviceId === 'MI-COLOR'),
      20_000,
      'the reorder of MI-COLOR',
    )
  })
  afterAll(async () => {
    await s?.stop()
  })

  const list = async () =>
    (
      (await s.service.app.inject({ url: '/actions', headers: s.bearer('admin') })).json() as {
        items: Action[]
      }
    ).items
  const post = (url: string, payload: object | undefined, as = 'acme-admin') =>
    s.service.app.inject({ method: 'POST', url, headers: s.bearer(as), ...(payload ? { payload } : {}) })

  const order = (over: Record<string, unknown> = {}) => ({
    item: 'toner',
    color: 'cyan',
    quantity: 1,
    reason: 'streaks',
    ...over,
  })

  const refusals: {
    name: string
    url: string
    body?: object
    as?: string
    status: number
    reason: RegExp
  }[] = [
    {
      name: 'a service call for an unknown device',
      url: '/devices/NOPE/service-requests',
      body: { description: 'jam' },
      status: 404,
      reason: /device NOPE/,
    },
    {
      name: "a service call for another customer's device",
      url: '/devices/PA-1/service-requests',
      body: { description: 'jam' },
      status: 404,
      reason: /device PA-1/,
    },
    {
      name: 'a service call without a description',
      url: '/devices/MI-COLOR/service-requests',
      body: { stopped: true },
      status: 400,
      reason: /description/,
    },
    {
      name: 'a service call with a field the contract does not have',
      url: '/devices/MI-COLOR/service-requests',
      body: { description: 'jam', urgent: true },
      status: 400,
      reason: /additional properties|urgent/,
    },
    {
      name: 'an order for an unknown device',
      url: '/devices/NOPE/orders',
      body: order(),
      status: 404,
      reason: /device NOPE/,
    },
    {
      name: "an order for another customer's device",
      url: '/devices/PA-1/orders',
      body: order({ color: 'black' }),
      status: 404,
      reason: /device PA-1/,
    },
    {
      name: "a site user's order for a device not assigned to it",
      url: '/devices/MI-KYO/orders',
      body: order({ color: 'black' }),
      as: 'acme-user',
      status: 404,
      reason: /device MI-KYO/,
    },
    {
      name: 'a colour a colour device does not have',
      url: '/devices/MI-COLOR/orders',
      body: order({ color: 'lightCyan' }),
      status: 400,
      reason: /no lightCyan toner \(its toners: black, cyan, magenta, yellow\)/,
    },
    {
      name: 'a colour for a device that prints black only',
      url: '/devices/MI-MONO/orders',
      body: order({ color: 'cyan' }),
      status: 400,
      reason: /MI-MONO has no cyan toner/,
    },
    {
      name: "a colour the catalogue's model does not have, for a device that never reported",
      url: '/devices/MI-KYO/orders',
      body: order({ color: 'cyan' }),
      status: 400,
      reason: /MI-KYO has no cyan toner/,
    },
    {
      name: 'a toner order without a colour',
      url: '/devices/MI-COLOR/orders',
      body: order({ color: undefined }),
      status: 400,
      reason: /names its colour/,
    },
    {
      name: 'a waste box with a colour',
      url: '/devices/MI-COLOR/orders',
      body: order({ item: 'waste-box' }),
      status: 400,
      reason: /a waste box has no colour/,
    },
    {
      name: 'an item that is not sold',
      url: '/devices/MI-COLOR/orders',
      body: order({ item: 'drum' }),
      status: 400,
      reason: /item/,
    },
    {
      name: 'a quantity of 0',
      url: '/devices/MI-COLOR/orders',
      body: order({ quantity: 0 }),
      status: 400,
      reason: /quantity/,
    },
    {
      name: 'a quantity of 10,000',
      url: '/devices/MI-COLOR/orders',
      body: order({ quantity: 10_000 }),
      status: 400,
      reason: /quantity/,
    },
    {
      name: 'a quantity that is not a whole number',
      url: '/devices/MI-COLOR/orders',
      body: order({ quantity: 1.5 }),
      status: 400,
      reason: /quantity/,
    },
    {
      name: 'a quantity sent as text',
      url: '/devices/MI-COLOR/orders',
      body: order({ quantity: '2' }),
      status: 400,
      reason: /quantity/,
    },
    {
      name: 'an order without a reason',
      url: '/devices/MI-COLOR/orders',
      body: order({ reason: undefined }),
      status: 400,
      reason: /reason/,
    },
    {
      name: 'a second order for a colour with an open reorder',
      url: '/devices/MI-COLOR/orders',
      body: order({ color: 'black' }),
      status: 400,
      reason: /open order already/,
    },
    {
      name: 'cancelling an unknown action',
      url: '/actions/nope/cancel',
      body: {},
      status: 404,
      reason: /action nope/,
    },
  ]

  it.each(refusals)('answers $status to $name, with the reason, and changes nothing', async (r) => {
    const before = await list()
    const res = await post(r.url, r.body, r.as)
    expect(res.statusCode).toBe(r.status)
    expect(res.json().message).toMatch(r.reason)
    expect(await list()).toEqual(before)
  })

  it('refuses to cancel an order once it is shipped, an action that is no order, and one cancelled already', async () => {
    const missed = await post('/devices/MI-COLOR/orders', order({ color: 'magenta', reason: 'spare' }))
    expect(missed.statusCode).toBe(201)
    const ordered = missed.json() as Action
    expect((await post(`/actions/${ordered.id}/cancel`, { reason: 'no' })).statusCode).toBe(200)
    const shipped = await post(
      `/actions/${reorder.id}/delivery`,
      { step: 'shipped', carrier: 'DHL', trackingNumber: 'T-1' },
      'admin',
    )
    expect(shipped.statusCode).toBe(200)
    for (const [id, reason] of [
      [reorder.id, /shipped on .* \(DHL T-1\): it can no longer be cancelled/],
      [ordered.id, /cancelled already/],
    ] as const) {
      const before = await list()
      const res = await post(`/actions/${id}/cancel`, {})
      expect(res.statusCode).toBe(400)
      expect(res.json().message).toMatch(reason)
      expect(await list()).toEqual(before)
    }
  })

  it('refuses to cancel a service call once support has worked on it, and changes nothing', async () => {
    const opened = await post('/devices/MI-MONO/service-requests', { description: 'Feeder jams' })
    expect(opened.statusCode).toBe(201)
    const call = opened.json() as Action
    const worked = await post(`/actions/${call.id}/ticket`, { type: 'remote-support-called' }, 'admin')
    expect(worked.statusCode).toBe(200)
    const before = await list()
    const res = await post(`/actions/${call.id}/cancel`, { reason: 'it works again' })
    expect(res.statusCode).toBe(400)
    expect(res.json().message).toMatch(/support has worked on the call \(remote-support-called at /)
    expect(await list()).toEqual(before)
  })

  it("lets a site user cancel what it ordered, and not another user's order", async () => {
    const mine = (
      await post('/devices/MI-COLOR/orders', order({ extra: true }), 'acme-user')
    ).json() as Action
    const theirs = (
      await post('/devices/MI-COLOR/orders', order({ extra: true }), 'acme-other')
    ).json() as Action
    expect(mine.details.requestedBy).toBe('acme-user')
    const before = await list()
    const refused = await post(`/actions/${theirs.id}/cancel`, {}, 'acme-user')
    expect(refused.statusCode).toBe(400)
    expect(refused.json().message).toMatch(/only the service calls and orders it opened/)
    expect(await list()).toEqual(before)
    const other = (
      await post('/devices/MI-COLOR/orders', order({ extra: true }), 'acme-user')
    ).json() as Action
    // No body at all: no reason given.
    const bare = await post(`/actions/${other.id}/cancel`, undefined, 'acme-user')
    expect(bare.statusCode).toBe(200)
    expect(bare.json().details.cancelled).toEqual({ at: expect.any(String), by: 'acme-user' })
    const done = await post(`/actions/${mine.id}/cancel`, { reason: 'found one' }, 'acme-user')
    expect(done.statusCode).toBe(200)
    expect(done.json().details).toMatchObject({ resolution: 'cancelled', cancelled: { by: 'acme-user' } })
  })
})
