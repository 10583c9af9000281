/**
 * A consistent copy of a data directory, taken while the service runs: the database through
 * SQLite's online backup (page by page, each step a consistent read of the WAL database), and the
 * other files the service keeps (the inventory, and whatever else lives beside the database),
 * copied as they are. Locks, PID files and SQLite's -wal and -shm files are not part of a backup.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { PrintwardenError } from '../../errors.ts'
import { checkDatabaseFile, LOCK_FILE, PID_FILE, storageError } from './data-dir.ts'
import { DB_FILE } from './sqlite-store.ts'

export interface BackupReport {
  target: string
  files: string[]
  readings: number
  actions: number
}

const SKIPPED = new Set([LOCK_FILE, PID_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}.new`])

export async function backupDataDir(dataDir: string, target: string): Promise<BackupReport> {
  const source = join(dataDir, DB_FILE)
  if (!existsSync(source))
    throw new PrintwardenError(
      'PW_ERR_DATA_DIR',
      `there is no database at ${resolve(source)}: give --data-dir the service's data directory`,
    )
  if (existsSync(join(target, DB_FILE)))
    throw new PrintwardenError(
      'PW_ERR_DATA_DIR',
      `${resolve(target)} holds a backup already: give the backup an empty or new directory`,
    )
  checkDatabaseFile(source)
  try {
    mkdirSync(target, { recursive: true })
  } catch (err) {
    throw storageError(err, target, `creating the backup directory ${resolve(target)}`)
  }
  const db = new Database(source, { fileMustExist: true })
  const files: string[] = []
  try {
    await db.backup(join(target, DB_FILE))
    files.push(DB_FILE)
  } catch (err) {
    throw storageError(err, target, `backing up ${source} to ${resolve(target)}`)
  } finally {
    db.close()
  }
  for (const name of readdirSync(dataDir)) {
    if (name === DB_FILE || SKIPPED.has(name) || !statSync(join(dataDir, name)).isFile()) continue
    try {
      copyFileSync(join(dataDir, name), join(target, name))
    } catch (err) {
      throw storageError(err, target, `copying ${name} to ${resolve(target)}`)
    }
    files.push(name)
  }
  // The copy is read back before it is called a backup.
  const copy = new Database(join(target, DB_FILE), { readonly: true, fileMustExist: true })
  try {
    const check = copy.pragma('quick_check', { simple: true })
    if (check !== 'ok')
      throw new PrintwardenError(
        'PW_ERR_DB_CORRUPT',
        `the backup in ${resolve(target)} does not read back: ${check}`,
      )
    const count = (table: string) => copy.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number
    return { target: resolve(target), files, readings: count('readings'), actions: count('actions') }
  } finally {
    copy.close()
  }
}
