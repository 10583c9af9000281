/**
 * A real influxd (Debian's `influxdb` package) on free ports with a temporary data directory. Where
 * influxd is missing, the tests that need it say so and skip; under CI they must run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, tempDir, waitFor } from './service-process.ts'

export const hasInfluxd = (() => {
  try {
    execFileSync('influxd', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (!hasInfluxd && process.env.CI) {
  throw new Error('CI must run the InfluxDB tests: .ci/run installs the influxdb package (influxd)')
}
export const influxSkipReason = hasInfluxd
  ? ''
  : 'influxd is not installed (apt-get install influxdb); skipping'

export interface Influxd {
  url: string
  /** Starts influxd again on the same ports and data, after stop() or kill(). */
  start(): Promise<void>
  /** SIGKILL, as when the server dies. */
  kill(): Promise<void>
  remove(): Promise<void>
}

export async function startInfluxd(): Promise<Influxd> {
  const dir = tempDir('printwarden-influxd-')
  const [http, rpc] = [await freePort(), await freePort()]
  const config = join(dir.path, 'influxdb.conf')
  writeFileSync(
    config,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      '[meta]',
      `  dir = "${join(dir.path, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir.path, 'data')}"`,
      `  wal-dir = "${join(dir.path, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${http}"`,
      '  log-enabled = false',
      '[continuous_queries]',
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '',
    ].join('\n'),
  )
  const url = `http://127.0.0.1:${http}`
  let child: ChildProcess | null = null
  const start = async () => {
    child = spawn('influxd', ['-config', config], { stdio: 'ignore' })
    await waitFor(
      async () => {
        try {
          return (await fetch(`${url}/ping`)).status === 204 ? true : undefined
        } catch {
          return undefined
        }
      },
      30_000,
      'influxd to answer /ping',
    )
  }
  const kill = async () => {
    const c = child
    child = null
    if (!c || c.exitCode !== null) return
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve())
      c.kill('SIGKILL')
    })
  }
  await start()
  return {
    url,
    start,
    kill,
    remove: async () => {
      await kill()
      dir.remove()
    },
  }
}
