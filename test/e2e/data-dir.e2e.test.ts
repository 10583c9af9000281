/**
 * The data directory at start: a typo never starts an empty service, a second service is kept out,
 * an empty, truncated, damaged or newer database is refused with its path, its size and what to do,
 * and a start refused leaves the directory as it found it.
 */
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  ROOT,
  runUntilExit,
  startServiceProcess,
  stopGracefully,
  tempDir,
} from '../helpers/service-process.ts'

const RULES = join(ROOT, 'rules')
const PORTS = ['--mqtt-port', '0', '--ws-port', '0', '--http-port', '0']
const start = Date.UTC(2026, 10, 2)

/** `npm start` on this data directory, expected to be refused: exit code 1 and one line on stderr. */
async function refused(dataDir: string, extra: string[] = []) {
  const run = await runUntilExit(['--data-dir', dataDir, '--rules-dir', RULES, ...PORTS, ...extra])
  expect(run.code).toBe(1)
  const lines = run.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  return lines[0] as string
}

/** A data directory with a database of 1,000 readings, made by the service and stopped cleanly. */
async function filledDataDir(): Promise<string> {
  const dir = tempDir()
  cleanup.push(dir.remove)
  const service = await startServiceProcess({ dataDir: dir.path })
  const client = await connect(service.mqttUrl)
  const readings = Array.from({ length: 1000 }, (_, i) =>
    telemetry('dd-site', `DD-${i % 10}`, { ts: iso(start + i * HOUR), seq: i, toner: { black: 90 } }),
  )
  for (let i = 0; i < readings.length; i += 500) {
    await Promise.all(
      readings.slice(i, i + 500).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })),
    )
  }
  await client.endAsync()
  await settled(service.http)
  expect(await stopGracefully(service)).toBe(0)
  return dir.path
}

const cleanup: (() => void)[] = []
afterAll(() => {
  for (const c of cleanup) c()
})

describe('the data directory at start', () => {
  it('refuses a --data-dir that does not exist, creates nothing, and names the directory and --init', async () => {
    const parent = tempDir()
    cleanup.push(parent.remove)
    const typo = join(parent.path, 'dtaa')
    const line = await refused(typo)
    expect(line).toContain('PW_ERR_DATA_DIR')
    expect(line).toContain(typo)
    expect(line).toContain('--init')
    expect(existsSync(typo)).toBe(false)
  })

  it('creates a missing --data-dir with --init, and the default ./data without it', async () => {
    const parent = tempDir()
    cleanup.push(parent.remove)
    const wanted = join(parent.path, 'new-dir')
    const withInit = await startServiceProcess({ dataDir: wanted, extra: ['--init'] })
    expect(await stopGracefully(withInit)).toBe(0)
    expect(existsSync(join(wanted, 'printwarden.db'))).toBe(true)

    const byDefault = await startServiceProcess({ dataDir: './data', cwd: parent.path })
    expect(await stopGracefully(byDefault)).toBe(0)
    expect(existsSync(join(parent.path, 'data', 'printwarden.db'))).toBe(true)
  })

  it('keeps a second service out of a data directory, naming the first one by its PID', async () => {
    const dir = tempDir()
    cleanup.push(dir.remove)
    const first = await startServiceProcess({ dataDir: dir.path })
    const line = await refused(dir.path)
    expect(line).toContain('PW_ERR_DATA_DIR_LOCKED')
    expect(line).toContain(`PID ${first.child.pid}`)
    expect(line).toContain(dir.path)
    // The first one goes on undisturbed.
    expect((await getJson(`${first.http}/health`)).status).toBe(200)
    expect(await stopGracefully(first)).toBe(0)
    // Its stop released the lock and took its PID file away.
    expect(existsSync(join(dir.path, 'printwarden.pid'))).toBe(false)
    const second = await startServiceProcess({ dataDir: dir.path })
    expect(await stopGracefully(second)).toBe(0)
  })

  it('takes the data directory of a service killed with kill -9, whose lock the kernel dropped', async () => {
    const dir = tempDir()
    cleanup.push(dir.remove)
    const killed = await startServiceProcess({ dataDir: dir.path })
    await kill9(killed)
    // Its PID file is still there, naming a process that is gone: it does not block.
    expect(existsSync(join(dir.path, 'printwarden.pid'))).toBe(true)
    const next = await startServiceProcess({ dataDir: dir.path })
    expect((await getJson(`${next.http}/health`)).status).toBe(200)
    expect(await stopGracefully(next)).toBe(0)
  })

  it('refuses an empty database file with its path, its size and what to do, and leaves the directory as it was', async () => {
    const dir = tempDir()
    cleanup.push(dir.remove)
    writeFileSync(join(dir.path, 'printwarden.db'), '')
    const before = readdirSync(dir.path).sort()
    const line = await refused(dir.path)
    expect(line).toContain('PW_ERR_DB_CORRUPT')
    expect(line).toContain(join(dir.path, 'printwarden.db'))
    expect(line).toContain('(0 bytes)')
    expect(line).toContain('backup')
    expect(readdirSync(dir.path).sort()).toEqual(before)
    expect(statSync(join(dir.path, 'printwarden.db')).size).toBe(0)
  })

  it('refuses a database truncated to half its size, and one with a damaged page, naming the file', async () => {
    const dir = await filledDataDir()
    const db = join(dir, 'printwarden.db')
    const size = statSync(db).size
    const copy = `${dir}-damaged`
    cleanup.push(() => execFileSync('rm', ['-rf', copy]))
    execFileSync('cp', ['-r', dir, copy])

    truncateSync(db, Math.floor(size / 2 / 4096) * 4096 + 100)
    const truncated = await refused(dir)
    expect(truncated).toContain('PW_ERR_DB_CORRUPT')
    expect(truncated).toContain(db)
    expect(truncated).toContain('truncated')

    // Garbage over a page in the middle of the readings' table.
    const damaged = join(copy, 'printwarden.db')
    const file = await open(damaged, 'r+')
    await file.write(Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(size / 4096 / 2) * 4096)
    await file.close()
    const corrupt = await refused(copy)
    expect(corrupt).toContain('PW_ERR_DB_CORRUPT')
    expect(corrupt).toContain(damaged)
  })

  it('refuses a database made by a newer printwarden, naming its schema version', async () => {
    const dir = tempDir()
    cleanup.push(dir.remove)
    const made = await startServiceProcess({ dataDir: dir.path })
    expect(await stopGracefully(made)).toBe(0)
    const db = new Database(join(dir.path, 'printwarden.db'))
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`)
    db.close()
    const line = await refused(dir.path)
    expect(line).toContain('PW_ERR_DB_SCHEMA')
    expect(line).toContain(`schema version ${MIGRATIONS.length + 1}`)
    expect(line).toContain(join(dir.path, 'printwarden.db'))
  })
})

describe('backup and restore', () => {
  it('backs up the data directory of a running service, and the restored copy starts with every reading and action', async () => {
    const dir = tempDir()
    cleanup.push(dir.remove)
    const service = await startServiceProcess({ dataDir: dir.path })
    const client = await connect(service.mqttUrl)
    // Two devices run low: two reorders.
    await publishAll(client, [
      telemetry('bk-site', 'BK-1', { ts: iso(start), seq: 1, toner: { black: 50 } }),
      telemetry('bk-site', 'BK-1', { ts: iso(start + HOUR), seq: 2, toner: { black: 10 } }),
      telemetry('bk-site', 'BK-2', { ts: iso(start), seq: 1, toner: { cyan: 15 } }),
    ])
    await settled(service.http)
    const before = await actions(service.http)
    expect(before.map((a) => a.type).sort()).toEqual(['reorder', 'reorder'])

    const target = join(dir.path, '..', `${dir.path.split('/').pop()}-backup`)
    cleanup.push(() => execFileSync('rm', ['-rf', target]))
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/store/sqlite/backup-cli.ts'), target, '--data-dir', dir.path],
      { cwd: ROOT, encoding: 'utf8' },
    )
    expect(out).toContain('3 readings, 2 actions')
    // Taken while the service ran: it is still healthy, and it goes on taking readings.
    await publishAll(client, [
      telemetry('bk-site', 'BK-1', { ts: iso(start + 2 * HOUR), seq: 3, status: 'ready' }),
    ])
    await client.endAsync()
    expect(await stopGracefully(service)).toBe(0)
    expect(readdirSync(target)).not.toContain('printwarden.lock')

    // The restore of README "Backup and restore": copy the backup's files into an empty data directory.
    const restored = tempDir()
    cleanup.push(restored.remove)
    for (const name of readdirSync(target)) execFileSync('cp', [join(target, name), restored.path])
    const again = await startServiceProcess({ dataDir: restored.path })
    const { body } = await getJson<{ items: unknown[] }>(`${again.http}/devices/BK-1/readings`)
    expect(body.items).toHaveLength(2)
    expect((await actions(again.http)).map((a) => a.id).sort()).toEqual(before.map((a) => a.id).sort())
    expect(await stopGracefully(again)).toBe(0)
  })

  it('refuses to write a backup over another one', async () => {
    const dir = tempDir()
    cleanup.push(dir.remove)
    const made = await startServiceProcess({ dataDir: dir.path })
    expect(await stopGracefully(made)).toBe(0)
    const target = join(dir.path, 'backup')
    mkdirSync(target)
    writeFileSync(join(target, 'printwarden.db'), 'an older backup')
    const run = () =>
      execFileSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src/store/sqlite/backup-cli.ts'), target, '--data-dir', dir.path],
        { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' },
      )
    expect(run).toThrow(/PW_ERR_DATA_DIR.*holds a backup already/)
    expect(readFileSync(join(target, 'printwarden.db'), 'utf8')).toBe('an older backup')
  })
})
