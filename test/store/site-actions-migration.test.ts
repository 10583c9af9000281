/**
 * The schema step that gives site actions no device: a data directory written before it (a stock
 * count riding on the site's first device) opens with that action moved to the site.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts'
import { DB_FILE, SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/service-process.ts'

const BEFORE_SITE_SCOPE = 2
const AT = Date.UTC(2026, 6, 1, 9)

describe('the site-scope migration', () => {
  const dirs: { remove: () => void }[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove()
  })

  it('moves an existing stock count off its anchor device onto the site, and keeps device actions', async () => {
    const dir = tempDir()
    dirs.push(dir)
    const db = new Database(join(dir.path, DB_FILE))
    for (const step of MIGRATIONS.slice(0, BEFORE_SITE_SCOPE)) db.exec(step)
    db.pragma(`user_version = ${BEFORE_SITE_SCOPE}`)
    const insert = db.prepare(
      `INSERT INTO actions (id, dedup_key, type, device_id, site_id, status, rule, subject, episode, created_at, updated_at, details)
       VALUES (?, ?, ?, ?, 'kit-site', 'open', ?, ?, ?, ?, ?, '{}')`,
    )
    insert.run(
      'a-stock',
      'stock-reconciliation\u0000\u0000stock:kit-site\u0000h2026-H2',
      'stock-reconciliation',
      'KIT-1',
      'stock-reconciliation',
      'stock:kit-site',
      'h2026-H2',
      AT,
      AT,
    )
    insert.run(
      'a-toner',
      'reorder\u0000KIT-1\u0000toner:black\u0000c1',
      'reorder',
      'KIT-1',
      'toner-reorder',
      'toner:black',
      'c1',
      AT,
      AT,
    )
    db.close()

    const store = new SqliteStore(dir.path)
    await store.start()
    try {
      const stock = await store.action('a-stock')
      expect(stock).not.toBeNull()
      expect(stock).not.toHaveProperty('deviceId')
      expect(stock?.siteId).toBe('kit-site')
      expect((await store.action('a-toner'))?.deviceId).toBe('KIT-1')
      expect((await store.actions({ deviceId: 'KIT-1', limit: 10 })).map((a) => a.id)).toEqual(['a-toner'])
      const site = await store.unresolvedSiteActions(['kit-site'])
      expect(site.get('kit-site')?.map((a) => [a.id, a.deviceId])).toEqual([['a-stock', null]])
      expect((await store.unresolvedActions(['KIT-1'])).get('KIT-1')?.map((a) => a.id)).toEqual(['a-toner'])
    } finally {
      await store.stop()
    }
  })
})
