/**
 * What the gateway keeps on disk (`--buffer-dir`, one SQLite file): each device's `seq`, its last
 * birth and whether the broker has it, and every reading not yet acknowledged by the broker, in the
 * order it was read. A reading is written here before it is sent and deleted only after its PUBACK,
 * so neither an outage nor a restart loses one; when more than `max` wait, the oldest are dropped
 * and counted.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Birth } from '../src/contract/schemas.ts'
import { GatewayError } from './errors.ts'
import type { Reading } from './mapping.ts'

export interface Pending {
  id: number
  deviceId: string
  /** The reading as JSON, with its seq. */
  json: string
}

export class ReadingBuffer {
  private db: Database.Database | null = null
  private statements: ReturnType<ReadingBuffer['prepare']> | null = null
  private pendingCount = 0
  private droppedCount = 0

  constructor(
    private readonly dir: string,
    private readonly max: number,
  ) {}

  start(): void {
    try {
      mkdirSync(this.dir, { recursive: true })
      const db = new Database(join(this.dir, 'gateway.sqlite'))
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = FULL')
      db.exec(`
        CREATE TABLE IF NOT EXISTS devices (
          device_id TEXT PRIMARY KEY,
          seq INTEGER NOT NULL DEFAULT 0,
          birth TEXT,
          birth_sent TEXT
        );
        CREATE TABLE IF NOT EXISTS pending (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          device_id TEXT NOT NULL,
          json TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      `)
      this.db = db
    } catch (err) {
      throw new GatewayError(
        'PW_ERR_GATEWAY_BUFFER',
        `--buffer-dir ${this.dir} cannot be used: ${(err as Error).message}`,
      )
    }
    this.statements = this.prepare(this.db)
    this.pendingCount = (this.statements.count.get() as { n: number }).n
    this.droppedCount = (this.statements.getMeta.get('dropped') as { value: number } | undefined)?.value ?? 0
  }

  private prepare(db: Database.Database) {
    return {
      seq: db.prepare('SELECT seq FROM devices WHERE device_id = ?'),
      upsertSeq: db.prepare(
        'INSERT INTO devices (device_id, seq) VALUES (?, ?) ON CONFLICT (device_id) DO UPDATE SET seq = excluded.seq',
      ),
      insert: db.prepare('INSERT INTO pending (device_id, json) VALUES (?, ?)'),
      count: db.prepare('SELECT count(*) AS n FROM pending'),
      dropOldest: db.prepare('DELETE FROM pending WHERE id IN (SELECT id FROM pending ORDER BY id LIMIT ?)'),
      head: db.prepare('SELECT id, device_id AS deviceId, json FROM pending ORDER BY id LIMIT ?'),
      deleteUpTo: db.prepare('DELETE FROM pending WHERE id <= ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      birth: db.prepare('SELECT birth, birth_sent AS sent FROM devices WHERE device_id = ?'),
      setBirth: db.prepare(
        'INSERT INTO devices (device_id, birth) VALUES (?, ?) ON CONFLICT (device_id) DO UPDATE SET birth = excluded.birth',
      ),
      unsentBirths: db.prepare(
        'SELECT device_id AS deviceId, birth FROM devices WHERE birth IS NOT NULL AND birth IS NOT birth_sent',
      ),
      birthSent: db.prepare('UPDATE devices SET birth_sent = ? WHERE device_id = ?'),
    }
  }

  private get s() {
    if (!this.statements) throw new Error('the reading buffer is not started')
    return this.statements
  }

  /**
   * Gives the reading the device's next seq and keeps it, in one transaction: a restart never
   * reuses a seq. Returns how many old readings were dropped to make room.
   */
  add(deviceId: string, reading: Reading): number {
    const db = this.db
    if (!db) throw new Error('the reading buffer is not started')
    return db.transaction(() => {
      const seq = ((this.s.seq.get(deviceId) as { seq: number } | undefined)?.seq ?? 0) + 1
      this.s.upsertSeq.run(deviceId, seq)
      const { ts, ...rest } = reading
      this.s.insert.run(deviceId, JSON.stringify({ ts, seq, ...rest }))
      this.pendingCount++
      const over = this.pendingCount - this.max
      if (over <= 0) return 0
      this.s.dropOldest.run(over)
      this.pendingCount -= over
      this.droppedCount += over
      this.s.setMeta.run('dropped', this.droppedCount)
      return over
    })()
  }

  /** The oldest readings not yet acknowledged, in the order they were read. */
  head(limit: number): Pending[] {
    return this.s.head.all(limit) as Pending[]
  }

  /** The broker acknowledged every reading up to this id. */
  acknowledged(upToId: number): void {
    const { changes } = this.s.deleteUpTo.run(upToId)
    this.pendingCount -= changes
  }

  get pending(): number {
    return this.pendingCount
  }

  /** Readings dropped because the buffer was full, since the buffer was made. */
  get dropped(): number {
    return this.droppedCount
  }

  /** Keeps a device's birth; true when it differs from the one kept before. */
  setBirth(deviceId: string, birth: Birth): boolean {
    const json = JSON.stringify(birth)
    const row = this.s.birth.get(deviceId) as { birth: string | null } | undefined
    if (row?.birth === json) return false
    this.s.setBirth.run(deviceId, json)
    return true
  }

  /** Births the broker does not have yet. */
  unsentBirths(): { deviceId: string; birth: string }[] {
    return this.s.unsentBirths.all() as { deviceId: string; birth: string }[]
  }

  birthSent(deviceId: string, birth: string): void {
    this.s.birthSent.run(birth, deviceId)
  }

  stop(): void {
    this.db?.close()
    this.db = null
    this.statements = null
  }
}
