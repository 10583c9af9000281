import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Scope } from '../../access/permissions.ts'
import type { Action, Birth } from '../../contract/schemas.ts'
import type { DeviceState } from '../../domain/device-state.ts'
import { dedupKey, type LedgerEntry, type Transition, transition } from '../../domain/ledger.ts'
import type { Reading } from '../../domain/reading.ts'
import { halfYearOfEpisode, type StockCount, type StockCountItem } from '../../domain/stock.ts'
import { type Ticket, ticketView } from '../../domain/ticket.ts'
import type {
  ActionFilter,
  BirthRecord,
  Commit,
  DeviceRecord,
  IngestResult,
  JournalEntry,
  OpenTicket,
  ReadingRange,
  StockHistory,
  Store,
} from '../store.ts'
import { MIGRATIONS } from './schema.ts'

interface ActionRow {
  id: string
  type: string
  device_id: string
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
  deviceId: r.device_id,
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
  private statements!: ReturnType<SqliteStore['prepare']>

  constructor(
    private readonly dataDir: string,
    /** false for a throw-away store (a dry run): no fsync, many times faster, nothing survives a crash. */
    private readonly durable = true,
  ) {}

  async start(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true })
    const db = new Database(join(this.dataDir, DB_FILE))
    db.pragma('journal_mode = WAL')
    db.pragma(this.durable ? 'synchronous = FULL' : 'synchronous = OFF')
    db.pragma('foreign_keys = ON')
    const version = db.pragma('user_version', { simple: true }) as number
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v] as string)
        db.pragma(`user_version = ${v + 1}`)
      })()
    }
    this.db = db
    this.statements = this.prepare(db)
  }

  async ping(): Promise<void> {
    this.open.prepare('SELECT 1').get()
  }

  async stop(): Promise<void> {
    this.db?.close()
    this.db = null
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
        'SELECT position, body FROM readings WHERE position > ? ORDER BY position LIMIT ?',
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
        `SELECT id, rule, type, created_at AS createdAt, device_id AS deviceId, subject, episode, status FROM actions
         WHERE device_id IN (SELECT value FROM json_each(?)) AND status != 'resolved'`,
      ),
      insertAction: db.prepare(
        `INSERT OR IGNORE INTO actions (id, dedup_key, type, device_id, site_id, status, rule, subject, episode, created_at, updated_at, details, ticket)
         VALUES (@id, @dedupKey, @type, @deviceId, @siteId, 'open', @rule, @subject, @episode, @createdAt, @createdAt, @details, @ticket)`,
      ),
      resolve: db.prepare(
        "UPDATE actions SET status = 'resolved', updated_at = ? WHERE id = ? AND status != 'resolved'",
      ),
      setStatus: db.prepare('UPDATE actions SET status = ?, updated_at = ? WHERE id = ?'),
      setDetails: db.prepare('UPDATE actions SET details = ? WHERE id = ?'),
      action: db.prepare(`SELECT ${ACTION_COLUMNS} FROM actions WHERE id = ?`),
      openTickets: db.prepare(
        "SELECT id, device_id AS deviceId, site_id AS siteId, rule, subject, episode, ticket FROM actions WHERE ticket IS NOT NULL AND status != 'resolved'",
      ),
      ticket: db.prepare('SELECT ticket, details FROM actions WHERE id = ?'),
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
        `SELECT json_extract(details, '$.model') AS model, json_extract(details, '$.color') AS color, count(*) AS n
         FROM actions WHERE site_id = ? AND type = 'reorder' AND created_at > ?
         AND json_type(details, '$.color') = 'text' GROUP BY 1, 2`,
      ),
      installsSince: db.prepare(
        'SELECT model, color, count(*) AS n FROM cartridge_installs WHERE site_id = ? AND ts > ? GROUP BY 1, 2',
      ),
      openReconciliations: db.prepare(
        "SELECT id, episode FROM actions WHERE site_id = ? AND subject = 'stock:' || site_id AND status != 'resolved'",
      ),
      outboxAfter: db.prepare('SELECT id, action FROM outbox WHERE id > ? ORDER BY id LIMIT ?'),
      pruneOutbox: db.prepare('DELETE FROM outbox WHERE id <= ?'),
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
  ): Promise<IngestResult> {
    const s = this.statements
    let stored = 0
    this.open.transaction(() => {
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

  async journalAfter(position: number, limit: number): Promise<JournalEntry[]> {
    const rows = this.statements.journalAfter.all(position, limit) as { position: number; body: string }[]
    return rows.map((r) => ({ position: r.position, reading: JSON.parse(r.body) as Reading }))
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
    this.statements.setCursor.run(name, position)
  }

  async compactJournal(upToPosition: number): Promise<void> {
    const done = await this.cursor('compacted')
    if (upToPosition <= done) return
    this.open.transaction(() => {
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
    for (const a of this.statements.unresolved.all(JSON.stringify(deviceIds)) as LedgerEntry[])
      byDevice.get(a.deviceId)?.push(a)
    return byDevice
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
    this.open.transaction(() => {
      for (const state of change.states)
        s.upsertState.run(state.deviceId, state.siteId, JSON.stringify(state))
      for (const c of change.ledger.create) {
        const id = randomUUID()
        const key = dedupKey(c)
        const inserted = s.insertAction.run({
          id,
          dedupKey: key,
          type: c.type,
          deviceId: c.deviceId,
          siteId: c.siteId,
          rule: c.rule,
          subject: c.subject,
          episode: c.episode,
          createdAt: change.createdAtDecision ? c.at : change.at,
          details: JSON.stringify(c.ticket ? { ...c.details, ticket: ticketView(c.ticket) } : c.details),
          ticket: c.ticket ? JSON.stringify(c.ticket) : null,
        }).changes
        if (inserted === 0) continue // the cause is known already: nothing is created twice
        emit(id)
        if (change.ledger.resolveAtOnce.has(key) && s.resolve.run(change.at, id).changes > 0) emit(id)
      }
      for (const id of change.ledger.resolve) {
        if (s.resolve.run(change.at, id).changes > 0) emit(id)
      }
      for (const i of change.installs ?? []) s.insertInstall.run(i.deviceId, i.color, i.ts, i.siteId, i.model)
      if (change.position !== undefined) s.setJournalPosition.run(change.position)
    })()
    return messages
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
      (rows as { model: unknown; color: string; n: number }[]).map((r) => ({
        model: typeof r.model === 'string' ? r.model : null,
        color: r.color,
        n: r.n,
      }))
    return {
      count,
      shipped: tally(s.reordersSince.all(siteId, after)),
      installed: tally(s.installsSince.all(siteId, after)),
    }
  }

  async recordStockCount(siteId: string, count: StockCount, at: number): Promise<Action[]> {
    const s = this.statements
    return this.open.transaction(() => {
      s.insertStockCount.run(siteId, count.ts, JSON.stringify(count.items), at)
      const resolved: Action[] = []
      for (const { id, episode } of s.openReconciliations.all(siteId) as { id: string; episode: string }[]) {
        // A count made before the half-year it was asked for does not answer it.
        const half = halfYearOfEpisode(episode)
        if (half !== null && count.ts < half.start) continue
        if (s.resolve.run(at, id).changes === 0) continue
        const action = toAction(s.action.get(id) as ActionRow)
        s.insertOutbox.run(JSON.stringify(action))
        resolved.push(action)
      }
      return resolved
    })()
  }

  async openTickets(): Promise<OpenTicket[]> {
    const rows = this.statements.openTickets.all() as (Omit<OpenTicket, 'ticket'> & { ticket: string })[]
    return rows.map((r) => ({ ...r, ticket: JSON.parse(r.ticket) as Ticket }))
  }

  async updateTicket(
    id: string,
    change: (ticket: Ticket) => { ticket: Ticket } | { refused: string },
    at: number,
  ): Promise<{ action: Action } | { refused: string } | null> {
    const s = this.statements
    return this.open.transaction(() => {
      const row = s.ticket.get(id) as { ticket: string | null; details: string } | undefined
      if (!row) return null
      if (row.ticket === null) return { refused: 'this action is not a service ticket' }
      const result = change(JSON.parse(row.ticket) as Ticket)
      if ('refused' in result) return result
      const details = { ...JSON.parse(row.details), ticket: ticketView(result.ticket) }
      s.setTicket.run(JSON.stringify(result.ticket), JSON.stringify(details), at, id)
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
    return this.open.transaction(() => {
      const row = s.action.get(id) as ActionRow | undefined
      if (!row) return null
      const step = transition(row.status, verb)
      if (!step.ok) return { refused: step.reason }
      if (!step.changed) return { action: toAction(row), changed: false }
      s.setStatus.run(step.to, at, id)
      // Access: the audit trail names the account behind the change, in the action's history.
      if (by !== undefined) {
        const details = JSON.parse(row.details) as Record<string, unknown>
        const history = Array.isArray(details.history) ? details.history : []
        details.history = [...history, { at: new Date(at).toISOString(), by, status: step.to }]
        s.setDetails.run(JSON.stringify(details), id)
      }
      const action = toAction(s.action.get(id) as ActionRow)
      s.insertOutbox.run(JSON.stringify(action))
      return { action, changed: true }
    })()
  }

  async outboxAfter(position: number, limit: number): Promise<{ id: number; action: Action }[]> {
    const rows = this.statements.outboxAfter.all(position, limit) as { id: number; action: string }[]
    return rows.map((r) => ({ id: r.id, action: JSON.parse(r.action) as Action }))
  }

  async pruneOutbox(upToPosition: number): Promise<void> {
    this.statements.pruneOutbox.run(upToPosition)
  }
}
