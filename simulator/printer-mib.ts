/**
 * What a printer says over SNMP, as rows of OIDs: the system group, the Host Resources MIB's device
 * and printer entries, and the Printer MIB's supplies, colorants, counters and alerts. The simulated
 * SNMP printers serve these rows (snmp-agents.ts), and the gateway's tests hand the same rows to
 * Debian's snmpd. Pure: the printer's face in, the rows out.
 */
import {
  HR_DEVICE,
  HR_DEVICE_ENTRY,
  HR_DEVICE_PRINTER,
  HR_PRINTER,
  HR_PRINTER_ENTRY,
  PRT_ALERT,
  PRT_ALERT_ENTRY,
  PRT_COLORANT,
  PRT_COLORANT_ENTRY,
  PRT_GENERAL_SERIAL,
  PRT_MARKER_LIFE_COUNT,
  PRT_SUPPLIES,
  PRT_SUPPLIES_ENTRY,
  SUPPLY_TYPE,
  SYSTEM,
} from '../gateway/oids.ts'

export type MibType = 'integer' | 'string' | 'octet' | 'oid' | 'counter' | 'gauge'

/** One value; an `octet` value is hex bytes (`"01 00"`), as snmpd's pass protocol writes them. */
export interface MibRow {
  oid: string
  type: MibType
  value: number | string
}

export interface Supply {
  type: 'toner' | 'wasteToner'
  /** prtMarkerColorantValue; none for a waste box. */
  color?: string
  description: string
  max: number
  level: number
}

export interface Alert {
  /** prtAlertSeverityLevel: 1 other, 3 critical, 4 warning, 5 warningBinaryChangeEvent. */
  severity: number
  /** prtAlertCode. */
  code: number
  description: string
}

export interface PrinterFace {
  system?: { descr: string; objectId: string; name: string; location: string; contact: string }
  hrDescr: string
  serial: string
  /** hrDeviceStatus: 2 running, 3 warning, 5 down. */
  deviceStatus: number
  /** hrPrinterStatus: 1 other, 3 idle, 4 printing, 5 warmup. */
  printerStatus: number
  /** hrPrinterDetectedErrorState bits set (0 = lowPaper … 7 = serviceRequested). */
  errorBits: number[]
  supplies: Supply[]
  /** prtMarkerLifeCount of marker 1; null: the column is absent. */
  lifeCount: number | null
  /** Vendor-specific OIDs and their values (counters). */
  vendor?: Record<string, number>
  alerts: Alert[]
  /** Leave these subtrees out entirely (a printer without that table). */
  without?: string[]
}

/** The printer's hrDeviceIndex. */
export const DEVICE_INDEX = 1

export function errorStateHex(bits: readonly number[]): string {
  const bytes = [0, 0]
  for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (0x80 >> (b & 7))
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')
}

export function printerMib(face: PrinterFace): MibRow[] {
  const d = DEVICE_INDEX
  const rows: MibRow[] = []
  if (face.system) {
    const s = face.system
    rows.push(
      { oid: SYSTEM.sysDescr, type: 'string', value: s.descr },
      { oid: SYSTEM.sysObjectID, type: 'oid', value: s.objectId },
      { oid: SYSTEM.sysContact, type: 'string', value: s.contact },
      { oid: SYSTEM.sysName, type: 'string', value: s.name },
      { oid: SYSTEM.sysLocation, type: 'string', value: s.location },
    )
  }
  rows.push(
    { oid: `${HR_DEVICE_ENTRY}.1.${d}`, type: 'integer', value: d },
    { oid: `${HR_DEVICE_ENTRY}.${HR_DEVICE.type}.${d}`, type: 'oid', value: HR_DEVICE_PRINTER },
    { oid: `${HR_DEVICE_ENTRY}.${HR_DEVICE.descr}.${d}`, type: 'string', value: face.hrDescr },
    { oid: `${HR_DEVICE_ENTRY}.${HR_DEVICE.status}.${d}`, type: 'integer', value: face.deviceStatus },
    { oid: `${HR_PRINTER_ENTRY}.${HR_PRINTER.status}.${d}`, type: 'integer', value: face.printerStatus },
    {
      oid: `${HR_PRINTER_ENTRY}.${HR_PRINTER.errorState}.${d}`,
      type: 'octet',
      value: errorStateHex(face.errorBits),
    },
    { oid: `${PRT_GENERAL_SERIAL}.${d}`, type: 'string', value: face.serial },
  )
  if (face.lifeCount !== null)
    rows.push({ oid: `${PRT_MARKER_LIFE_COUNT}.${d}.1`, type: 'counter', value: face.lifeCount })
  const colorants: string[] = []
  face.supplies.forEach((s, i) => {
    const index = `${d}.${i + 1}`
    let colorant = 0
    if (s.color) {
      colorant = colorants.indexOf(s.color) + 1 || colorants.push(s.color)
    }
    const at = (col: number) => `${PRT_SUPPLIES_ENTRY}.${col}.${index}`
    rows.push(
      { oid: at(2), type: 'integer', value: 1 },
      { oid: at(PRT_SUPPLIES.colorantIndex), type: 'integer', value: colorant },
      { oid: at(PRT_SUPPLIES.class), type: 'integer', value: s.type === 'toner' ? 3 : 4 },
      { oid: at(PRT_SUPPLIES.type), type: 'integer', value: SUPPLY_TYPE[s.type] },
      { oid: at(PRT_SUPPLIES.description), type: 'string', value: s.description },
      { oid: at(7), type: 'integer', value: 19 },
      { oid: at(PRT_SUPPLIES.maxCapacity), type: 'integer', value: s.max },
      { oid: at(PRT_SUPPLIES.level), type: 'integer', value: s.level },
    )
  })
  colorants.forEach((c, i) => {
    rows.push({ oid: `${PRT_COLORANT_ENTRY}.${PRT_COLORANT.value}.${d}.${i + 1}`, type: 'string', value: c })
  })
  face.alerts.forEach((a, i) => {
    const at = (col: number) => `${PRT_ALERT_ENTRY}.${col}.${d}.${i + 1}`
    rows.push(
      { oid: at(PRT_ALERT.severity), type: 'integer', value: a.severity },
      { oid: at(PRT_ALERT.group), type: 'integer', value: a.code >= 1100 && a.code < 1200 ? 11 : 1 },
      { oid: at(PRT_ALERT.code), type: 'integer', value: a.code },
      { oid: at(PRT_ALERT.description), type: 'string', value: a.description },
    )
  })
  for (const [oid, value] of Object.entries(face.vendor ?? {})) rows.push({ oid, type: 'counter', value })
  const without = face.without ?? []
  return rows.filter((r) => !without.some((w) => r.oid.startsWith(`${w}.`)))
}
