/** A real SQLite store in a temp dir, stopped and removed by the cleanup it adds to `cleanups`. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'

export async function tempStore(
  cleanups: (() => Promise<void>)[],
  prefix = 'pw-store-',
): Promise<SqliteStore> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const store = new SqliteStore(dir)
  await store.start()
  cleanups.push(async () => {
    await store.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return store
}
