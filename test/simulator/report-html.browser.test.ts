/**
 * `npm run simulate -- --report-html FILE` as a user runs it, against the real service in event
 * time, closed loop on; the page it writes opened in Chromium, its charts drawn.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../helpers/browser.ts'
import { kill9, ROOT, type ServiceProcess, startServiceProcess, tempDir } from '../helpers/service-process.ts'

const exec = promisify(execFile)
const CHARTS = ['stockout', 'orders', 'tickets', 'toner-waste', 'latency']

describe('the simulator HTML report', () => {
  const dir = tempDir('printwarden-html-')
  const file = join(dir.path, 'report.html')
  let service: ServiceProcess
  let browser: Browser

  beforeAll(async () => {
    service = await startServiceProcess({
      dataDir: join(dir.path, 'data'),
      extra: ['--init', '--clock', 'event', '--sweep-interval', '1h'],
    })
    await exec(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'simulator/cli.ts'),
        '--broker',
        service.mqttUrl,
        '--api',
        service.http,
        '--scenario',
        'bad-week',
        '--devices',
        '12',
        '--sites',
        '2',
        '--duration',
        '6d',
        '--seed',
        '7',
        '--progress',
        'none',
        '--report-html',
        file,
      ],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    )
    browser = await launchChromium()
  }, 240_000)
  afterAll(async () => {
    await browser?.close()
    if (service) await kill9(service)
    dir.remove()
  })

  it('is one self-contained page: nothing in it is fetched from elsewhere', () => {
    const html = readFileSync(file, 'utf8')
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org)/)
  })

  it('opens in Chromium with every chart drawn over simulated time', async () => {
    const page = await browser.newPage()
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    await page.goto(pathToFileURL(file).href)
    const drawn = await page.$$eval('figure.chart', (figures) =>
      figures.map((f) => {
        const lines = [...f.querySelectorAll('polyline.series')] as SVGPolylineElement[]
        return {
          chart: f.getAttribute('data-chart'),
          series: lines.length,
          // Drawn: a line of several points that takes up room on the page.
          longest: Math.max(...lines.map((l) => l.points.numberOfItems)),
          width: Math.max(...lines.map((l) => l.getBBox().width)),
        }
      }),
    )
    expect(drawn.map((d) => d.chart)).toEqual(CHARTS)
    for (const d of drawn.filter((c) => c.chart !== 'latency')) {
      expect(d.series).toBeGreaterThan(0)
      expect(d.longest).toBeGreaterThan(20)
      expect(d.width).toBeGreaterThan(100)
    }
    // Latency points exist only where an action was received; a closed loop receives some.
    expect(drawn.find((d) => d.chart === 'latency')?.longest).toBeGreaterThan(0)
    expect(requests).toEqual([pathToFileURL(file).href])
  })

  it("shows the run's settings and totals, with orders that rise over the run", async () => {
    const page = await browser.newPage()
    await page.goto(pathToFileURL(file).href)
    const text = await page.locator('body').textContent()
    expect(text).toContain('bad-week')
    expect(text).toContain('seed7')
    const orders = await page.$eval(
      'figure[data-chart="orders"] polyline[data-series="toner reorders"]',
      (l) => {
        const pts = (l as SVGPolylineElement).points
        // SVG's y grows downwards: a rising count has a smaller y at the end.
        return { first: pts.getItem(0).y, last: pts.getItem(pts.numberOfItems - 1).y }
      },
    )
    expect(orders.last).toBeLessThan(orders.first)
  })
})
