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

/** A reading after validation: its device named, its time in epoch milliseconds. */
export interface Reading {
  deviceId: string
  siteId: string
  ts: number
  seq?: number
  toner?: Record<string, number>
  wasteBox?: WasteBoxReport
  counters?: Counters
  status?: Status
  errors?: ActiveError[]
}

/** Epoch milliseconds of a contract timestamp (ISO 8601 with a zone, or epoch ms); NaN if it is no date. */
export function toEpochMs(ts: string | number): number {
  return typeof ts === 'number' ? ts : Date.parse(ts)
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

/** A reading must say something besides its time. */
export function hasContent(wire: WireReading): boolean {
  return (
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
