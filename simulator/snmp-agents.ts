/**
 * The simulator's SNMP mode: each simulated printer answers SNMP (v1, v2c) on its own loopback
 * address, 127.0.x.y, with the Printer-MIB values of its state (net-snmp's Agent). `faceOf` turns a
 * printer's reading, as the engine makes it, into what such a printer says (pure); `SnmpPrinters`
 * serves it.
 */
import snmp from 'net-snmp'
import {
  HR_DEVICE_ENTRY,
  HR_PRINTER_ENTRY,
  PRT_ALERT_ENTRY,
  PRT_COLORANT_ENTRY,
  PRT_GENERAL_SERIAL,
  PRT_MARKER_LIFE_COUNT,
  PRT_SUPPLIES_ENTRY,
  SYSTEM,
} from '../gateway/oids.ts'
import { type Profile, pickProfile } from '../gateway/profiles.ts'
import type { Birth, WireReading } from '../src/contract/schemas.ts'
import type { PrinterModel } from './models.ts'
import {
  type Alert,
  type MibRow,
  type MibType,
  type PrinterFace,
  printerMib,
  type Supply,
} from './printer-mib.ts'

/** The loopback address of the i-th simulated printer (0-based): 127.0.1.1, …, 127.0.1.250, 127.0.2.1, … */
export function printerAddress(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`
}

const ALERT_OF_KIND = { service: 30, jam: 8, cover: 3 } as const
const SEVERITY = { critical: 3, warning: 4, info: 1 } as const
const TONER_MAX = 1000

/** The profile of a model's vendor, for its enterprise OID and vendor counters. */
export function profileOf(profiles: readonly Profile[], model: PrinterModel): Profile {
  return profiles.find((p) => p.vendor === model.vendor) ?? pickProfile(profiles, {})
}

/** What a printer of this model, in the state its reading shows, says over SNMP. */
export function faceOf(
  model: PrinterModel,
  profile: Profile,
  birth: Birth,
  deviceId: string,
  reading: Omit<WireReading, 'seq'>,
): PrinterFace {
  const supplies: Supply[] = Object.keys(model.cartridgeYield).map((color) => {
    const level = reading.toner?.[color]
    return {
      type: 'toner',
      color,
      description: `${color} toner`,
      max: TONER_MAX,
      level: level === undefined ? -2 : Math.round(level * (TONER_MAX / 100)),
    }
  })
  const alerts: Alert[] = []
  for (const e of reading.errors ?? []) {
    const spec = model.errors.find((x) => x.code === e.code)
    const code = spec
      ? ALERT_OF_KIND[spec.kind]
      : e.code.startsWith('TONER-EMPTY')
        ? 1101
        : e.code === 'WASTE-BOX-FULL'
          ? 1109
          : 1
    alerts.push({ severity: SEVERITY[e.severity], code, description: `${e.code} ${e.text ?? ''}`.trim() })
  }
  const box = reading.wasteBox
  if (model.wasteBoxCapacity !== null && box !== undefined) {
    if (typeof box === 'number')
      supplies.push({
        type: 'wasteToner',
        description: 'waste toner box',
        max: 100,
        level: 100 - Math.round(box),
      })
    else {
      supplies.push({ type: 'wasteToner', description: 'waste toner box', max: -2, level: -3 })
      if (box === 'nearFull')
        alerts.push({ severity: 4, code: 1107, description: 'Waste toner box nearly full' })
      if (box === 'full' && !alerts.some((a) => a.code === 1109))
        alerts.push({ severity: 4, code: 1109, description: 'Waste toner box full' })
    }
  }
  const st = reading.status
  const deviceStatus = st === 'error' || st === 'stopped' ? 5 : st === 'warning' ? 3 : 2
  const printerStatus = st === 'printing' ? 4 : st === 'sleep' || st === 'error' || st === 'stopped' ? 1 : 3
  const errorBits = st === 'error' ? [7] : st === 'stopped' ? [6] : []
  const vendor: Record<string, number> = {}
  const counters = reading.counters
  const { mono: monoOids, color: colorOids } = profile.counters ?? {}
  // The first OID of each sum carries the count (print), the others zero (copy).
  if (counters && monoOids)
    for (const [i, oid] of monoOids.entries()) vendor[oid] = i === 0 ? (counters.mono ?? 0) : 0
  if (counters && colorOids)
    for (const [i, oid] of colorOids.entries()) vendor[oid] = i === 0 ? (counters.color ?? 0) : 0
  const enterprise = profile.match.enterprise?.[0] ?? '1.3.6.1.4.1.8072.3.2.10'
  return {
    system: {
      descr: `${model.vendor} ${model.model}`,
      objectId: `${enterprise}.1`,
      name: deviceId.toLowerCase(),
      location: birth.location ?? '',
      contact: birth.contact ?? '',
    },
    hrDescr: `${model.vendor} ${model.model}`,
    serial: birth.serial ?? '',
    deviceStatus,
    printerStatus,
    errorBits,
    supplies,
    lifeCount: counters?.total ?? null,
    vendor,
    alerts,
  }
}

const TYPES: Record<MibType, number> = {
  integer: snmp.ObjectType.Integer,
  string: snmp.ObjectType.OctetString,
  octet: snmp.ObjectType.OctetString,
  oid: snmp.ObjectType.OID,
  counter: snmp.ObjectType.Counter32,
  gauge: snmp.ObjectType.Gauge32,
}

interface MibNodeLike {
  value: unknown
  valueType: number
  parent: MibNodeLike | null
  children: Record<string, MibNodeLike>
  address: number[]
  provider?: unknown
}

interface MibLike {
  registerProvider(p: Record<string, unknown>): void
  getProvider(name: string): { tableColumns?: Record<string, unknown>[] }
  addProviderToNode(p: unknown): void
  addNodesForOid(oid: string): MibNodeLike
  lookup(oid: string): MibNodeLike | null
}

interface Served {
  agent: { close(cb?: () => void): void; getMib(): MibLike }
  oids: Set<string>
  /** Providers registered so far: the entry OID (or scalar OID) → its column numbers. */
  providers: Map<string, Set<number>>
}

/** Table entries the rows fall under; any other OID is taken as `entry.column.a.b`. */
const ENTRIES = [
  HR_DEVICE_ENTRY,
  HR_PRINTER_ENTRY,
  PRT_GENERAL_SERIAL.split('.').slice(0, -1).join('.'),
  PRT_MARKER_LIFE_COUNT.split('.').slice(0, -1).join('.'),
  PRT_SUPPLIES_ENTRY,
  PRT_COLORANT_ENTRY,
  PRT_ALERT_ENTRY,
]
const SCALARS = new Set<string>(Object.values(SYSTEM))

/** The provider a row's OID falls under: a scalar, or a table entry with the row's column and index. */
function placeOf(oid: string): { entry: string; column: number; indexArcs: number } | { scalar: string } {
  if (SCALARS.has(oid)) return { scalar: oid.slice(0, -2) }
  const entry = ENTRIES.find((e) => oid.startsWith(`${e}.`)) ?? oid.split('.').slice(0, -3).join('.')
  const rest = oid.slice(entry.length + 1).split('.')
  return { entry, column: Number(rest[0]), indexArcs: rest.length - 1 }
}

/** One net-snmp Agent per simulated printer, each on its own loopback address. */
export class SnmpPrinters {
  private readonly served = new Map<string, Served>()

  constructor(
    private readonly port: number,
    private readonly community = 'public',
  ) {}

  /** Opens one agent per printer: `address` is its loopback address. */
  async start(printers: readonly { deviceId: string; address: string }[]): Promise<void> {
    for (const p of printers) {
      const agent = snmp.createAgent(
        { port: this.port, address: p.address, accessControlModelType: snmp.AccessControlModelType.None },
        () => undefined,
      )
      agent.getAuthorizer().addCommunity(this.community)
      this.served.set(p.deviceId, { agent, oids: new Set(), providers: new Map() })
    }
    // The sockets bind asynchronously: a printer answers from the next turn on.
    await new Promise((r) => setImmediate(r))
  }

  /** What the printer says from now on. */
  set(deviceId: string, face: PrinterFace): void {
    const s = this.served.get(deviceId)
    if (!s) return
    this.setRows(s, printerMib(face))
  }

  /** The printer answers nothing a reading can be made of (it is off, or silent). */
  clear(deviceId: string): void {
    const s = this.served.get(deviceId)
    if (s) this.setRows(s, [])
  }

  /** Registers, once, the provider a row falls under (net-snmp serves only values below one). */
  private provide(s: Served, mib: MibLike, r: MibRow): void {
    const place = placeOf(r.oid)
    const ro = snmp.MaxAccess['read-only']
    if ('scalar' in place) {
      if (s.providers.has(place.scalar)) return
      const provider = {
        name: place.scalar,
        type: snmp.MibProviderType.Scalar,
        oid: place.scalar,
        scalarType: TYPES[r.type],
        maxAccess: ro,
      }
      mib.registerProvider(provider)
      mib.addProviderToNode(provider)
      s.providers.set(place.scalar, new Set())
      return
    }
    const columns = s.providers.get(place.entry)
    const column = { number: place.column, name: `c${place.column}`, type: TYPES[r.type], maxAccess: ro }
    if (columns) {
      if (!columns.has(place.column)) {
        columns.add(place.column)
        mib.getProvider(place.entry).tableColumns?.push(column)
      }
      return
    }
    // The index columns are stand-ins (never in the tree): they only tell net-snmp how many arcs
    // the row index has.
    const index = Array.from({ length: place.indexArcs }, (_, i) => ({
      number: 10_000 + i,
      name: `i${i}`,
      type: snmp.ObjectType.Integer,
      maxAccess: snmp.MaxAccess['not-accessible'],
    }))
    const provider = {
      name: place.entry,
      type: snmp.MibProviderType.Table,
      oid: place.entry,
      maxAccess: snmp.MaxAccess['not-accessible'],
      tableColumns: [...index, column],
      tableIndex: index.map((c) => ({ columnName: c.name })),
    }
    mib.registerProvider(provider)
    mib.addProviderToNode(provider)
    s.providers.set(place.entry, new Set([place.column]))
  }

  private setRows(s: Served, rows: readonly MibRow[]): void {
    const mib = s.agent.getMib()
    const next = new Set<string>()
    for (const r of rows) {
      next.add(r.oid)
      this.provide(s, mib, r)
      const node = mib.addNodesForOid(r.oid)
      node.valueType = TYPES[r.type] as number
      node.value = r.type === 'octet' ? Buffer.from(String(r.value).replace(/\s+/g, ''), 'hex') : r.value
    }
    for (const oid of s.oids) {
      if (next.has(oid)) continue
      // Gone (an alert cleared): the node goes, and its parents with it when they are left empty.
      let node = mib.lookup(oid)
      while (node?.parent && Object.keys(node.children).length === 0 && !node.provider) {
        const parent: MibNodeLike = node.parent
        delete parent.children[String(node.address[node.address.length - 1])]
        node = parent
      }
    }
    s.oids = next
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.served.values()].map((s) => new Promise<void>((resolve) => s.agent.close(() => resolve()))),
    )
    this.served.clear()
  }
}
