/**
 * How printwarden lays out its data in InfluxDB 1.x, for Grafana and for cardinality: what is few
 * and is grouped by (site, device, vendor, model; an action's type and status) is a tag; what is
 * measured (levels, counters, states) is a field. Every point carries its own timestamp, so a
 * write that is retried overwrites itself instead of doubling.
 */
import type { IPoint } from 'influx'
import type { Action, Birth } from '../../contract/schemas.ts'
import type { Reading } from '../../domain/reading.ts'

export const MEASUREMENTS = {
  reading: 'reading',
  readingHourly: 'reading_1h',
  readingDaily: 'reading_1d',
  action: 'action_event',
  fleet: 'fleet',
} as const

/** Retention policies: raw readings for 400 days (a year of monthly reports and some), rollups longer. */
export const RETENTION = [
  { name: 'raw', duration: '400d', isDefault: true },
  { name: 'hourly', duration: '730d', isDefault: false },
  { name: 'daily', duration: 'INF', isDefault: false },
] as const

/** Rollups: the last value of every field per device and hour / day (counters are lifetime totals). */
export const ROLLUPS = [
  { cq: 'cq_reading_1h', rp: 'hourly', into: MEASUREMENTS.readingHourly, every: '1h', resampleFor: '2h' },
  { cq: 'cq_reading_1d', rp: 'daily', into: MEASUREMENTS.readingDaily, every: '1d', resampleFor: '2d' },
] as const

export function rollupSelect(r: (typeof ROLLUPS)[number], where = ''): string {
  return `SELECT last(*) INTO "${r.rp}"."${r.into}" FROM "raw"."${MEASUREMENTS.reading}" ${where} GROUP BY time(${r.every}), *`
}

/** A tag value as line protocol takes it: no control characters, not empty, not endless. */
const tag = (v: string | undefined) => {
  const printable = [...(v ?? '')].map((ch) => (ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127 ? ' ' : ch))
  const clean = printable.join('').trim().slice(0, 128)
  return clean === '' ? 'unknown' : clean
}

/** One reading as one point. Numbers are written as floats, always, so a field never changes type. */
export function readingPoint(r: Reading, birth: Birth): IPoint {
  const fields: Record<string, number | string> = {}
  if (r.seq !== undefined) fields.seq = r.seq
  for (const [color, level] of Object.entries(r.toner ?? {})) fields[`toner_${color}`] = level
  if (typeof r.wasteBox === 'number') fields.waste_fill = r.wasteBox
  else if (r.wasteBox !== undefined) fields.waste_state = r.wasteBox
  if (r.counters) {
    fields.counter_total = r.counters.total
    if (r.counters.mono !== undefined) fields.counter_mono = r.counters.mono
    if (r.counters.color !== undefined) fields.counter_color = r.counters.color
  }
  if (r.status !== undefined) fields.status = r.status
  if (r.errors !== undefined) {
    fields.errors = JSON.stringify(r.errors)
    fields.error_count = r.errors.length
    fields.critical_count = r.errors.filter((e) => e.severity === 'critical').length
  }
  // A reading whose fields say nothing InfluxDB can keep (`"toner": {}`) still marks that the device
  // was heard from.
  if (Object.keys(fields).length === 0) fields.heard = 1
  return {
    measurement: MEASUREMENTS.reading,
    tags: { site: r.siteId, device: r.deviceId, vendor: tag(birth.vendor), model: tag(birth.model) },
    fields,
    timestamp: r.ts,
  }
}

type Row = Record<string, unknown> & { time: Date }

/** A point read back as the reading it was written from. */
export function rowToReading(row: Row): Reading {
  const r: Reading = { deviceId: String(row.device), siteId: String(row.site), ts: row.time.getTime() }
  const num = (k: string) => (typeof row[k] === 'number' ? (row[k] as number) : undefined)
  const seq = num('seq')
  if (seq !== undefined) r.seq = seq
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith('toner_') && typeof v === 'number') {
      r.toner ??= {}
      r.toner[k.slice('toner_'.length)] = v
    }
  }
  const fill = num('waste_fill')
  if (fill !== undefined) r.wasteBox = fill
  else if (typeof row.waste_state === 'string') r.wasteBox = row.waste_state as Reading['wasteBox']
  const total = num('counter_total')
  if (total !== undefined) {
    r.counters = { total }
    const mono = num('counter_mono')
    const color = num('counter_color')
    if (mono !== undefined) r.counters.mono = mono
    if (color !== undefined) r.counters.color = color
  }
  if (typeof row.status === 'string') r.status = row.status as Reading['status']
  if (typeof row.errors === 'string') r.errors = JSON.parse(row.errors) as Reading['errors']
  return r
}

/** An action change as an event, for Grafana annotations. */
export function actionPoint(a: Action): IPoint {
  return {
    measurement: MEASUREMENTS.action,
    tags: {
      site: a.siteId,
      // An action about a whole site is tagged with no device.
      ...(a.deviceId === undefined ? {} : { device: a.deviceId }),
      type: a.type,
      status: a.status,
      rule: a.rule,
    },
    fields: { id: a.id, title: `${a.type} ${a.status}`, details: JSON.stringify(a.details) },
    timestamp: Date.parse(a.updatedAt),
  }
}

export interface FleetFacts {
  devices: number
  reportingLastHour: number
  silentOver5Days: number
  unresolved: Record<string, number>
}

/** A snapshot of the fleet, for the overview dashboard's counters. */
export function fleetPoint(f: FleetFacts, at: number): IPoint {
  const fields: Record<string, number> = {
    devices: f.devices,
    reporting_1h: f.reportingLastHour,
    silent_5d: f.silentOver5Days,
    unresolved_total: Object.values(f.unresolved).reduce((a, b) => a + b, 0),
  }
  for (const [type, n] of Object.entries(f.unresolved)) fields[`unresolved_${type.replace(/-/g, '_')}`] = n
  return { measurement: MEASUREMENTS.fleet, fields, timestamp: at }
}
