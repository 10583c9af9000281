import { randomUUID } from 'node:crypto'
import { existsSync, renameSync, rmdirSync, rmSync, statfsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Scope } from '../../access/permissions.ts'
import type { Action, Birth } from '../../contract/schemas.ts'
import { type Delivery, deliveryOf } from '../../domain/delivery.ts'
import type { DeviceState } from '../../domain/device-state.ts'
import {
  type ActionCandidate,
  dedupKey,
  type LedgerEntry,
  SERVICE_REQUEST,
  type Transition,
  transition,
} from '../../domain/ledger.ts'
import type { Reading } from '../../domain/reading.ts'
import { halfYearOfEpisode, type StockCount, type StockCountItem } from '../../domain/stock.ts'
import { joinTicket, type Ticket, withTicket } from '../../domain/ticket.ts'
import { PrintwardenError } from '../../errors.ts'
import { orderFields } from '../../rules/facts.ts'
import type {
  ActionFilter,
  BirthRecord,
  Commit,
  DeviceRecord,
  GatewayRecord,
  GatewayUpdate,
  IngestResult,
  JournalEntry,
  OpenTicket,
  ReadingRange,
  StockHistory,
  Store,
} from '../store.ts'
import { checkDatabaseFile, DataDirLock, prepareDataDir, storageError } from './data-dir.ts'
import { MIGRATIONS } from './schema.ts'

interface ActionRow {
  id: string
  type: string
  device_id: string | null
  site_id: string
  status: Action['status']
  rule: string
  created_at: number
  updated_at: number
  details: string
}

const toAction = (r: ActionRow): Action => ({
  id: r.id,
  type: r.type,
  // An action about a whole site has no device.
  ...(r.device_id === null ? {} : { deviceId: r.device_id }),
  siteId: r.site_id,
  status: r.status,
  rule: r.rule,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
  details: JSON.parse(r.details),
})

interface DeviceRow {
  device_id: string
  site_id: string
  birth: string
  state: string | null
}

const toDevice = (r: DeviceRow): DeviceRecord => ({
  deviceId: r.device_id,
  siteId: r.site_id,
  birth: JSON.parse(r.birth) as Birth,
  state: r.state === null ? null : (JSON.parse(r.state) as DeviceState),
})

export const DB_FILE = 'printwarden.db'
/** robust: the free space a disk must have again before readings are acknowledged again. */
const PROBE_FREE_BYTES = 1024 * 1024

/**
 * Tenant scope (Access) as a WHERE clause: a row is in scope when its site and its device are; a
 * site-level row (no device) when its site is. Applied inside the query, never after it.
 */
function scopeWhere(
  scope: Scope | undefined,
  site: string,
  device: string,
): { sql: string[]; params: string[] } {
  const sql: string[] = []
  const params: string[] = []
  if (scope?.sites) {
    sql.push(`${site} IN (SELECT value FROM json_each(?))`)
    params.push(JSON.stringify(scope.sites))
  }
  if (scope?.devices) {
    sql.push(`(${device} IN (SELECT value FROM json_each(?)) OR ${device} = '')`)
    params.push(JSON.stringify(scope.devices))
  }
  return { sql, params }
}

const ACTION_COLUMNS = 'id, type, device_id, site_id, status, rule, created_at, updated_at, details'

/**
 * The embedded store: one SQLite file in the data directory, in WAL mode with full fsync, so that
 * a commit that returned survives a crash of the process or of the machine.
 */
export class SqliteStore implements Store {
  private db: Database.Database | null = null
  private lock: DataDirLock | null = null
  private statements!: ReturnType<SqliteStore['prepare']>

  constructor(
    private readonly dataDir: string,
    /** false for a throw-away store (a dry run): no fsync, many times faster, nothing survives a crash. */
    private readonly durable = true,
    /** create: make the data directory if it is missing (the service: only for ./data or --init). */
    private readonly options: { create?: boolean } = {},
  ) {}

  async start(): Promise<void> {
    const made = prepareDataDir(this.dataDir, this.options.create ?? true)
    const lock = new DataDirLock(this.dataDir)
    try {
      lock.acquire()
    } catch (err) {
      if (made) rmSync(this.dataDir, { recursive: true, force: true })
      throw err
    }
    const path = join(this.dataDir, DB_FILE)
    let db: Database.Database | null = null
    let created = false
    try {
      if (existsSync(path)) checkDatabaseFile(path)
      else {
        this.createDatabase(path)
        created = true
      }
      db = new Database(path, { fileMustExist: true })
      db.pragma('journal_mode = WAL')
      db.pragma(this.durable ? 'synchronous = FULL' : 'synchronous = OFF')
      db.pragma('foreign_keys = ON')
      this.checkSchema(db, path)
      // SQLite finds a damaged page only when it reads it: a quick check reads them all now, rather
      // than at the first query of an old reading, months later.
      const problems = db.pragma('quick_check(5)', { simple: false }) as { quick_check: string }[]
      if (problems[0]?.quick_check !== 'ok')
        throw new PrintwardenError(
          'PW_ERR_DB_CORRUPT',
          `the database ${path} is damaged (${problems.map((p) => p.quick_check).join('; ')}): stop printwarden and restore it from a backup (README, "Backup and restore")`,
        )
      this.migrate(db)
      this.statements = this.prepare(db)
    } catch (err) {
      db?.close()
      if (created) for (const f of ['', '-wal', '-shm']) rmSync(`${path}${f}`, { force: true })
      lock.release(true)
      if (made) rmdirSync(this.dataDir)
      throw storageError(err, path, `opening the database ${path}`)
    }
    this.db = db
    this.lock = lock
  }

  /**
   * A new database is made under another name and renamed once its schema is in: a crash while it
   * is made leaves no empty printwarden.db, which the next start would refuse.
   */
  private createDatabase(path: string): void {
    const temp = `${path}.new`
    rmSync(temp, { force: true })
    const db = new Database(temp)
    try {
      this.migrate(db)
    } finally {
      db.close()
    }
    renameSync(temp, path)
  }

  private checkSchema(db: Database.Database, path: string): void {
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > MIGRATIONS.length)
      throw new PrintwardenError(
        'PW_ERR_DB_SCHEMA',
        `the database ${path} has schema version ${version}, newer than this printwarden knows (${MIGRATIONS.length}): run the printwarden that made it, or restore a backup made by this one`,
      )
    if (version === 0)
      throw new PrintwardenError(
        'PW_ERR_DB_CORRUPT',
        `the database ${path} holds no printwarden schema (version 0): if it held data, restore it from a backup (README, "Backup and restore"); if it never did, delete it and start again`,
      )
  }

  private migrate(db: Database.Database): void {
    const version = db.pragma('user_version', { simple: true }) as number
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v] as string)
        db.pragma(`user_version = ${v + 1}`)
      })()
    }
  }

  /** Runs one storage operation; a failure comes out as a coded error naming the file and the remedy. */
  private io<T>(doing: string, run: () => T): T {
    try {
      return run()
    } catch (err) {
      throw storageError(err, join(this.dataDir, DB_FILE), doing)
    }
  }

  /** A transaction whose failure is a coded error, like io(). */
  private tx<T>(fn: () => T): () => T {
    const run = this.open.transaction(fn)
    return () => this.io('writing to the database', () => run())
  }

  async ping(): Promise<void> {
    this.io('reading the database', () => this.open.prepare('SELECT 1').get())
  }

  /**
   * Whether the disk takes writes again, after a commit failed (a full disk, say). A one-page write
   * alone could pass where a batch would not (the failed commit left WAL space behind), so the file
   * system must also have a margin free.
   */
  async probeWrite(): Promise<void> {
    const { bavail, bsize } = statfsSync(this.dataDir)
    const free = bavail * bsize
    if (free < PROBE_FREE_BYTES)
      throw storageError(
        { code: 'SQLITE_FULL', message: `${free} bytes free, under the ${PROBE_FREE_BYTES} needed` },
        join(this.dataDir, DB_FILE),
        'writing to the database',
      )
    this.io('writing to the database', () =>
      this.open.prepare('UPDATE journal SET position = position WHERE id = 1').run(),
    )
  }

  async stop(): Promise<void> {
    this.db?.close()
    this.db = null
    this.lock?.release()
    this.lock = null
  }

  private prepare(db: Database.Database) {
    return {
      insertReading: db.prepare(
        'INSERT OR IGNORE INTO readings (device_id, site_id, ts, seq, body, received_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      upsertBirth: db.prepare(
        `INSERT INTO devices (device_id, site_id, birth) VALUES (?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET site_id = excluded.site_id, birth = excluded.birth`,
      ),
      upsertState: db.prepare(
        `INSERT INTO devices (device_id, site_id, state) VALUES (?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET site_id = excluded.site_id, state = excluded.state`,
      ),
      journalAfter: db.prepare(
        'SELECT position, body, received_at FROM readings WHERE position > ? ORDER BY position LIMIT ?',
      ),
      journalPosition: db.prepare('SELECT position FROM journal WHERE id = 1').pluck(),
      journalEnd: db.prepare('SELECT coalesce(max(position), 0) FROM readings').pluck(),
      compact: db.prepare(
        "UPDATE readings SET body = '' WHERE position <= ? AND position > ? AND body != ''",
      ),
      cursor: db.prepare('SELECT position FROM cursors WHERE name = ?').pluck(),
      setCursor: db.prepare(
        'INSERT INTO cursors (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
      ),
      setJournalPosition: db.prepare('UPDATE journal SET position = ? WHERE id = 1'),
      range: db
        .prepare('SELECT body FROM readings WHERE device_id = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?')
        .pluck(),
      states: db.prepare('SELECT state FROM devices WHERE state IS NOT NULL').pluck(),
      device: db.prepare('SELECT device_id, site_id, birth, state FROM devices WHERE device_id = ?'),
      birth: db.prepare('SELECT birth FROM devices WHERE device_id = ?').pluck(),
      devices: db.prepare('SELECT device_id, site_id, birth, state FROM devices ORDER BY site_id, device_id'),
      unresolved: db.prepare(
        `SELECT id, rule, type, created_at AS createdAt, device_id AS deviceId, subject, episode, status,
         json_extract(details, '$.expectedDelivery') AS expectedDelivery, json_extract(details, '$.delivery.step') AS deliveryStep,
         CASE WHEN ticket IS NOT NULL THEN (SELECT json_group_array(json_extract(value, '$.key')) FROM json_each(ticket, '$.joined')) END AS joined
         FROM actions
         WHERE device_id IN (SELECT value FROM json_each(?)) AND status != 'resolved'`,
      ),
      insertAction: db.prepare(
        `INSERT OR IGNORE INTO actions (id, dedup_key, type, scope, device_id, site_id, status, rule, subject, episode, created_at, updated_at, details, ticket)
         VALUES (@id, @dedupKey, @type, @scope, @deviceId, @siteId, 'open', @rule, @subject, @episode, @createdAt, @createdAt, @details, @ticket)`,
      ),
      unresolvedOfSites: db.prepare(
        `SELECT id, rule, type, created_at AS createdAt, device_id AS deviceId, site_id AS siteId, subject, episode, status FROM actions
         WHERE scope = 'site' AND site_id IN (SELECT value FROM json_each(?)) AND status != 'resolved'`,
      ),
      resolve: db.prepare(
        "UPDATE actions SET status = 'resolved', updated_at = ? WHERE id = ? AND status != 'resolved'",
      ),
      setStatus: db.prepare('UPDATE actions SET status = ?, updated_at = ? WHERE id = ?'),
      cancel: db.prepare("UPDATE actions SET status = 'resolved', details = ?, updated_at = ? WHERE id = ?"),
      subjectOf: db.prepare('SELECT subject FROM actions WHERE id = ?').pluck(),
      followUps: db
        .prepare(
          "SELECT id FROM actions WHERE device_id = ? AND subject = ? AND id != ? AND status != 'resolved'",
        )
        .pluck(),
      // The details alone (a person's step in its history), its status change stamping the time.
      setHistory: db.prepare('UPDATE actions SET details = ? WHERE id = ?'),
      action: db.prepare(`SELECT ${ACTION_COLUMNS} FROM actions WHERE id = ?`),
      openTickets: db.prepare(
        "SELECT id, device_id AS deviceId, site_id AS siteId, rule, subject, episode, ticket FROM actions WHERE ticket IS NOT NULL AND status != 'resolved' AND (@deviceId IS NULL OR device_id = @deviceId)",
      ),
      ticket: db.prepare('SELECT ticket, details FROM actions WHERE id = ?'),
      setDetails: db.prepare('UPDATE actions SET details = ?, updated_at = ? WHERE id = ?'),
      setTicket: db.prepare('UPDATE actions SET ticket = ?, details = ?, updated_at = ? WHERE id = ?'),
      unresolvedCounts: db.prepare(
        "SELECT type, count(*) AS n FROM actions WHERE status != 'resolved' GROUP BY type",
      ),
      insertOutbox: db.prepare('INSERT INTO outbox (action) VALUES (?)'),
      insertInstall: db.prepare(
        'INSERT OR IGNORE INTO cartridge_installs (device_id, color, ts, site_id, model) VALUES (?, ?, ?, ?, ?)',
      ),
      lastStockCount: db.prepare(
        'SELECT ts, items FROM stock_counts WHERE site_id = ? ORDER BY ts DESC LIMIT 1',
      ),
      insertStockCount: db.prepare(
        `INSERT INTO stock_counts (site_id, ts, items, recorded_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (site_id, ts) DO UPDATE SET items = excluded.items, recorded_at = excluded.recorded_at`,
      ),
      // Tallied in SQLite: a sweep asks for every site that owes a count.
      reordersSince: db.prepare(
        // A person's order may be for more than one cartridge, and for the shelf (extra); a
        // cancelled one was never sent.
        `SELECT json_extract(details, '$.model') AS model, json_extract(details, '$.color') AS color,
         sum(coalesce(json_extract(details, '$.quantity'), 1)) AS n,
         sum(CASE WHEN json_extract(details, '$.extra') = 1 THEN coalesce(json_extract(details, '$.quantity'), 1) ELSE 0 END) AS extra
         FROM actions WHERE site_id = ? AND type = 'reorder' AND created_at > ?
         AND json_type(details, '$.color') = 'text'
         AND coalesce(json_extract(details, '$.resolution'), '') != 'cancelled' GROUP BY 1, 2`,
      ),
      installsSince: db.prepare(
        'SELECT model, color, count(*) AS n FROM cartridge_installs WHERE site_id = ? AND ts > ? GROUP BY 1, 2',
      ),
      openReconciliations: db.prepare(
        "SELECT id, episode FROM actions WHERE site_id = ? AND subject = 'stock:' || site_id AND status != 'resolved'",
      ),
      outboxAfter: db.prepare('SELECT id, action FROM outbox WHERE id > ? ORDER BY id LIMIT ?'),
      pruneOutbox: db.prepare('DELETE FROM outbox WHERE id <= ?'),
      outboxPending: db.prepare('SELECT count(*) FROM outbox WHERE id > ?').pluck(),
      // A state that repeats keeps its start; devices are those of the last online state naming them.
      upsertGatewayStatus: db.prepare(
        `INSERT INTO gateways (site_id, gateway_id, state, since, devices, software, received_at, published_for)
         VALUES (@siteId, @gatewayId, @state, @at, @devices, @software, @receivedAt, '[]')
         ON CONFLICT (site_id, gateway_id) DO UPDATE SET
           since = CASE WHEN state = excluded.state THEN since ELSE excluded.since END,
           state = excluded.state,
           devices = CASE WHEN excluded.state = 'online' AND excluded.devices IS NOT NULL THEN excluded.devices ELSE devices END,
           software = coalesce(excluded.software, software),
           published_for = CASE WHEN excluded.state = 'online' AND state = 'offline' THEN '[]' ELSE published_for END,
           received_at = excluded.received_at`,
      ),
      setPublishedFor: db.prepare(
        'UPDATE gateways SET published_for = ? WHERE site_id = ? AND gateway_id = ?',
      ),
      gateways: db.prepare(
        'SELECT site_id, gateway_id, state, since, devices, published_for, software, received_at FROM gateways ORDER BY site_id, gateway_id',
      ),
    }
  }

  private get open(): Database.Database {
    if (!this.db) throw new Error('the store is not started')
    return this.db
  }

  async ingest(
    readings: readonly Reading[],
    births: readonly BirthRecord[],
    receivedAt: number,
    gateways: readonly GatewayUpdate[] = [],
  ): Promise<IngestResult> {
    const s = this.statements
    let stored = 0
    this.tx(() => {
      for (const g of gateways) {
        if (g.status)
          s.upsertGatewayStatus.run({
            siteId: g.siteId,
            gatewayId: g.gatewayId,
            state: g.status.state,
            at: g.status.at,
            devices: g.status.devices === undefined ? null : JSON.stringify(g.status.devices),
            software: g.status.software ?? null,
            receivedAt,
          })
        if (g.publishedFor) s.setPublishedFor.run(JSON.stringify(g.publishedFor), g.siteId, g.gatewayId)
      }
      for (const r of readings) {
        stored += s.insertReading.run(
          r.deviceId,
          r.siteId,
          r.ts,
          r.seq ?? null,
          JSON.stringify(r),
          receivedAt,
        ).changes
      }
      for (const b of births) s.upsertBirth.run(b.deviceId, b.siteId, JSON.stringify(b.birth))
    })()
    return { stored, duplicates: readings.length - stored, end: this.statements.journalEnd.get() as number }
  }

  async gateways(): Promise<GatewayRecord[]> {
    const rows = this.statements.gateways.all() as {
      site_id: string
      gateway_id: string
      state: 'online' | 'offline'
      since: number
      devices: string | null
      published_for: string
      software: string | null
      received_at: number
    }[]
    return rows.map((r) => ({
      siteId: r.site_id,
      gatewayId: r.gateway_id,
      state: r.state,
      since: r.since,
      devices: r.devices === null ? null : (JSON.parse(r.devices) as string[]),
      publishedFor: JSON.parse(r.published_for) as string[],
      software: r.software,
      receivedAt: r.received_at,
    }))
  }

  async journalAfter(position: number, limit: number): Promise<JournalEntry[]> {
    const rows = this.io('reading the journal', () => this.statements.journalAfter.all(position, limit)) as {
      position: number
      body: string
      received_at: number
    }[]
    return rows.map((r) => ({
      position: r.position,
      reading: JSON.parse(r.body) as Reading,
      receivedAt: r.received_at,
    }))
  }

  async journalPosition(): Promise<number> {
    return this.statements.journalPosition.get() as number
  }

  async journalEnd(): Promise<number> {
    return this.statements.journalEnd.get() as number
  }

  async cursor(name: string): Promise<number> {
    return (this.statements.cursor.get(name) as number | undefined) ?? 0
  }

  async setCursor(name: string, position: number): Promise<void> {
    this.io('writing a cursor to the database', () => this.statements.setCursor.run(name, position))
  }

  async compactJournal(upToPosition: number): Promise<void> {
    const done = await this.cursor('compacted')
    if (upToPosition <= done) return
    this.tx(() => {
      this.statements.compact.run(upToPosition, done)
      this.statements.setCursor.run('compacted', upToPosition)
    })()
  }

  async deviceStates(): Promise<DeviceState[]> {
    return (this.statements.states.all() as string[]).map((s) => JSON.parse(s) as DeviceState)
  }

  async device(deviceId: string, scope?: Scope): Promise<DeviceRecord | null> {
    const w = scopeWhere(scope, 'site_id', 'device_id')
    const row = (
      w.sql.length === 0
        ? this.statements.device.get(deviceId)
        : this.open
            .prepare(
              `SELECT device_id, site_id, birth, state FROM devices WHERE device_id = ? AND ${w.sql.join(' AND ')}`,
            )
            .get(deviceId, ...w.params)
    ) as DeviceRow | undefined
    return row ? toDevice(row) : null
  }

  async birth(deviceId: string): Promise<Birth> {
    const birth = this.statements.birth.get(deviceId) as string | undefined
    return birth === undefined ? {} : (JSON.parse(birth) as Birth)
  }

  async devices(scope?: Scope): Promise<DeviceRecord[]> {
    const w = scopeWhere(scope, 'site_id', 'device_id')
    if (w.sql.length === 0) return (this.statements.devices.all() as DeviceRow[]).map(toDevice)
    return (
      this.open
        .prepare(
          `SELECT device_id, site_id, birth, state FROM devices WHERE ${w.sql.join(' AND ')} ORDER BY site_id, device_id`,
        )
        .all(...w.params) as DeviceRow[]
    ).map(toDevice)
  }

  async readings(deviceId: string, range: ReadingRange): Promise<Reading[]> {
    const rows = this.statements.range.all(deviceId, range.from, range.to, range.limit) as string[]
    return rows.map((b) => JSON.parse(b) as Reading)
  }

  async unresolvedActions(deviceIds: readonly string[]): Promise<Map<string, LedgerEntry[]>> {
    const byDevice = new Map<string, LedgerEntry[]>(deviceIds.map((id) => [id, []]))
    if (deviceIds.length === 0) return byDevice
    type Row = Omit<LedgerEntry, 'joined'> & {
      expectedDelivery: string | null
      deliveryStep: string | null
      joined: string | null
    }
    for (const { expectedDelivery, deliveryStep, joined, ...a } of this.statements.unresolved.all(
      JSON.stringify(deviceIds),
    ) as Row[]) {
      const order = orderFields({
        ...(expectedDelivery === null ? {} : { expectedDelivery }),
        ...(deliveryStep === null ? {} : { delivery: { step: deliveryStep } }),
      })
      const keys = joined === null ? [] : (JSON.parse(joined) as string[])
      byDevice.get(a.deviceId as string)?.push({ ...a, ...order, ...(keys.length ? { joined: keys } : {}) })
    }
    return byDevice
  }

  async unresolvedSiteActions(siteIds: readonly string[]): Promise<Map<string, LedgerEntry[]>> {
    const bySite = new Map<string, LedgerEntry[]>(siteIds.map((id) => [id, []]))
    if (siteIds.length === 0) return bySite
    const rows = this.statements.unresolvedOfSites.all(JSON.stringify(siteIds)) as (LedgerEntry & {
      siteId: string
    })[]
    for (const { siteId, ...a } of rows) bySite.get(siteId)?.push(a)
    return bySite
  }

  async commit(change: Commit): Promise<number> {
    const s = this.statements
    let messages = 0
    // Every change writes its outbox message at once, in the same transaction (the outbox pattern):
    // an action created and resolved in one commit is sent twice, open and then resolved.
    const emit = (id: string) => {
      s.insertOutbox.run(JSON.stringify(toAction(s.action.get(id) as ActionRow)))
      messages++
    }
    this.tx(() => {
      for (const state of change.states)
        s.upsertState.run(state.deviceId, state.siteId, JSON.stringify(state))
      for (const c of change.ledger.create) {
        const id = this.insert(c, change.createdAtDecision ? c.at : change.at)
        if (id === null) continue // the cause is known already: nothing is created twice
        emit(id)
        if (change.ledger.resolveAtOnce.has(dedupKey(c)) && s.resolve.run(change.at, id).changes > 0) emit(id)
      }
      for (const id of change.ledger.resolve) {
        if (s.resolve.run(change.at, id).changes > 0) emit(id)
      }
      for (const { into, candidate } of change.ledger.join ?? []) {
        if (this.joinFault(into, candidate, change.at)) emit(into)
      }
      for (const i of change.installs ?? []) s.insertInstall.run(i.deviceId, i.color, i.ts, i.siteId, i.model)
      if (change.position !== undefined) s.setJournalPosition.run(change.position)
    })()
    return messages
  }

  /** Records a new action (inside a transaction): its id, or null when its cause is known already. */
  private insert(c: ActionCandidate, createdAt: number): string | null {
    const id = randomUUID()
    const inserted = this.statements.insertAction.run({
      id,
      dedupKey: dedupKey(c),
      type: c.type,
      scope: c.scope ?? 'device',
      deviceId: c.scope === 'site' ? null : (c.deviceId ?? null),
      siteId: c.siteId,
      rule: c.rule,
      subject: c.subject,
      episode: c.episode,
      createdAt,
      details: JSON.stringify(c.ticket ? withTicket(c.details, c.ticket) : c.details),
      ticket: c.ticket ? JSON.stringify(c.ticket) : null,
    }).changes
    return inserted === 0 ? null : id
  }

  /**
   * A device's fault joins the open service request `into` (inside the commit's transaction): it is
   * recorded on the request's ticket, which becomes critical with it. False if the request is gone.
   */
  private joinFault(into: string, c: ActionCandidate, at: number): boolean {
    const s = this.statements
    const row = s.action.get(into) as ActionRow | undefined
    const stored = s.ticket.get(into) as { ticket: string | null } | undefined
    if (!row || row.status === 'resolved' || !stored?.ticket || !c.ticket) return false
    const code = c.details.code
    const ticket = joinTicket(JSON.parse(stored.ticket) as Ticket, {
      severity: c.ticket.severity,
      ...(c.ticket.dueDates.onSite === undefined ? {} : { onSiteDue: c.ticket.dueDates.onSite }),
      fault: {
        key: dedupKey(c),
        subject: c.subject,
        episode: c.episode,
        severity: c.ticket.severity,
        at: c.at,
        ...(typeof code === 'string' ? { code } : {}),
      },
    })
    const details = JSON.parse(row.details) as Record<string, unknown>
    if (c.details.alternatives !== undefined) details.alternatives = c.details.alternatives
    s.setTicket.run(JSON.stringify(ticket), JSON.stringify(withTicket(details, ticket)), at, into)
    return true
  }

  async openAction(c: ActionCandidate, at: number): Promise<Action | null> {
    return this.tx(() => {
      const id = this.insert(c, at)
      if (id === null) return null
      const action = toAction(this.statements.action.get(id) as ActionRow)
      this.statements.insertOutbox.run(JSON.stringify(action))
      return action
    })()
  }

  async cancel(
    id: string,
    refusal: (action: Action) => string | null,
    cancelled: { at: number; by?: string; reason?: string },
  ): Promise<{ action: Action } | { refused: string } | null> {
    const s = this.statements
    return this.tx(() => {
      const row = s.action.get(id) as ActionRow | undefined
      if (!row) return null
      const before = toAction(row)
      const refused = refusal(before)
      if (refused !== null) return { refused }
      const at = new Date(cancelled.at).toISOString()
      const by = cancelled.by === undefined ? {} : { by: cancelled.by }
      const history = Array.isArray(before.details.history) ? before.details.history : []
      const details = {
        ...before.details,
        resolution: 'cancelled',
        cancelled: { at, ...by, ...(cancelled.reason === undefined ? {} : { reason: cancelled.reason }) },
        history: [...history, { at, ...by, status: 'resolved', resolution: 'cancelled' }],
      }
      s.cancel.run(JSON.stringify(details), cancelled.at, id)
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      this.resolveFollowUps(row, cancelled.at)
      return { action }
    })()
  }

  /**
   * A person's service request is over: what its ticket brought (a replacement device) is too. A
   * device's fault ends with its error instead, which ends its follow-ups the same way.
   */
  private resolveFollowUps(row: ActionRow, at: number): void {
    if (row.type !== SERVICE_REQUEST || row.device_id === null) return
    const s = this.statements
    const subject = s.subjectOf.get(row.id) as string
    for (const id of s.followUps.all(row.device_id, subject, row.id) as string[]) {
      if (s.resolve.run(at, id).changes > 0)
        s.insertOutbox.run(JSON.stringify(toAction(s.action.get(id) as ActionRow)))
    }
  }

  async actions(filter: ActionFilter): Promise<Action[]> {
    const where: string[] = []
    const params: unknown[] = []
    const column = { type: 'type', deviceId: 'device_id', siteId: 'site_id', status: 'status' } as const
    for (const key of Object.keys(column) as (keyof typeof column)[]) {
      const value = filter[key]
      if (value !== undefined) {
        where.push(`${column[key]} = ?`)
        params.push(value)
      }
    }
    const w = scopeWhere(filter.scope, 'site_id', 'device_id')
    where.push(...w.sql)
    params.push(...w.params)
    const sql = `SELECT ${ACTION_COLUMNS} FROM actions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, rowid DESC LIMIT ?`
    return (this.open.prepare(sql).all(...params, filter.limit) as ActionRow[]).map(toAction)
  }

  async lastStockCount(siteId: string): Promise<StockCount | null> {
    const row = this.statements.lastStockCount.get(siteId) as { ts: number; items: string } | undefined
    return row ? { ts: row.ts, items: JSON.parse(row.items) as StockCountItem[] } : null
  }

  async stockHistory(siteId: string): Promise<StockHistory> {
    const s = this.statements
    const count = await this.lastStockCount(siteId)
    const after = count?.ts ?? -1
    const tally = (rows: unknown[]) =>
      (rows as { model: unknown; color: string; n: number; extra?: number }[]).map((r) => ({
        model: typeof r.model === 'string' ? r.model : null,
        color: r.color,
        n: r.n,
        ...(r.extra ? { extra: r.extra } : {}),
      }))
    return {
      count,
      shipped: tally(s.reordersSince.all(siteId, after)),
      installed: tally(s.installsSince.all(siteId, after)),
    }
  }

  async recordStockCount(siteId: string, count: StockCount, at: number, zone?: string): Promise<Action[]> {
    const s = this.statements
    return this.tx(() => {
      s.insertStockCount.run(siteId, count.ts, JSON.stringify(count.items), at)
      const resolved: Action[] = []
      for (const { id, episode } of s.openReconciliations.all(siteId) as { id: string; episode: string }[]) {
        // A count made before the half-year it was asked for does not answer it.
        const half = halfYearOfEpisode(episode, zone)
        if (half !== null && count.ts < half.start) continue
        if (s.resolve.run(at, id).changes === 0) continue
        const action = toAction(s.action.get(id) as ActionRow)
        s.insertOutbox.run(JSON.stringify(action))
        resolved.push(action)
      }
      return resolved
    })()
  }

  async openTickets(deviceId?: string): Promise<OpenTicket[]> {
    const rows = this.statements.openTickets.all({ deviceId: deviceId ?? null }) as (Omit<
      OpenTicket,
      'ticket'
    > & { ticket: string })[]
    return rows.map((r) => ({ ...r, ticket: JSON.parse(r.ticket) as Ticket }))
  }

  async updateTicket(
    id: string,
    change: (ticket: Ticket) => { ticket: Ticket; details?: Record<string, unknown> } | { refused: string },
    at: number,
  ): Promise<{ action: Action } | { refused: string } | null> {
    const s = this.statements
    return this.tx(() => {
      const row = s.ticket.get(id) as { ticket: string | null; details: string } | undefined
      if (!row) return null
      if (row.ticket === null) return { refused: 'this action is not a service ticket' }
      const result = change(JSON.parse(row.ticket) as Ticket)
      if ('refused' in result) return result
      const details = withTicket({ ...JSON.parse(row.details), ...result.details }, result.ticket)
      s.setTicket.run(JSON.stringify(result.ticket), JSON.stringify(details), at, id)
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      return { action }
    })()
  }

  async updateDelivery(
    id: string,
    change: (delivery: Delivery) => { delivery: Delivery } | { refused: string },
    at: number,
  ): Promise<{ action: Action } | { refused: string } | null> {
    const s = this.statements
    return this.open.transaction(() => {
      const row = s.action.get(id) as ActionRow | undefined
      if (!row) return null
      const details = JSON.parse(row.details) as Record<string, unknown>
      const delivery = deliveryOf(details)
      if (!delivery) return { refused: `this action (${row.type}) is not an order with a delivery` }
      const result = change(delivery)
      if ('refused' in result) return result
      s.setDetails.run(JSON.stringify({ ...details, delivery: result.delivery }), at, id)
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      return { action }
    })()
  }

  async unresolvedCounts(): Promise<Record<string, number>> {
    const rows = this.statements.unresolvedCounts.all() as { type: string; n: number }[]
    return Object.fromEntries(rows.map((r) => [r.type, r.n]))
  }

  async action(id: string, scope?: Scope): Promise<Action | null> {
    const w = scopeWhere(scope, 'site_id', 'device_id')
    const row = (
      w.sql.length === 0
        ? this.statements.action.get(id)
        : this.open
            .prepare(`SELECT ${ACTION_COLUMNS} FROM actions WHERE id = ? AND ${w.sql.join(' AND ')}`)
            .get(id, ...w.params)
    ) as ActionRow | undefined
    return row ? toAction(row) : null
  }

  async transition(id: string, verb: Transition, at: number, by?: string) {
    const s = this.statements
    return this.tx(() => {
      const row = s.action.get(id) as ActionRow | undefined
      if (!row) return null
      const blocked = (JSON.parse(row.details) as { blocked?: { reason?: unknown } }).blocked
      const step = transition(
        row.status,
        verb,
        typeof blocked?.reason === 'string' ? blocked.reason : undefined,
      )
      if (!step.ok) return { refused: step.reason }
      if (!step.changed) return { action: toAction(row), changed: false }
      s.setStatus.run(step.to, at, id)
      // Access: the audit trail names the account behind the change, in the action's history.
      if (by !== undefined) {
        const details = JSON.parse(row.details) as Record<string, unknown>
        const history = Array.isArray(details.history) ? details.history : []
        details.history = [...history, { at: new Date(at).toISOString(), by, status: step.to }]
        s.setHistory.run(JSON.stringify(details), id)
      }
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      if (step.to === 'resolved') this.resolveFollowUps(row, at)
      return { action, changed: true }
    })()
  }

  async outboxAfter(position: number, limit: number): Promise<{ id: number; action: Action }[]> {
    const rows = this.statements.outboxAfter.all(position, limit) as { id: number; action: string }[]
    return rows.map((r) => ({ id: r.id, action: JSON.parse(r.action) as Action }))
  }

  async pruneOutbox(upToPosition: number): Promise<void> {
    this.io('pruning the outbox', () => this.statements.pruneOutbox.run(upToPosition))
  }

  async outboxPending(afterPosition: number): Promise<number> {
    return this.io('reading the outbox', () => this.statements.outboxPending.get(afterPosition) as number)
  }
}
