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
        const statuses = new Map<string, unknown>()
        late.on('message', (topic, payload) => {
          if (topic.endsWith('/birth')) births.add(topic)
          else statuses.set(topic, JSON.parse(payload.toString()))
        })
        await late.subscribeAsync(['fleet/v1/+/+/birth', 'fleet/v1/+/gateways/+/status'], { qos: 1 })
        await waitFor(() => (births.size >= 24 && statuses.size >= 3 ? true : undefined))
        await late.endAsync()
        return {
          stdout,
          out: readFileSync(out),
          report: JSON.parse(readFileSync(report, 'utf8')) as RunReport,
          rejected: stats.body.ingest.rejected,
          statuses,
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
    // One connection per gateway, dropped without a goodbye in each outage: the broker sent its
    // will, on the contract's status topic, which the service takes (nothing is rejected).
    expect(a.report.kpis.incidents.outages).toBeGreaterThan(0)
    expect(Object.values(a.rejected).reduce((n, k) => n + k, 0)).toBe(0)
    expect(a.statuses.size).toBe(3)
    for (const [topic, s] of a.statuses) {
      expect(topic).toMatch(/^fleet\/v1\/[^/]+\/gateways\/gw-[^/]+\/status$/)
      expect(s).toMatchObject({ state: expect.stringMatching(/^(online|offline)$/) })
    }
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
