import type { Static } from '@sinclair/typebox'
import type {
  Counters as CountersSchema,
  DeviceError,
  DeviceStatus,
  WasteBoxState,
  WireReading,
} from '../contract/schemas.ts'

export type WasteBoxReport = Static<typeof WasteBoxState> | number
export type Status = Static<typeof DeviceStatus>
export type ActiveError = Static<typeof DeviceError>
export type Counters = Static<typeof CountersSchema>

/** A reading after validation: the contract's fields, its device named, its time in epoch milliseconds. */
export type Reading = Omit<WireReading, 'ts'> & {
  deviceId: string
  siteId: string
  ts: number
}

const ISO_PARTS =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/

/** Date.parse rolls 30 February over to 2 March; a reading's time must be a real one. */
function isRealIsoDate(ts: string): boolean {
  const m = ISO_PARTS.exec(ts)
  if (!m) return false
  const [, year, month, day, hour, minute, second = '0', offH = '0', offM = '0'] = m
  const mo = Number(month)
  const daysInMonth = new Date(Date.UTC(Number(year), mo, 0)).getUTCDate()
  return (
    mo >= 1 &&
    mo <= 12 &&
    Number(day) >= 1 &&
    Number(day) <= daysInMonth &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offH) <= 23 &&
    Number(offM) <= 59
  )
}

/** Epoch milliseconds of a contract timestamp (ISO 8601 with a zone, or epoch ms); NaN if it is no real date. */
export function toEpochMs(ts: string | number): number {
  if (typeof ts === 'number') return ts
  return isRealIsoDate(ts) ? Date.parse(ts) : Number.NaN
}

/** Copies the contract's fields of a validated wire reading, and nothing else (unknown fields are ignored). */
export function normalizeReading(siteId: string, deviceId: string, wire: WireReading, ts: number): Reading {
  const r: Reading = { deviceId, siteId, ts }
  if (wire.seq !== undefined) r.seq = wire.seq
  if (wire.toner !== undefined) r.toner = wire.toner
  if (wire.wasteBox !== undefined) r.wasteBox = wire.wasteBox
  if (wire.counters !== undefined) {
    const { total, mono, color } = wire.counters
    r.counters = { total }
    if (mono !== undefined) r.counters.mono = mono
    if (color !== undefined) r.counters.color = color
  }
  if (wire.status !== undefined) r.status = wire.status
  if (wire.errors !== undefined) {
    r.errors = wire.errors.map(({ code, severity, text }) =>
      text === undefined ? { code, severity } : { code, severity, text },
    )
  }
  return r
}

/**
 * A reading carries `ts` and at least one other field of the contract. `{ ts, seq }` alone is a
 * heartbeat: it says the device is there, which is what silence rules want to know.
 */
export function hasContent(wire: WireReading): boolean {
  return (
    wire.seq !== undefined ||
    wire.toner !== undefined ||
    wire.wasteBox !== undefined ||
    wire.counters !== undefined ||
    wire.status !== undefined ||
    wire.errors !== undefined
  )
}

/** The contract's wire shape of a stored reading, its time in ISO 8601 UTC. */
export function toWire(r: Reading): Omit<Reading, 'deviceId' | 'siteId' | 'ts'> & { ts: string } {
  const { deviceId: _d, siteId: _s, ts, ...fields } = r
  return { ts: new Date(ts).toISOString(), ...fields }
}
