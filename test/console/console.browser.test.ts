/**
 * The console in a real browser (Debian's Chromium through playwright-core) against the real
 * service: an action published over MQTT appears live, is acknowledged with a click, and its new
 * status shows; the filters, the device page, the rules page and the entry forms work.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConsole } from '../../console/build.ts'
import type { Action } from '../../src/contract/schemas.ts'
import { launchChromium } from '../helpers/browser.ts'
import { HOUR, iso, publishAll, telemetry } from '../helpers/fleet.ts'
import { type InProcess, startInProcess } from '../helpers/in-process.ts'
import { ROOT, waitFor } from '../helpers/service-process.ts'

const T0 = Date.parse('2026-11-20T08:00:00Z')
const SITE = 'milano-hq'
const DEVICE = 'SCM-004512'

describe('the console in Chromium', () => {
  let running: InProcess
  let browser: Browser
  let page: Page
  let base: string
  const rulesDir = mkdtempSync(join(tmpdir(), 'printwarden-console-rules-'))

  beforeAll(async () => {
    await buildConsole()
    // The shipped rule files, and one broken file for the rules page to report.
    for (const f of readdirSync(join(ROOT, 'rules')).filter((f) => f.endsWith('.json')))
      cpSync(join(ROOT, 'rules', f), join(rulesDir, f))
    writeFileSync(join(rulesDir, 'broken.json'), '{ "rules": [ { "name": ')
    running = await startInProcess({ clock: 'event', sweepIntervalMs: '1h', rulesDir })
    base = `http://127.0.0.1:${running.service.httpPort}`
    browser = await launchChromium()
    page = await browser.newPage()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await running?.stop()
    rmSync(rulesDir, { recursive: true, force: true })
  })

  const apiAction = async (type: string) =>
    (await running.service.app.inject(`/actions?type=${type}`)).json<{ items: Action[] }>().items[0]

  it('shows a reorder as soon as the reading that causes it is published over MQTT', async () => {
    await page.goto(`${base}/`)
    // The page's event stream is open before anything is published: what follows comes live.
    await page.locator('#live', { hasText: 'live' }).waitFor()
    await publishAll(
      running.client,
      [
        {
          topic: `fleet/v1/${SITE}/${DEVICE}/birth`,
          payload: JSON.stringify({ vendor: 'Kyocera', model: 'TASKalfa 2554ci' }),
        },
      ],
      true,
    )
    await publishAll(running.client, [
      telemetry(SITE, DEVICE, {
        ts: iso(T0),
        seq: 1,
        toner: { black: 64, cyan: 41 },
        counters: { total: 1000 },
      }),
      telemetry(SITE, DEVICE, {
        ts: iso(T0 + HOUR),
        seq: 2,
        toner: { black: 19, cyan: 40 },
        counters: { total: 1100 },
      }),
    ])
    const row = page.locator('tr[data-type="reorder"]')
    await row.waitFor({ timeout: 20_000 })
    expect(await row.locator('.status').textContent()).toBe('open')
    expect(await row.textContent()).toContain('color black')
  })

  it('acknowledges the reorder with a click, and shows its new status', async () => {
    const row = page.locator('tr[data-type="reorder"]')
    await row.getByRole('button', { name: 'Acknowledge' }).click()
    await row.locator('.status', { hasText: 'acknowledged' }).waitFor()
    expect((await apiAction('reorder'))?.status).toBe('acknowledged')
    expect(await row.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0)
  })

  it('shows a status change made elsewhere, live', async () => {
    const reorder = await apiAction('reorder')
    const res = await running.service.app.inject({ method: 'POST', url: `/actions/${reorder?.id}/resolve` })
    expect(res.statusCode).toBe(200)
    await page.locator('tr[data-type="reorder"] .status', { hasText: 'resolved' }).waitFor()
  })

  it('filters by site, type and status', async () => {
    await page.selectOption('select[name="status"]', 'open')
    await page.locator('tr[data-type="reorder"]').waitFor({ state: 'detached' })
    await page.selectOption('select[name="status"]', 'resolved')
    await page.selectOption('select[name="type"]', 'reorder')
    await page.selectOption('select[name="site"]', SITE)
    await page.locator('tr[data-type="reorder"]').waitFor()
    expect(await page.locator('#actions tbody tr').count()).toBe(1)
  })

  it('counts down the SLA clocks of a service ticket', async () => {
    await page.selectOption('select[name="status"]', '')
    await page.selectOption('select[name="type"]', '')
    await publishAll(running.client, [
      telemetry(SITE, DEVICE, {
        ts: iso(T0 + 2 * HOUR),
        seq: 3,
        status: 'error',
        errors: [{ code: 'C-2557', severity: 'critical', text: 'Fuser error' }],
      }),
    ])
    const ticket = page.locator('tr[data-type="fault"]')
    await ticket.waitFor({ timeout: 20_000 })
    const fault = await apiAction('fault')
    const ticketView = fault?.details.ticket as { dueDates: Record<string, string> } | undefined
    const clocks = Object.keys(ticketView?.dueDates ?? {})
    expect(clocks.length).toBeGreaterThan(0)
    const first = await ticket.locator('.clock').first().textContent()
    expect(first).toMatch(new RegExp(`^${clocks[0]}: `))
    // The countdown moves on by itself (the page's clock, once a second).
    await page.waitForFunction(
      (before) => document.querySelector('tr[data-type="fault"] .clock')?.textContent !== before,
      first,
      { timeout: 5000 },
    )
  })

  it('shows a device: its latest state, its toner history and its actions', async () => {
    await page.goto(`${base}/#/devices/${DEVICE}`)
    await page.locator('h2', { hasText: `Device ${DEVICE}` }).waitFor()
    await page.locator('#toner-chart polyline[data-color="black"]').waitFor()
    const points = await page.locator('#toner-chart polyline[data-color="black"]').getAttribute('points')
    expect(points?.split(' ').length).toBe(2)
    expect(await page.locator('.card').first().textContent()).toContain('Kyocera TASKalfa 2554ci')
    await page.locator('main table tr', { hasText: 'reorder' }).waitFor()
  })

  it("makes a service call and orders an extra from a device's page, and cancels the order", async () => {
    await page.goto(`${base}/#/devices/${DEVICE}`)
    await page.fill('#service-call textarea[name="description"]', 'The output tray is cracked')
    await page.click('#service-call button')
    // The device's fuser fault is open (above): the call joins its ticket instead of opening another.
    await page.locator('.notice', { hasText: 'Added to the ticket already open (fault' }).waitFor()
    expect(await apiAction('service-request')).toBeUndefined()
    const fault = (await apiAction('fault')) as Action
    expect((fault.details.ticket as { calls: unknown[] }).calls).toEqual([
      expect.objectContaining({ description: 'The output tray is cracked', stopped: false }),
    ])

    // The reorder was resolved by hand above: black can be ordered; a second order is refused with
    // the service's reason, naming the first; an extra for the shelf is taken.
    await page.selectOption('#order select[name="color"]', 'black')
    await page.fill('#order input[name="reason"]', 'running out')
    await page.click('#order button')
    await page.locator('.notice', { hasText: 'Ordered' }).waitFor()
    const first = await waitFor(
      async () =>
        (await running.service.app.inject('/actions?type=reorder&status=open')).json<{ items: Action[] }>()
          .items[0],
    )
    expect(first.details).toMatchObject({ reason: 'running out', extra: false })
    await page.selectOption('#order select[name="color"]', 'black')
    await page.fill('#order input[name="reason"]', 'running out')
    await page.click('#order button')
    await page.locator('.requests .error', { hasText: first.id }).waitFor()
    await page.selectOption('#order select[name="color"]', 'black')
    await page.fill('#order input[name="reason"]', 'one for the shelf')
    await page.check('#order input[name="extra"]')
    await page.click('#order button')
    await page.locator('.notice', { hasText: 'Ordered' }).waitFor()
    const extra = await waitFor(async () =>
      (await running.service.app.inject('/actions?type=reorder'))
        .json<{ items: Action[] }>()
        .items.find((a) => a.details.extra === true),
    )

    page.once('dialog', (d) => void d.accept('found a spare'))
    await page.locator(`#device-actions tr[data-id="${extra.id}"] button.cancel`).click()
    const cancelled = await waitFor(async () => {
      const a = (await running.service.app.inject(`/actions/${extra.id}`)).json<Action>()
      return a.status === 'resolved' ? a : undefined
    })
    expect(cancelled.details).toMatchObject({
      resolution: 'cancelled',
      cancelled: { reason: 'found a spare' },
    })
    await page.locator(`#device-actions tr[data-id="${extra.id}"]`, { hasText: 'resolved' }).waitFor()
  })

  it('lists the rules loaded, and the file that failed with its reason', async () => {
    await page.goto(`${base}/#/rules`)
    await page.locator('#rules tbody tr').first().waitFor()
    const failure = page.locator('#rule-failures tr', { hasText: 'broken.json' })
    await failure.waitFor()
    expect((await failure.locator('td.error').textContent())?.length).toBeGreaterThan(10)
    expect(await page.locator('#rules').textContent()).toContain('toner-reorder')
  })

  it('takes a meter reading and a stock count typed in by a site contact', async () => {
    await page.goto(`${base}/#/entry`)
    await page.fill('#meter-form input[name="deviceId"]', DEVICE)
    await page.fill('#meter-form input[name="total"]', '1234')
    await page.click('#meter-form button')
    await page.locator('.message', { hasText: 'Saved.' }).waitFor()
    const device = await waitFor(async () => {
      const d = (await running.service.app.inject(`/devices/${DEVICE}`)).json<{
        counters: { total: number }
      }>()
      return d.counters?.total === 1234 ? d : undefined
    })
    expect(device.counters.total).toBe(1234)
    await page.fill('#stock-form input[name="siteId"]', SITE)
    await page.fill('#stock-form input[name="count"]', '3')
    await page.click('#stock-form button')
    await page.locator('.message').waitFor()
    const message = await page.locator('.message').textContent()
    // A site unknown to the inventory is refused by the API with its reason, shown as it is.
    expect(message === 'Saved.' || /^\d{3}: /.test(message ?? '')).toBe(true)
  })

  it('sends the entered token with its calls and its event stream', async () => {
    await page.goto(`${base}/`)
    await page.locator('#live', { hasText: 'live' }).waitFor()
    const withToken = (path: string) =>
      page.waitForRequest(
        (r) => new URL(r.url()).pathname === path && r.headers().authorization === 'Bearer secret-token',
      )
    const actions = withToken('/actions')
    const events = withToken('/events')
    await page.fill('header .token input', 'secret-token')
    await page.click('header .token button')
    expect((await actions).method()).toBe('GET')
    expect((await events).method()).toBe('GET')
  })
})
