import { rmdirSync, rmSync, statfsSync } from 'node:fs'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import type { Scope } from '../../access/permissions.ts'
import type { Action, Birth } from '../../contract/schemas.ts'
import type { DeviceState } from '../../domain/device-state.ts'
import type { ActionCandidate, LedgerEntry } from '../../domain/ledger.ts'
import type { Reading } from '../../domain/reading.ts'
import type { StockCount, StockCountItem } from '../../domain/stock.ts'
import type { Ticket } from '../../domain/ticket.ts'
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
import { DataDirLock, prepareDataDir, storageError } from './data-dir.ts'
import { LedgerWrites } from './ledger-writes.ts'
import { openDatabase } from './open-database.ts'
import {
  ACTION_COLUMNS,
  type ActionRow,
  type DeviceRow,
  prepareStatements,
  type Statements,
  scopeWhere,
  toAction,
  toDevice,
} from './statements.ts'

export const DB_FILE = 'printwarden.db'
/** robust: the free space a disk must have again before readings are acknowledged again. */
const PROBE_FREE_BYTES = 1024 * 1024

/**
 * The embedded store: one SQLite file in the data directory, in WAL mode with full fsync, so that
 * a commit that returned survives a crash of the process or of the machine.
 */
export class SqliteStore implements Store {
  private db: Database.Database | null = null
  private lock: DataDirLock | null = null
  private statements!: Statements
  private writes!: LedgerWrites

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
    let db: Database.Database | undefined
    try {
      db = openDatabase(path, this.durable)
      this.statements = prepareStatements(db)
      this.writes = new LedgerWrites(this.statements, (fn) => this.tx(fn))
      this.db = db
      this.lock = lock
    } catch (err) {
      db?.close()
      lock.release(true)
      if (made) rmdirSync(this.dataDir)
      throw err
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

  // The ledger's writes (src/store/sqlite/ledger-writes.ts), each one transaction with its outbox message.
  async commit(change: Commit): Promise<number> {
    return this.writes.commit(change)
  }

  async openAction(c: ActionCandidate, at: number): Promise<Action | null> {
    return this.writes.openAction(c, at)
  }

  async cancel(...args: Parameters<LedgerWrites['cancel']>) {
    return this.writes.cancel(...args)
  }

  async recordStockCount(...args: Parameters<LedgerWrites['recordStockCount']>) {
    return this.writes.recordStockCount(...args)
  }

  async updateTicket(...args: Parameters<LedgerWrites['updateTicket']>) {
    return this.writes.updateTicket(...args)
  }

  async updateDelivery(...args: Parameters<LedgerWrites['updateDelivery']>) {
    return this.writes.updateDelivery(...args)
  }

  async transition(...args: Parameters<LedgerWrites['transition']>) {
    return this.writes.transition(...args)
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

  async openTickets(deviceId?: string): Promise<OpenTicket[]> {
    const rows = this.statements.openTickets.all({ deviceId: deviceId ?? null }) as (Omit<
      OpenTicket,
      'ticket'
    > & { ticket: string })[]
    return rows.map((r) => ({ ...r, ticket: JSON.parse(r.ticket) as Ticket }))
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
