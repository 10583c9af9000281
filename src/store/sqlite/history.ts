import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Reading } from '../../domain/reading.ts'
import type { BirthRecord } from '../store.ts'
import { MIGRATIONS } from './schema.ts'
import { DB_FILE } from './sqlite-store.ts'

export class StoreOpenError extends Error {
  override name = 'StoreOpenError'
}

/**
 * The service's database opened read-only, for looking back over what it stored (the rules dry
 * run's backtest) without ever writing to it.
 */
/**
 * The service's stored readings in a time window, in the order the service received them (the
 * order it processed them in), and the devices' births. Read through a read-only connection: a
 * backtest never writes to the service's database, and can run beside the running service.
 *
 * This knows the SQLite schema, which is otherwise src/store/'s alone: it stays here until the
 * store offers a read-only view of its journal.
 */
export class ReadOnlyHistory {
  private readonly db: Database.Database

  constructor(dataDir: string) {
    const path = join(dataDir, DB_FILE)
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true })
    } catch (err) {
      throw new StoreOpenError(`cannot open the database ${path}: ${(err as Error).message}`)
    }
    const version = this.db.pragma('user_version', { simple: true }) as number
    if (version < 1 || version > MIGRATIONS.length) {
      this.db.close()
      throw new StoreOpenError(
        version < 1
          ? `${path} is not a printwarden database`
          : `${path} has schema version ${version}, newer than this printwarden knows (${MIGRATIONS.length})`,
      )
    }
  }

  births(): BirthRecord[] {
    const rows = this.db
      .prepare("SELECT device_id, site_id, birth FROM devices WHERE birth != '{}' ORDER BY device_id")
      .all() as { device_id: string; site_id: string; birth: string }[]
    return rows.map((r) => ({ deviceId: r.device_id, siteId: r.site_id, birth: JSON.parse(r.birth) }))
  }

  /** Readings whose body was compacted away (kept by InfluxDB only). */
  withoutBody(from: number, to: number): number {
    return this.db
      .prepare("SELECT count(*) FROM readings WHERE ts >= ? AND ts <= ? AND body = ''")
      .pluck()
      .get(from, to) as number
  }

  /** Pages of readings in arrival order. */
  *readings(from: number, to: number, page = 1000): Generator<Reading[]> {
    const query = this.db.prepare(
      "SELECT position, body FROM readings WHERE position > ? AND ts >= ? AND ts <= ? AND body != '' ORDER BY position LIMIT ?",
    )
    let after = 0
    for (;;) {
      const rows = query.all(after, from, to, page) as { position: number; body: string }[]
      if (rows.length === 0) return
      after = rows[rows.length - 1]?.position ?? after
      yield rows.map((r) => JSON.parse(r.body) as Reading)
    }
  }

  /** Pages of readings in arrival order, each with when the service received it. */
  *receipts(from: number, to: number, page = 1000): Generator<{ reading: Reading; receivedAt: number }[]> {
    const query = this.db.prepare(
      "SELECT position, body, received_at FROM readings WHERE position > ? AND ts >= ? AND ts <= ? AND body != '' ORDER BY position LIMIT ?",
    )
    let after = 0
    for (;;) {
      const rows = query.all(after, from, to, page) as {
        position: number
        body: string
        received_at: number
      }[]
      if (rows.length === 0) return
      after = rows[rows.length - 1]?.position ?? after
      yield rows.map((r) => ({ reading: JSON.parse(r.body) as Reading, receivedAt: r.received_at }))
    }
  }

  close(): void {
    this.db.close()
  }
}
