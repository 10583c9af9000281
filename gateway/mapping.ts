/**
 * From what a printer answered over SNMP to the contract's reading and birth. Pure: the values
 * fetched, the printer's profile and the instant in; the reading, the birth and what was wrong
 * with the answer out. Nothing a printer sends can make it throw: what cannot be read is left out
 * and named in `warnings`. gateway/README.md documents every rule here.
 */
import type { Birth, WireReading } from '../src/contract/schemas.ts'
import {
  ALERT_CODES,
  ALERT_SEVERITY,
  DEVICE_STATUS,
  ERROR_BITS,
  EVENT_ALERT_CODES,
  HR_DEVICE,
  HR_DEVICE_ENTRY,
  HR_DEVICE_PRINTER,
  HR_PRINTER,
  HR_PRINTER_ENTRY,
  PRINTER_STATUS,
  PRT_ALERT,
  PRT_ALERT_ENTRY,
  PRT_COLORANT,
  PRT_COLORANT_ENTRY,
  PRT_GENERAL_SERIAL,
  PRT_MARKER_LIFE_COUNT,
  PRT_SUPPLIES,
  PRT_SUPPLIES_ENTRY,
  SPECIAL,
  SUPPLY_TYPE,
  SYSTEM,
  WASTE_ALERT,
} from './oids.ts'
import type { Profile } from './profiles.ts'

/** A value as the SNMP layer hands it on: numbers, octet strings as bytes, OIDs as text. */
export type SnmpValue = number | string | Buffer

/** Everything one poll fetched, by OID without the leading dot. */
export type Snapshot = ReadonlyMap<string, SnmpValue>

export type Reading = Omit<WireReading, 'seq'>

export interface Mapped {
  /** null when the answer held nothing a reading can carry. */
  reading: Reading | null
  birth: Birth
  warnings: string[]
}

const COLOR_NAME = /^[a-z][a-zA-Z0-9]{0,31}$/
/** Names built into JavaScript objects: the contract never takes them as colours. */
const BUILT_IN = new Set(Object.getOwnPropertyNames(Object.prototype))
const KNOWN_COLORS = ['black', 'cyan', 'magenta', 'yellow', 'red', 'green', 'blue', 'gray', 'grey', 'white']

const text = (v: SnmpValue | undefined): string | undefined => {
  if (v === undefined) return undefined
  const s = (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)).replace(/\0+$/, '').trim()
  return s === '' ? undefined : s
}
const int = (v: SnmpValue | undefined): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) ? v : undefined

/** One column of a table entry: index suffix (e.g. `1.3`) → value. */
function column(s: Snapshot, entry: string, col: number): Map<string, SnmpValue> {
  const prefix = `${entry}.${col}.`
  const out = new Map<string, SnmpValue>()
  for (const [oid, v] of s) if (oid.startsWith(prefix)) out.set(oid.slice(prefix.length), v)
  return out
}

function hasSubtree(s: Snapshot, prefix: string): boolean {
  for (const oid of s.keys()) if (oid.startsWith(`${prefix}.`)) return true
  return false
}

/** The printer's hrDeviceIndex: the device typed hrDevicePrinter, else the first hrPrinterTable row. */
export function printerIndex(s: Snapshot): string {
  for (const [index, type] of column(s, HR_DEVICE_ENTRY, HR_DEVICE.type))
    if (type === HR_DEVICE_PRINTER) return index
  const first = column(s, HR_PRINTER_ENTRY, HR_PRINTER.status).keys().next()
  return first.done ? '1' : first.value
}

/** A colorant's name in the contract's form: `light cyan` → `lightCyan`; null if it cannot be one. */
export function colorName(raw: string): string | null {
  const words = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w !== '')
  if (words.length === 0) return null
  const name = words.map((w, i) => (i === 0 ? w : w[0]?.toUpperCase() + w.slice(1))).join('')
  return COLOR_NAME.test(name) && !BUILT_IN.has(name) ? name : null
}

/** The colour a supply's description names, for supplies without a colorant (`Black Toner`). */
function colorFromDescription(descr: string | undefined): string | null {
  if (!descr) return null
  const lower = descr.toLowerCase()
  for (const c of KNOWN_COLORS) if (new RegExp(`\\b${c}\\b`).test(lower)) return c === 'grey' ? 'gray' : c
  return null
}

function bit(bytes: Buffer, n: number): boolean {
  const byte = bytes[n >> 3]
  return byte !== undefined && (byte & (0x80 >> (n & 7))) !== 0
}

function status(s: Snapshot, device: string): WireReading['status'] | undefined {
  const dev = int(s.get(`${HR_DEVICE_ENTRY}.${HR_DEVICE.status}.${device}`))
  const prt = int(s.get(`${HR_PRINTER_ENTRY}.${HR_PRINTER.status}.${device}`))
  const errRaw = s.get(`${HR_PRINTER_ENTRY}.${HR_PRINTER.errorState}.${device}`)
  const errs = Buffer.isBuffer(errRaw) ? errRaw : Buffer.alloc(0)
  if (bit(errs, ERROR_BITS.serviceRequested)) return 'error'
  if (dev === DEVICE_STATUS.down) return 'stopped'
  if (dev === DEVICE_STATUS.warning || dev === DEVICE_STATUS.testing) return 'warning'
  if (prt === PRINTER_STATUS.printing) return 'printing'
  if (prt === PRINTER_STATUS.idle || prt === PRINTER_STATUS.warmup) return 'ready'
  // A running printer that says "other" is in power save: the common reading of RFC 2790's status.
  if (prt === PRINTER_STATUS.other) return dev === DEVICE_STATUS.running ? 'sleep' : undefined
  return undefined
}

interface Alert {
  code: string
  severity: 'critical' | 'warning' | 'info'
  text?: string
  /** prtAlertCode, for the waste box's state. */
  mibCode: number | undefined
}

const RANK = { critical: 3, warning: 2, info: 1 } as const

function alerts(s: Snapshot, device: string, profile: Profile, warnings: string[]): Alert[] {
  const severities = column(s, PRT_ALERT_ENTRY, PRT_ALERT.severity)
  const codes = column(s, PRT_ALERT_ENTRY, PRT_ALERT.code)
  const descriptions = column(s, PRT_ALERT_ENTRY, PRT_ALERT.description)
  const byCode = new Map<string, Alert>()
  for (const [index, sev] of severities) {
    if (!index.startsWith(`${device}.`)) continue
    const mibCode = int(codes.get(index))
    if (mibCode !== undefined && EVENT_ALERT_CODES.has(mibCode)) continue
    const description = text(descriptions.get(index))?.slice(0, 1024)
    const vendor = description && profile.alertCodePattern?.exec(description)?.[1]
    const code = (
      vendor || (mibCode === undefined ? 'alert' : (ALERT_CODES[mibCode] ?? `prtAlertCode-${mibCode}`))
    ).slice(0, 64)
    const severity =
      sev === ALERT_SEVERITY.critical
        ? 'critical'
        : sev === ALERT_SEVERITY.warning || sev === ALERT_SEVERITY.warningBinaryChangeEvent
          ? 'warning'
          : 'info'
    if (typeof sev !== 'number') warnings.push(`prtAlertSeverityLevel.${index} is not a number`)
    const alert: Alert = { code, severity, mibCode, ...(description ? { text: description } : {}) }
    const before = byCode.get(code)
    if (!before || RANK[severity] > RANK[before.severity]) byCode.set(code, alert)
  }
  return [...byCode.values()]
}

interface Supply {
  index: string
  type: number | undefined
  colorant: number | undefined
  description: string | undefined
  max: number | undefined
  level: number | undefined
}

function supplies(s: Snapshot, device: string): Supply[] {
  const types = column(s, PRT_SUPPLIES_ENTRY, PRT_SUPPLIES.type)
  const out: Supply[] = []
  const at = (col: number, index: string) => s.get(`${PRT_SUPPLIES_ENTRY}.${col}.${index}`)
  for (const [index, type] of types) {
    if (!index.startsWith(`${device}.`)) continue
    out.push({
      index,
      type: int(type),
      colorant: int(at(PRT_SUPPLIES.colorantIndex, index)),
      description: text(at(PRT_SUPPLIES.description, index)),
      max: int(at(PRT_SUPPLIES.maxCapacity, index)),
      level: int(at(PRT_SUPPLIES.level, index)),
    })
  }
  return out
}

/** Why a level cannot be a percentage, or null when it can. */
function unreadable(level: number | undefined, max: number | undefined): string | null {
  if (level === undefined) return 'no level'
  if (level === SPECIAL.unknown) return 'level unknown (-2)'
  if (level === SPECIAL.other) return 'level other (-1)'
  if (level === SPECIAL.someRemaining) return 'some remaining (-3)'
  if (level < 0) return `level ${level}`
  if (max === undefined) return 'no maximum capacity'
  if (max === 0) return 'maximum capacity 0'
  if (max < 0) return `maximum capacity ${max === SPECIAL.unknown ? 'unknown (-2)' : max}`
  return null
}

function sumOf(s: Snapshot, oids: readonly string[] | undefined, warnings: string[], what: string) {
  if (!oids || oids.length === 0) return undefined
  let sum = 0
  for (const oid of oids) {
    const v = int(s.get(oid))
    if (v === undefined || v < 0) {
      warnings.push(`${what} counter ${oid} gave no count`)
      return undefined
    }
    sum += v
  }
  return sum
}

export function mapSnapshot(s: Snapshot, profile: Profile, ts: string): Mapped {
  const warnings: string[] = []
  const device = printerIndex(s)
  const reading: Reading = { ts }
  let fields = 0

  // Toner, by colour.
  const colorants = column(s, PRT_COLORANT_ENTRY, PRT_COLORANT.value)
  const all = supplies(s, device)
  if (!hasSubtree(s, PRT_SUPPLIES_ENTRY)) warnings.push('no prtMarkerSuppliesTable: no toner or waste box')
  const toner: Record<string, number> = {}
  for (const sup of all.filter((x) => x.type === SUPPLY_TYPE.toner)) {
    const named = sup.colorant ? text(colorants.get(`${device}.${sup.colorant}`)) : undefined
    const color = named ? colorName(named) : colorFromDescription(sup.description)
    if (!color) {
      warnings.push(`supply ${sup.index} (${sup.description ?? 'toner'}) names no colour: left out`)
      continue
    }
    const why = unreadable(sup.level, sup.max)
    if (why) {
      // Not a number: the colour stays out of `toner`; the printer's alerts still say what it knows.
      if (sup.level !== SPECIAL.someRemaining && sup.level !== SPECIAL.unknown)
        warnings.push(`${color} toner: ${why}: left out`)
      continue
    }
    const level = sup.level as number
    const max = sup.max as number
    if (level > max) {
      warnings.push(`${color} toner: level ${level} above its maximum ${max}: left out`)
      continue
    }
    const percent = Math.round((level / max) * 100)
    toner[color] = Math.min(toner[color] ?? 100, percent)
  }
  if (Object.keys(toner).length > 0) {
    reading.toner = toner
    fields++
  }

  const found = alerts(s, device, profile, warnings)
  // An empty prtAlertTable walks as nothing: a printer that speaks the Printer MIB and lists no
  // alert has none active, and `[]` says so (the service resolves the faults it had).
  const printerMib = [PRT_ALERT_ENTRY, PRT_SUPPLIES_ENTRY, PRT_MARKER_LIFE_COUNT, HR_PRINTER_ENTRY]
  if (found.length > 0 || printerMib.some((p) => hasSubtree(s, p))) {
    reading.errors = found.map(({ code, severity, text }) => ({
      code,
      severity,
      ...(text === undefined ? {} : { text }),
    }))
    fields++
  }

  // The waste box: a fill where the printer counts it, else a state from its alerts.
  const waste = all.find((x) => x.type === SUPPLY_TYPE.wasteToner)
  if (waste) {
    const why = unreadable(waste.level, waste.max)
    const level = waste.level as number
    const max = waste.max as number
    const alertState = found.some((a) => a.mibCode === WASTE_ALERT.full)
      ? 'full'
      : found.some((a) => a.mibCode === WASTE_ALERT.almostFull)
        ? 'nearFull'
        : null
    if (!why && level <= max) {
      const filled = profile.wasteLevel === 'filled' ? level : max - level
      reading.wasteBox = Math.round((filled / max) * 100)
      fields++
    } else if (alertState) {
      reading.wasteBox = alertState
      fields++
    } else if (waste.level === SPECIAL.someRemaining) {
      reading.wasteBox = 'ok'
      fields++
    } else if (!why) {
      warnings.push(`waste box: level ${level} above its maximum ${max}: left out`)
    } else if (waste.level !== SPECIAL.unknown) {
      warnings.push(`waste box: ${why}: left out`)
    }
  }

  // Page counters.
  let total: number | undefined
  const lifePrefix = `${PRT_MARKER_LIFE_COUNT}.${device}.`
  for (const [oid, v] of s) {
    if (!oid.startsWith(lifePrefix)) continue
    const n = int(v)
    if (n === undefined || n < 0)
      warnings.push(`prtMarkerLifeCount.${oid.slice(PRT_MARKER_LIFE_COUNT.length + 1)} is not a count`)
    else total = (total ?? 0) + n
  }
  if (total === undefined && !hasSubtree(s, PRT_MARKER_LIFE_COUNT))
    warnings.push('no prtMarkerLifeCount: no page counter')
  if (total !== undefined) {
    const mono = sumOf(s, profile.counters?.mono, warnings, 'mono')
    const color = sumOf(s, profile.counters?.color, warnings, 'colour')
    reading.counters = {
      total,
      ...(mono === undefined ? {} : { mono }),
      ...(color === undefined ? {} : { color }),
    }
    fields++
  }

  const st = status(s, device)
  if (st) {
    reading.status = st
    fields++
  }

  // The birth.
  const sysDescr = text(s.get(SYSTEM.sysDescr))
  const hrDescr = text(s.get(`${HR_DEVICE_ENTRY}.${HR_DEVICE.descr}.${device}`))
  const modelRaw = hrDescr ?? sysDescr
  const model = modelRaw
    ? (profile.modelStripPattern ? modelRaw.replace(profile.modelStripPattern, '') : modelRaw).slice(0, 128)
    : undefined
  const serial = text(s.get(`${PRT_GENERAL_SERIAL}.${device}`))?.slice(0, 128)
  const location = (text(s.get(SYSTEM.sysLocation)) ?? text(s.get(SYSTEM.sysName)))?.slice(0, 256)
  const contact = text(s.get(SYSTEM.sysContact))?.slice(0, 256)
  const birth: Birth = {
    ...(profile.vendor ? { vendor: profile.vendor } : {}),
    ...(model ? { model } : {}),
    ...(serial ? { serial } : {}),
    ...(location ? { location } : {}),
    ...(contact ? { contact } : {}),
  }
  return { reading: fields > 0 ? reading : null, birth, warnings }
}
