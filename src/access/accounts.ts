/**
 * Accounts: who may use the service, kept in `accounts.json` in the data directory. A token is shown
 * once when it is made and stored only as a salted scrypt hash; it is compared in constant time.
 * The file is re-read when it changes (the accounts command writes it while the service runs), so
 * a new, rotated or removed account takes effect without a restart.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { type FSWatcher, watch } from 'node:fs'
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type Clock, wallClock } from '../clock.ts'
import { Id } from '../contract/schemas.ts'
import { badRequest, configError, notFound } from '../errors.ts'

export const ACCOUNTS_FILE = 'accounts.json'

export const ROLES = ['gateway', 'admin', 'operator', 'customer-admin', 'customer-user', 'monitor'] as const
export type Role = (typeof ROLES)[number]
export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)))

/** An MQTT topic filter: levels of text, `+` for one level, `#` for the rest (MQTT 3.1.1 4.7). */
export const TopicFilter = Type.String({
  minLength: 1,
  maxLength: 512,
  pattern: '^(?!.*[^/]#)(?!.*#.)[^\\u0000]*$',
})

/** What an account is, without its secret: what the API and the command list. */
export const AccountView = Type.Object(
  {
    name: Id,
    role: RoleSchema,
    /** The sites a gateway (or an operator limited to sites) serves. */
    sites: Type.Array(Id),
    /** The customer of a customer-admin or customer-user (the inventory's `customer` of its sites). */
    customer: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** Further MQTT topic filters, on which the broker behaves as a plain MQTT 3.1.1 broker. */
    grants: Type.Array(TopicFilter),
    /** A customer-user's devices, assigned directly... */
    devices: Type.Array(Id),
    /** ...and through the inventory's device groups. */
    groups: Type.Array(Id),
    createdAt: Type.String(),
    rotatedAt: Type.String(),
  },
  { additionalProperties: false },
)
export type AccountView = Static<typeof AccountView>

const StoredAccount = Type.Composite([
  AccountView,
  Type.Object({
    /** Public part of the token: finds the account from a bearer token alone. */
    keyId: Type.String({ pattern: '^[0-9a-f]{16}$' }),
    salt: Type.String(),
    hash: Type.String(),
  }),
])
export type StoredAccount = Static<typeof StoredAccount>
const AccountsFile = Type.Object({ accounts: Type.Array(StoredAccount) })
const checkFile = TypeCompiler.Compile(AccountsFile)

/** What a new account is made of: the body of POST /accounts and the arguments of `accounts add`. */
export const NewAccount = Type.Object(
  {
    name: Id,
    role: RoleSchema,
    sites: Type.Optional(Type.Array(Id)),
    customer: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    grants: Type.Optional(Type.Array(TopicFilter)),
    devices: Type.Optional(Type.Array(Id)),
    groups: Type.Optional(Type.Array(Id)),
  },
  { additionalProperties: false },
)
export type NewAccount = Static<typeof NewAccount>

const SCRYPT_KEYLEN = 32
const TOKEN = /^pw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/

function scryptHash(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, SCRYPT_KEYLEN, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

async function makeSecret(): Promise<{ token: string; keyId: string; salt: string; hash: string }> {
  const keyId = randomBytes(8).toString('hex')
  const token = `pw_${keyId}_${randomBytes(32).toString('base64url')}`
  const salt = randomBytes(16)
  return {
    token,
    keyId,
    salt: salt.toString('base64'),
    hash: (await scryptHash(token, salt)).toString('base64'),
  }
}

/** Why an account is not what its role needs, or null. */
export function accountProblem(a: NewAccount): string | null {
  const sites = a.sites ?? []
  if (a.role === 'gateway' && sites.length === 0) return 'a gateway account needs at least one --site'
  if ((a.role === 'customer-admin' || a.role === 'customer-user') && !a.customer)
    return `a ${a.role} account needs --customer`
  if (a.role !== 'customer-user' && ((a.devices ?? []).length > 0 || (a.groups ?? []).length > 0))
    return 'only a customer-user account is assigned devices and groups'
  return null
}

/**
 * The accounts of a data directory. The service holds one and watches the file; the accounts
 * command uses one to change it.
 */
export class AccountBook {
  private byName = new Map<string, StoredAccount>()
  private byKeyId = new Map<string, StoredAccount>()
  /** Tokens verified since the file was last read: a gateway's reconnects pay scrypt once. */
  private verified = new Map<string, string>()
  private watcher: FSWatcher | null = null
  private saving: Promise<void> = Promise.resolve()
  private readonly listeners = new Set<() => void>()
  readonly path: string

  constructor(
    private readonly dataDir: string,
    private readonly clock: Clock = wallClock,
  ) {
    this.path = join(dataDir, ACCOUNTS_FILE)
  }

  /** Reads the file; no file is no account. */
  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.take([])
        return
      }
      throw err
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      throw configError(`${this.path} is not valid JSON: ${(err as Error).message}`)
    }
    if (!checkFile.Check(json)) {
      const e = checkFile.Errors(json).First()
      throw configError(`${this.path}: at ${e?.path || '/'}: ${e?.message ?? 'not an accounts file'}`)
    }
    this.take(json.accounts)
  }

  private take(accounts: StoredAccount[]): void {
    this.byName = new Map(accounts.map((a) => [a.name, a]))
    this.byKeyId = new Map(accounts.map((a) => [a.keyId, a]))
    this.verified.clear()
  }

  /** Watches the file and re-reads it on change; a broken file keeps the accounts read before. */
  async start(onError: (err: Error) => void = () => {}): Promise<void> {
    await this.load()
    // The directory is watched, not the file: an editor or the accounts command replaces it.
    this.watcher = watch(this.dataDir, (_event, file) => {
      if (file !== ACCOUNTS_FILE) return
      this.load().then(
        () => {
          for (const l of this.listeners) l()
        },
        (err: Error) => onError(err),
      )
    })
    this.watcher.on('error', onError)
  }

  stop(): void {
    this.watcher?.close()
    this.watcher = null
  }

  /** Called after each re-read of the file; returns its unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** No account means the service runs open, on loopback only. */
  get empty(): boolean {
    return this.byName.size === 0
  }

  get(name: string): AccountView | undefined {
    const a = this.byName.get(name)
    return a && view(a)
  }

  /** The current key of an account: a client authenticated with another one is out of date. */
  keyOf(name: string): string | undefined {
    return this.byName.get(name)?.keyId
  }

  list(filter: { customer?: string } = {}): AccountView[] {
    return [...this.byName.values()]
      .filter((a) => filter.customer === undefined || a.customer === filter.customer)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(view)
  }

  /**
   * The account a token belongs to, or null. `name` (MQTT's user name) must match when given. Every
   * path compares a scrypt hash in constant time; only a token seen valid since the last read of
   * the file is answered from memory.
   */
  async verify(token: string, name?: string): Promise<AccountView | null> {
    const m = TOKEN.exec(token)
    const account = m ? this.byKeyId.get(m[1] as string) : undefined
    const cached = this.verified.get(token)
    if (account && cached === account.hash)
      return name === undefined || name === account.name ? view(account) : null
    // An unknown key still costs a hash, so that timing does not tell which key ids exist.
    const salt = Buffer.from(account?.salt ?? 'AAAAAAAAAAAAAAAAAAAAAA==', 'base64')
    const expected = Buffer.from(account?.hash ?? Buffer.alloc(SCRYPT_KEYLEN).toString('base64'), 'base64')
    const actual = await scryptHash(token, salt)
    const match = expected.length === actual.length && timingSafeEqual(expected, actual)
    if (!account || !match) return null
    if (this.byKeyId.get(account.keyId)?.hash !== account.hash) return null // rotated while hashing
    this.verified.set(token, account.hash)
    return name === undefined || name === account.name ? view(account) : null
  }

  /** Makes an account; resolves with it and its token, which is never stored. */
  async add(input: NewAccount): Promise<{ account: AccountView; token: string }> {
    const problem = accountProblem(input)
    if (problem) throw badRequest(problem)
    const secret = await makeSecret()
    const at = new Date(this.clock.now()).toISOString()
    let made: StoredAccount | undefined
    await this.save((accounts) => {
      if (accounts.has(input.name)) throw badRequest(`an account ${input.name} exists already`)
      made = {
        name: input.name,
        role: input.role,
        sites: input.sites ?? [],
        ...(input.customer ? { customer: input.customer } : {}),
        grants: input.grants ?? [],
        devices: input.devices ?? [],
        groups: input.groups ?? [],
        createdAt: at,
        rotatedAt: at,
        keyId: secret.keyId,
        salt: secret.salt,
        hash: secret.hash,
      }
      accounts.set(input.name, made)
    })
    return { account: view(made as StoredAccount), token: secret.token }
  }

  async remove(name: string): Promise<void> {
    await this.save((accounts) => {
      if (!accounts.delete(name)) throw notFound(`account ${name}`)
    })
  }

  /** A new token; the old one stops working. */
  async rotate(name: string): Promise<{ account: AccountView; token: string }> {
    const secret = await makeSecret()
    let changed: StoredAccount | undefined
    await this.save((accounts) => {
      const a = accounts.get(name)
      if (!a) throw notFound(`account ${name}`)
      changed = {
        ...a,
        keyId: secret.keyId,
        salt: secret.salt,
        hash: secret.hash,
        rotatedAt: new Date(this.clock.now()).toISOString(),
      }
      accounts.set(name, changed)
    })
    return { account: view(changed as StoredAccount), token: secret.token }
  }

  /** A customer-user's devices and groups. */
  async assign(name: string, assignment: { devices: string[]; groups: string[] }): Promise<AccountView> {
    let changed: StoredAccount | undefined
    await this.save((accounts) => {
      const a = accounts.get(name)
      if (!a) throw notFound(`account ${name}`)
      if (a.role !== 'customer-user')
        throw badRequest(`${name} is a ${a.role}: only a customer-user is assigned devices`)
      changed = { ...a, devices: assignment.devices, groups: assignment.groups }
      accounts.set(name, changed)
    })
    return view(changed as StoredAccount)
  }

  /** Reads the file again, changes it and writes it whole under a temporary name, then renames it. */
  private save(change: (accounts: Map<string, StoredAccount>) => void): Promise<void> {
    const write = this.saving
      .catch(() => {})
      .then(async () => {
        await this.load()
        const next = new Map(this.byName)
        change(next)
        await mkdir(this.dataDir, { recursive: true })
        const tmp = `${this.path}.${process.pid}.tmp`
        const file = await open(tmp, 'w', 0o600)
        try {
          await file.writeFile(`${JSON.stringify({ accounts: [...next.values()] }, null, 2)}\n`)
          await file.sync()
        } finally {
          await file.close()
        }
        await rename(tmp, this.path)
        this.take([...next.values()])
      })
    this.saving = write
    return write
  }
}

function view(a: StoredAccount): AccountView {
  const { keyId: _k, salt: _s, hash: _h, ...rest } = a
  return rest
}
