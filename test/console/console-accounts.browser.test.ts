/**
 * The console with accounts, in a real browser: signed in with a customer's token, the page shows
 * that customer's sites and actions only, and its live feed brings no other customer's.
 */
import mqtt from 'mqtt'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConsole } from '../../console/build.ts'
import type { Action, Inventory } from '../../src/contract/schemas.ts'
import { type AccessService, startWithAccounts } from '../helpers/access.ts'
import { launchChromium } from '../helpers/browser.ts'
import { waitFor } from '../helpers/service-process.ts'

const INVENTORY: Inventory = {
  sites: [
    { siteId: 'milano', customer: 'acme', contact: 'm@acme.example' },
    { siteId: 'paris', customer: 'globex', contact: 'p@globex.example' },
  ],
  devices: [
    { deviceId: 'MI-1', siteId: 'milano' },
    { deviceId: 'PA-1', siteId: 'paris' },
    { deviceId: 'MI-2', siteId: 'milano' },
    { deviceId: 'PA-2', siteId: 'paris' },
  ],
  customers: [
    { customerId: 'acme', name: 'ACME' },
    { customerId: 'globex', name: 'Globex' },
  ],
  groups: [],
}

describe('the console signed in as a customer', () => {
  let s: AccessService
  let browser: Browser
  let page: Page
  let publish: (site: string, device: string) => Promise<void>

  beforeAll(async () => {
    await buildConsole()
    s = await startWithAccounts(
      [
        { name: 'admin', role: 'admin' },
        { name: 'acme-admin', role: 'customer-admin', customer: 'acme' },
      ],
      { inventory: INVENTORY },
    )
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.service.mqttPort}`, {
      username: 'admin',
      password: s.tokens.admin as string,
      reconnectPeriod: 0,
    })
    publish = async (site, device) => {
      await client.publishAsync(
        `fleet/v1/${site}/${device}/telemetry`,
        JSON.stringify({ ts: '2026-11-20T08:00:00Z', toner: { black: 10 } }),
        { qos: 1 },
      )
    }
    browser = await launchChromium()
    page = await browser.newPage()
    return async () => {
      await client.endAsync()
    }
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await s?.stop()
  })

  const reorders = async () =>
    (await s.service.app.inject({ url: '/actions?type=reorder', headers: s.bearer('admin') })).json<{
      items: Action[]
    }>().items

  it("shows only its own customer's actions and sites", async () => {
    await publish('paris', 'PA-1')
    await publish('milano', 'MI-1')
    await waitFor(async () => ((await reorders()).length === 2 ? true : undefined), 20_000, 'two reorders')
    await page.goto(`http://127.0.0.1:${s.service.httpPort}/`)
    await page.fill('header .token input', s.tokens['acme-admin'] as string)
    await page.click('header .token button')
    await page.locator('tr[data-type="reorder"]', { hasText: 'MI-1' }).waitFor({ timeout: 20_000 })
    expect(await page.locator('#actions tbody tr', { hasText: 'PA-1' }).count()).toBe(0)
    const sites = await page.locator('select[name="site"] option').allTextContents()
    expect(sites).toContain('milano')
    expect(sites).not.toContain('paris')
  })

  it("brings its own customer's new actions live, and never another customer's", async () => {
    await page.locator('#live', { hasText: 'live' }).waitFor()
    // The other customer's first: the feed is in order, so it would show before acme's.
    await publish('paris', 'PA-2')
    await publish('milano', 'MI-2')
    await page.locator('tr[data-type="reorder"]', { hasText: 'MI-2' }).waitFor({ timeout: 20_000 })
    expect(await page.locator('#actions tbody tr', { hasText: 'PA-2' }).count()).toBe(0)
    expect(await page.locator('#actions tbody tr', { hasText: 'PA-1' }).count()).toBe(0)
  })
})
