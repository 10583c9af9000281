/**
 * deploy/init-accounts.sh, the compose stack's accounts service, run for real (sh and the accounts
 * command) on a data directory of its own: the accounts it makes sign in with the tokens it wrote,
 * and a second start changes nothing.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { AccountBook } from '../../src/access/accounts.ts'
import { ROOT, tempDir } from '../helpers/service-process.ts'

const exec = promisify(execFile)

describe('the compose stack accounts service', () => {
  const dir = tempDir()
  afterAll(() => dir.remove())
  const data = join(dir.path, 'data')
  const secrets = join(dir.path, 'secrets')
  mkdirSync(data)
  const run = () =>
    exec('sh', [join(ROOT, 'deploy/init-accounts.sh')], {
      env: {
        ...process.env,
        APP_DIR: ROOT,
        PRINTWARDEN_DATA_DIR: data,
        SECRETS_DIR: secrets,
        PRINTWARDEN_GATEWAYS: 'gw-milano:milano-hq,gw-torino:torino',
      },
      timeout: 60_000,
    })
  const token = (name: string) => readFileSync(join(secrets, `${name}.token`), 'utf8').trim()

  it('makes an admin, a monitor and a gateway account per site gateway, and writes their tokens to files', async () => {
    const { stdout } = await run()
    expect(stdout).not.toMatch(/pw_/)
    const book = new AccountBook(data)
    await book.load()
    expect(book.list().map((a) => [a.name, a.role, a.sites])).toEqual([
      ['admin', 'admin', []],
      ['gw-milano', 'gateway', ['milano-hq']],
      ['gw-torino', 'gateway', ['torino']],
      ['monitor', 'monitor', []],
    ])
    for (const name of ['admin', 'monitor', 'gw-milano', 'gw-torino'])
      expect((await book.verify(token(name)))?.name).toBe(name)
    expect(statSync(join(secrets, 'admin.token')).mode & 0o777).toBe(0o600)
  })

  it('changes nothing when the stack starts again', async () => {
    const before = token('admin')
    const { stdout } = await run()
    expect(stdout).toContain('account admin exists already: nothing changed')
    const book = new AccountBook(data)
    await book.load()
    expect((await book.verify(before))?.name).toBe('admin')
    expect(book.list()).toHaveLength(4)
  })
})
