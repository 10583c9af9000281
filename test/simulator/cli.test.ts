/**
 * `npm run simulate` as a user runs it: the CLI in a child process, against the real service in a
 * child process, in event time, with the closed loop on.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import type { RunReport } from '../../simulator/runner.ts'
import { connect } from '../helpers/fleet.ts'
import { getJson, kill9, ROOT, startServiceProcess, tempDir, waitFor } from '../helpers/service-process.ts'

const exec = promisify(execFile)
const simulate = (args: string[]) =>
  exec(process.execPath, ['--import', 'tsx', join(ROOT, 'simulator/cli.ts'), ...args], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  })

describe('npm run simulate', () => {
  const dir = tempDir('printwarden-cli-')
  afterAll(() => dir.remove())

  it('lists every flag in --help', async () => {
    const { stdout } = await simulate(['--help'])
    for (const flag of [
      '--broker',
      '--username',
      '--password',
      '--api',
      '--no-actions',
      '--devices',
      '--sites',
      '--scenario',
      '--seed',
      '--speed',
      '--duration',
      '--start',
      '--interval',
      '--out',
      '--report',
    ])
      expect(stdout).toContain(flag)
  })

  it('writes a byte-identical --out file for the same seed, scenario and flags, with the closed loop on', async () => {
    /** One run against a fresh service of its own, in event time, in lockstep through its API. */
    const once = async (name: string) => {
      const service = await startServiceProcess({
        dataDir: join(dir.path, `data-${name}`),
        extra: ['--init', '--clock', 'event', '--sweep-interval', '1h'],
      })
      try {
        const out = join(dir.path, `${name}.jsonl`)
        const report = join(dir.path, `${name}.json`)
        const { stdout } = await simulate([
          '--broker',
          service.mqttUrl,
          '--api',
          service.http,
          '--scenario',
          'bad-week',
          '--devices',
          '24',
          '--sites',
          '3',
          '--duration',
          '6d',
          '--seed',
          '42',
          '--out',
          out,
          '--report',
          report,
          '--client-prefix',
          `cli-${name}`,
          '--progress',
          'none',
        ])
        const stats = await getJson<{ ingest: { rejected: Record<string, number> } }>(`${service.http}/stats`)
        // Births are retained by the broker: a late subscriber gets every printer's.
        const late = await connect(service.mqttUrl)
        const births = new Set<string>()
        late.on('message', (topic) => births.add(topic))
        await late.subscribeAsync('fleet/v1/+/+/birth', { qos: 1 })
        // Retained messages come with the subscription, before a message published after it.
        const marker = `fleet/v1/marker-${name}/MARKER-1/birth`
        const publisher = await connect(service.mqttUrl)
        await publisher.publishAsync(marker, '{}', { qos: 1 })
        await publisher.endAsync()
        await waitFor(() => (births.has(marker) ? true : undefined), 10_000, 'the marker birth')
        births.delete(marker)
        await late.endAsync()
        return {
          stdout,
          out: readFileSync(out),
          report: JSON.parse(readFileSync(report, 'utf8')) as RunReport,
          wills: stats.body.ingest.rejected['unknown-topic'],
          births: births.size,
        }
      } finally {
        await kill9(service)
      }
    }
    const [a, b] = await Promise.all([once('a'), once('b')])

    expect(a.out.length).toBeGreaterThan(1_000_000)
    expect(a.out.equals(b.out)).toBe(true)
    // The stream depends on the service's actions: cartridges it ordered were delivered and fitted.
    expect(a.report.run.lockstep).toBe(true)
    expect(a.report.kpis.orders.reorders).toBeGreaterThan(0)
    expect(a.report.kpis.supplies.cartridgesFitted).toBeGreaterThan(0)
    expect(b.report.kpis.supplies.cartridgesFitted).toBe(a.report.kpis.supplies.cartridgesFitted)
    // One connection per gateway, dropped without a goodbye in each outage: the broker sent its will.
    expect(a.report.kpis.incidents.outages).toBeGreaterThan(0)
    expect(a.wills).toBe(a.report.kpis.incidents.outages)
    expect(a.births).toBe(24)
    // The summary: on stdout, and in --report with the rate and the latency.
    expect(a.stdout).toContain('readings')
    expect(a.stdout).toContain('stockout')
    // Every printer read every 15 minutes for 6 days, less what silent printers did not send.
    expect(a.report.published.readings).toBeLessThan(24 * 6 * 96)
    expect(a.report.published.readings).toBeGreaterThan(0.9 * 24 * 6 * 96)
    expect(a.report.rate.readingsPerSecond).toBeGreaterThan(0)
    expect(a.report.latencyMs.count).toBeGreaterThan(0)
  }, 110_000)
})
