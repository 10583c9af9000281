/**
 * The README's pictures of the console: the real service on free ports in event time, a small
 * fleet published over MQTT, Chromium (playwright-core, /usr/bin/chromium) photographing each page
 * into docs/screenshots/.
 *
 *   npm run screenshots
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import { buildConsole } from '../console/build.ts'
import { buildConfig } from '../src/config/config.ts'
import { startService } from '../src/main.ts'
import { launchChromium } from '../test/helpers/browser.ts'
import { tempDir } from '../test/helpers/service-process.ts'

const ROOT = resolve(import.meta.dirname, '..')
const OUT = join(ROOT, 'docs/screenshots')
const HOUR = 3_600_000
const T0 = Date.parse('2026-11-20T08:00:00Z')

await buildConsole()
mkdirSync(OUT, { recursive: true })
const data = tempDir()
const service = await startService(
  buildConfig({
    flags: {
      dataDir: data.path,
      rulesDir: join(ROOT, 'rules'),
      mqttPort: '0',
      wsPort: '0',
      httpPort: '0',
      clock: 'event',
      sweepIntervalMs: '1h',
    },
  }),
  { log: pino({ level: 'silent' }) },
)
const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${service.mqttPort}`)
const fleet = [
  { site: 'milano-hq', device: 'SCM-004512', model: 'TASKalfa 2554ci', fault: false },
  { site: 'milano-hq', device: 'SCM-004513', model: 'TASKalfa 2554ci', fault: true },
  { site: 'torino', device: 'TRN-000871', model: 'ECOSYS M3145dn', fault: false },
]
for (const [i, d] of fleet.entries()) {
  await client.publishAsync(
    `fleet/v1/${d.site}/${d.device}/birth`,
    JSON.stringify({ vendor: 'Kyocera', model: d.model, location: `Floor ${i + 1}` }),
    { qos: 1, retain: true },
  )
  for (let h = 0; h < 48; h++) {
    const black = Math.max(5, 70 - h * (1.2 + i * 0.3))
    const reading = {
      ts: new Date(T0 + h * HOUR).toISOString(),
      seq: h,
      toner: { black: Math.round(black), cyan: 80 - h, magenta: 66 - Math.floor(h / 2), yellow: 90 - h },
      counters: { total: 120_000 + h * 40 },
      status: d.fault && h === 47 ? 'error' : 'ready',
      errors: d.fault && h === 47 ? [{ code: 'C-2557', severity: 'critical', text: 'Fuser error' }] : [],
    }
    await client.publishAsync(`fleet/v1/${d.site}/${d.device}/telemetry`, JSON.stringify(reading), { qos: 1 })
  }
}
await service.processor.idle()
const http = `http://127.0.0.1:${service.httpPort}`
const browser = await launchChromium()
const page = await browser.newPage({ viewport: { width: 1280, height: 720 } })
const shots: [string, string, string][] = [
  ['actions', '/', 'tr[data-type]'],
  ['device', `/#/devices/${fleet[0]?.device}`, '#toner-chart polyline'],
  ['rules', '/#/rules', '#rules tbody tr'],
  ['entry', '/#/entry', '#meter-form'],
]
for (const [name, path, ready] of shots) {
  await page.goto(`${http}${path}`)
  await page.locator(ready).first().waitFor()
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false })
  process.stderr.write(`wrote docs/screenshots/${name}.png\n`)
}
await browser.close()
await client.endAsync()
await service.stop()
data.remove()
