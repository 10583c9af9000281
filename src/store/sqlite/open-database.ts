/**
 * Opens the store's SQLite file: made whole or not at all, checked (its schema version, every page
 * readable), migrated, in WAL mode with full fsync when durable. A failure is a coded error naming
 * the file and the remedy, and leaves no new file behind.
 */
import { existsSync, renameSync, rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { PrintwardenError } from '../../errors.ts'
import { checkDatabaseFile, storageError } from './data-dir.ts'
import { MIGRATIONS } from './schema.ts'

export function openDatabase(path: string, durable: boolean): Database.Database {
  let db: Database.Database | null = null
  let created = false
  try {
    if (existsSync(path)) checkDatabaseFile(path)
    else {
      createDatabase(path)
      created = true
    }
    db = new Database(path, { fileMustExist: true })
    db.pragma('journal_mode = WAL')
    db.pragma(durable ? 'synchronous = FULL' : 'synchronous = OFF')
    db.pragma('foreign_keys = ON')
    checkSchema(db, path)
    // SQLite finds a damaged page only when it reads it: a quick check reads them all now, rather
    // than at the first query of an old reading, months later.
    // SQLite's report may span lines ("*** in database main ***\nTree 35 page 35: …"): the refusal is one line.
    const problems = db.pragma('quick_check(5)', { simple: false }) as { quick_check: string }[]
    if (problems[0]?.quick_check !== 'ok')
      throw new PrintwardenError(
        'PW_ERR_DB_CORRUPT',
        `the database ${path} is damaged (${problems.map((p) => p.quick_check.replace(/\s+/g, ' ').trim()).join('; ')}): stop printwarden and restore it from a backup (README, "Backup and restore")`,
      )
    migrate(db)
  } catch (err) {
    db?.close()
    if (created) for (const f of ['', '-wal', '-shm']) rmSync(`${path}${f}`, { force: true })
    throw storageError(err, path, `opening the database ${path}`)
  }
  return db
}

/**
 * A new database is made under another name and renamed once its schema is in: a crash while it
 * is made leaves no empty printwarden.db, which the next start would refuse.
 */
function createDatabase(path: string): void {
  const temp = `${path}.new`
  rmSync(temp, { force: true })
  const db = new Database(temp)
  try {
    migrate(db)
  } finally {
    db.close()
  }
  renameSync(temp, path)
}

function checkSchema(db: Database.Database, path: string): void {
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

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string)
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
}
