/** The SQL of the embedded store: its prepared statements, its rows as the contract's records, tenant scope as SQL. */
import type Database from 'better-sqlite3'
import type { Scope } from '../../access/permissions.ts'
import type { Action, Birth } from '../../contract/schemas.ts'
import type { DeviceState } from '../../domain/device-state.ts'
import type { DeviceRecord } from '../store.ts'

export interface ActionRow {
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

export const toAction = (r: ActionRow): Action => ({
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

export interface DeviceRow {
  device_id: string
  site_id: string
  birth: string
  state: string | null
}

export const toDevice = (r: DeviceRow): DeviceRecord => ({
  deviceId: r.device_id,
  siteId: r.site_id,
  birth: JSON.parse(r.birth) as Birth,
  state: r.state === null ? null : (JSON.parse(r.state) as DeviceState),
})

/**
 * Tenant scope (Access) as a WHERE clause: a row is in scope when its site and its device are; a
 * site-level row (no device) when its site is. Applied inside the query, never after it.
 */
export function scopeWhere(
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

export const ACTION_COLUMNS = 'id, type, device_id, site_id, status, rule, created_at, updated_at, details'

export function prepareStatements(db: Database.Database) {
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
    compact: db.prepare("UPDATE readings SET body = '' WHERE position <= ? AND position > ? AND body != ''"),
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
    setPublishedFor: db.prepare('UPDATE gateways SET published_for = ? WHERE site_id = ? AND gateway_id = ?'),
    gateways: db.prepare(
      'SELECT site_id, gateway_id, state, since, devices, published_for, software, received_at FROM gateways ORDER BY site_id, gateway_id',
    ),
  }
}

export type Statements = ReturnType<typeof prepareStatements>
