/**
 * The console's live feed (`GET /events`) with accounts: an account gets the changes of the actions
 * it may see and no others, as it would from the API's lists.
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
    { deviceId: 'MI-1', siteId: 'milano' },
    { deviceId: 'PA-1', siteId: 'paris' },
  ],
  customers: [
    { customerId: 'acme', name: 'ACME' },
    { customerId: 'globex', name: 'Globex' },
  ],
  groups: [],
}

/** Reads the feed as the console does (fetch with the bearer token), collecting each action event. */
async function follow(url: string, headers: Record<string, string>) {
  const controller = new AbortController()
  const res = await fetch(url, { headers, signal: controller.signal })
  const actions: Action[] = []
  const reading = (async () => {
    if (!res.body) return
    const decoder = new TextDecoder()
    let buffered = ''
    try {
      for await (const chunk of res.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true })
        let end = buffered.indexOf('\n\n')
        while (end >= 0) {
          const data = buffered
            .slice(0, end)
            .split('\n')
            .find((l) => l.startsWith('data: '))
          if (data) actions.push(JSON.parse(data.slice(6)) as Action)
          buffered = buffered.slice(end + 2)
          end = buffered.indexOf('\n\n')
        }
      }
    } catch {
      // aborted at the end of the test
    }
  })()
  return {
    status: res.status,
    actions,
    stop: async () => {
      controller.abort()
      await reading
    },
  }
}

describe('the live feed with accounts', () => {
  let s: AccessService
  let base: string
  beforeAll(async () => {
    s = await startWithAccounts(
      [
        { name: 'admin', role: 'admin' },
        { name: 'operator', role: 'operator' },
        { name: 'acme-admin', role: 'customer-admin', customer: 'acme' },
      ],
      { inventory: INVENTORY },
    )
    base = `http://127.0.0.1:${s.service.httpPort}`
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('refuses the feed without a token', async () => {
    const feed = await follow(`${base}/events`, {})
    expect(feed.status).toBe(401)
    await feed.stop()
  })

  it("sends a customer's account its own actions' changes and never another customer's", async () => {
    const acme = await follow(`${base}/events`, s.bearer('acme-admin'))
    const operator = await follow(`${base}/events`, s.bearer('operator'))
    expect([acme.status, operator.status]).toEqual([200, 200])
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.service.mqttPort}`, {
      username: 'admin',
      password: s.tokens.admin as string,
      reconnectPeriod: 0,
    })
    // The other customer's order first: the feed is in order, so it would come before acme's.
    for (const [site, device] of [
      ['paris', 'PA-1'],
      ['milano', 'MI-1'],
    ])
      await client.publishAsync(
        `fleet/v1/${site}/${device}/telemetry`,
        JSON.stringify({ ts: '2026-11-20T08:00:00Z', toner: { black: 10 } }),
        { qos: 1 },
      )
    await client.endAsync()
    await waitFor(() => (acme.actions.some((a) => a.deviceId === 'MI-1') ? true : undefined), 20_000, 'MI-1')
    await waitFor(
      () =>
        ['PA-1', 'MI-1'].every((d) => operator.actions.some((a) => a.deviceId === d)) ? true : undefined,
      20_000,
      'both orders on the operator feed',
    )
    expect(acme.actions.map((a) => a.siteId)).not.toContain('paris')
    expect(acme.actions.every((a) => a.siteId === 'milano')).toBe(true)
    await acme.stop()
    await operator.stop()
  })
})
