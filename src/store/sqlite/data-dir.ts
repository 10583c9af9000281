/**
 * The data directory before the database is opened: is it there (or may it be made), is another
 * printwarden using it, and is the database file whole. Each answer that stops the start is a coded
 * error that names the path and says what to do, in one line.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { PrintwardenError } from '../../errors.ts'

export const LOCK_FILE = 'printwarden.lock'
export const PID_FILE = 'printwarden.pid'
const BACKUP_HINT = 'restore it from a backup (README, "Backup and restore")'

/** The remedy for each kind of failure the file system or SQLite reports. */
function remedy(code: string, path: string): string {
  if (code === 'SQLITE_FULL' || code === 'ENOSPC')
    return `the disk that holds ${path} is full: free some space; printwarden takes readings again once it can write`
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
    return `${path} cannot be written (read-only file system or permissions): make it writable, or give --data-dir another directory`
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB')
    return `${path} is damaged: stop printwarden and ${BACKUP_HINT}`
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOENT')
    return `${path} cannot be opened: check that the directory exists and can be written`
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO')
    return `reading or writing ${path} failed (an I/O error: the disk or the mount): check the disk and the system log`
  return `check ${path} (its disk, its permissions)`
}

/**
 * A storage failure as a coded error: what was being done, the path, the cause's code, and the
 * remedy. An error that is coded already passes through unchanged.
 */
export function storageError(err: unknown, path: string, doing: string): PrintwardenError {
  if (err instanceof PrintwardenError) return err
  const code = String((err as { code?: unknown }).code ?? 'unknown')
  const corrupt = code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB'
  return new PrintwardenError(
    corrupt ? 'PW_ERR_DB_CORRUPT' : 'PW_ERR_STORAGE',
    `${doing} failed (${code}: ${(err as Error).message}); ${remedy(code, path)}`,
    503,
  )
}

/**
 * Makes sure the data directory exists. A missing one is made only when `create` is true (the
 * default `./data`, or `--init`): a mistyped --data-dir must never start an empty service.
 * Returns whether it was made here, so that a start that fails can take it away again.
 */
export function prepareDataDir(dir: string, create: boolean): boolean {
  let made = false
  if (!existsSync(dir)) {
    if (!create)
      throw new PrintwardenError(
        'PW_ERR_DATA_DIR',
        `the data directory ${resolve(dir)} does not exist: check --data-dir for a typo, or add --init to create it`,
      )
    try {
      mkdirSync(dir, { recursive: true })
      made = true
    } catch (err) {
      throw storageError(err, dir, `creating the data directory ${resolve(dir)}`)
    }
  }
  if (!statSync(dir).isDirectory())
    throw new PrintwardenError(
      'PW_ERR_DATA_DIR',
      `the data directory ${resolve(dir)} is not a directory: give --data-dir a directory`,
    )
  try {
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw storageError(err, resolve(dir), `checking the data directory ${resolve(dir)}`)
  }
  return made
}

/**
 * One printwarden per data directory. The lock is an OS lock (SQLite's fcntl lock on a file of its
 * own, held by an open exclusive transaction), so the kernel drops it when the process ends, even
 * by kill -9: a stale lock cannot block the next start. The PID beside it is only for the message.
 */
export class DataDirLock {
  private db: Database.Database | null = null

  constructor(private readonly dir: string) {}

  acquire(): void {
    const path = join(this.dir, LOCK_FILE)
    let db: Database.Database
    try {
      db = new Database(path, { timeout: 0 })
    } catch (err) {
      throw storageError(err, path, `taking the lock ${path}`)
    }
    try {
      db.exec('BEGIN EXCLUSIVE')
    } catch (err) {
      db.close()
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        let pid = 'unknown'
        try {
          pid = readFileSync(join(this.dir, PID_FILE), 'utf8').trim() || pid
        } catch {
          // the other one is between its lock and its PID file
        }
        throw new PrintwardenError(
          'PW_ERR_DATA_DIR_LOCKED',
          `the data directory ${resolve(this.dir)} is in use by another printwarden (PID ${pid}): stop that one first, or give this one another --data-dir`,
        )
      }
      throw storageError(err, path, `taking the lock ${path}`)
    }
    this.db = db
    try {
      writeFileSync(join(this.dir, PID_FILE), `${process.pid}\n`)
    } catch (err) {
      this.release()
      throw storageError(err, this.dir, `writing ${PID_FILE} in ${resolve(this.dir)}`)
    }
  }

  /** Gives the directory up. `remove` takes the lock file too (a start that failed leaves nothing). */
  release(remove = false): void {
    if (!this.db) return
    rmSync(join(this.dir, PID_FILE), { force: true })
    this.db.close()
    this.db = null
    if (remove) rmSync(join(this.dir, LOCK_FILE), { force: true })
  }
}

const HEADER = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * Refuses a database file that is empty, truncated or not SQLite at all, before SQLite would take it
 * (it takes a 0-byte file as a new, empty database). Reads only the 100-byte header.
 */
export function checkDatabaseFile(path: string): void {
  const size = statSync(path).size
  const refuse = (what: string) =>
    new PrintwardenError(
      'PW_ERR_DB_CORRUPT',
      `the database ${resolve(path)} ${what} (${size} bytes): if it held data, ${BACKUP_HINT}; if it never did, delete it and start again`,
    )
  if (size === 0) throw refuse('is empty')
  const header = Buffer.alloc(100)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, header, 0, 100, 0)
  } finally {
    closeSync(fd)
  }
  if (size < 100 || !header.subarray(0, 16).equals(HEADER)) throw refuse('is not a SQLite database')
  const raw = header.readUInt16BE(16)
  const pageSize = raw === 1 ? 65536 : raw
  const pages = header.readUInt32BE(28)
  // The page count in the header is valid when its "version valid for" matches the change counter.
  const counted = header.readUInt32BE(92) === header.readUInt32BE(24)
  if (counted && size < pages * pageSize)
    throw refuse(`is truncated: its header counts ${pages} pages of ${pageSize} bytes`)
  if (size % pageSize !== 0) throw refuse(`is truncated: it is not a whole number of ${pageSize}-byte pages`)
}
