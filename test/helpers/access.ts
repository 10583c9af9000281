/**
 * The real service in this process with accounts made beforehand (so no anonymous client), a CA and
 * certificates made with the `openssl` command, and Debian's mosquitto clients run as a user would.
 */
import { execFile, execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { AccountBook, type NewAccount } from '../../src/access/accounts.ts'
import { buildConfig, type ConfigSchema } from '../../src/config/config.ts'
import type { Inventory } from '../../src/contract/schemas.ts'
import { type Service, startService } from '../../src/main.ts'
import { ROOT, tempDir } from './service-process.ts'

export interface AccessService {
  service: Service
  dataDir: string
  book: AccountBook
  tokens: Record<string, string>
  /** Authorization header of an account. */
  bearer(name: string): { authorization: string }
  stop(): Promise<void>
}

export async function startWithAccounts(
  accounts: readonly NewAccount[],
  options: {
    flags?: Partial<Record<keyof typeof ConfigSchema.static, string>>
    inventory?: Inventory
    dataDir?: string
  } = {},
): Promise<AccessService> {
  const data = options.dataDir ? { path: options.dataDir, remove: () => {} } : tempDir()
  const book = new AccountBook(data.path)
  const tokens: Record<string, string> = {}
  for (const a of accounts) tokens[a.name] = (await book.add(a)).token
  if (options.inventory)
    writeFileSync(join(data.path, 'inventory.json'), JSON.stringify(options.inventory, null, 2))
  const config = buildConfig({
    flags: {
      dataDir: data.path,
      rulesDir: join(ROOT, 'rules'),
      mqttPort: '0',
      wsPort: '0',
      httpPort: '0',
      ...options.flags,
    },
  })
  const service = await startService(config, { log: pino({ level: 'silent' }) })
  return {
    service,
    dataDir: data.path,
    book,
    tokens,
    bearer: (name) => ({ authorization: `Bearer ${tokens[name]}` }),
    stop: async () => {
      await service.stop()
      data.remove()
    },
  }
}

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command to its end (mosquitto_pub, mosquitto_sub -C n, openssl). */
export function run(command: string, args: readonly string[], timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr })
    })
  })
}

export interface Pki {
  dir: string
  ca: string
  serverCert: string
  serverKey: string
  /** A client certificate and key whose common name is `cn`. */
  client(cn: string): { cert: string; key: string }
  remove(): void
}

/** A CA, a server certificate for 127.0.0.1 signed by it, and client certificates on demand. */
export function makePki(): Pki {
  const d = tempDir('printwarden-pki-')
  const p = (f: string) => join(d.path, f)
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=printwarden test CA',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
  )
  const sign = (name: string, cn: string, ext: string) => {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.csr`),
    )
    writeFileSync(p(`${name}.ext`), ext)
    ssl(
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.pem`),
    )
    return { cert: p(`${name}.pem`), key: p(`${name}.key`) }
  }
  const server = sign(
    'server',
    '127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  )
  return {
    dir: d.path,
    ca: p('ca.pem'),
    serverCert: server.cert,
    serverKey: server.key,
    client: (cn) => sign(`client-${cn}`, cn, 'extendedKeyUsage=clientAuth\n'),
    remove: d.remove,
  }
}
