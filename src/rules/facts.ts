/**
 * What the facts of every subject share: what is known of a device (inventory, birth, catalogue),
 * the `device` and `site` facts, and the fact lists read from the schemas of src/subjects/. Each
 * subject builds its own instances in its file there; subjectsOf() (in subjects/device-subjects.ts) runs a device subject's builder.
 */
import { profileOf } from '../catalogue/catalogue.ts'
import type { Birth, DeviceInventory, Site } from '../contract/schemas.ts'
import type { SiteCalendar } from '../domain/calendar.ts'
import { type DeviceState, pagesPerDay, type SubjectKind } from '../domain/device-state.ts'
import { FACT_SCHEMAS, type FactName } from '../subjects/fact-schemas.ts'
import { SUBJECTS } from '../subjects/registry.ts'

const HOUR = 3_600_000

/** What is known of a device besides its readings: its birth message, the inventory, its site. */
export interface DeviceInfo {
  vendor?: string
  model?: string
  label?: string
  location?: string
  /** `inactive` is the older word for `ended`. */
  contract?: ContractState
  /** false when the inventory has no record of the device (or of its site): actions say so. */
  inInventory?: boolean
  siteInInventory?: boolean
  wasteBoxShipsWithToner?: boolean
  /** The toner bottle is the waste box: no box to order (from the catalogue). */
  tonerBottleIsWasteBox?: boolean
  /** The device's gateway, while it is offline: missed readings say so. */
  gatewayOffline?: { gatewayId: string; since: number }
  /** How the catalogue knew the device: by its `model`, only its `vendor`, or not at all. */
  profile?: 'model' | 'vendor'
  /** The site's fleet contact. */
  contact?: string
  stockMode?: 'threshold' | 'spare-kit'
  calendar?: SiteCalendar
  yields?: Record<string, number>
}

/**
 * The inventory speaks for the provider and wins over what a device says of itself; the catalogue's
 * profile of the vendor and model (as the inventory or else the birth names them) fills in the
 * vendor facts neither gives.
 */
export function deviceInfo(birth: Birth, device?: DeviceInventory, site?: Site): DeviceInfo {
  const info: DeviceInfo = { ...pick(birth, ['vendor', 'model', 'location']) }
  if (device) Object.assign(info, pick(device, ['vendor', 'model', 'location', 'label', 'contract']))
  const profile = profileOf(info.vendor, info.model)
  if (profile) {
    info.profile = profile.match
    info.wasteBoxShipsWithToner = profile.wasteBoxShipsWithToner
    info.tonerBottleIsWasteBox = profile.tonerBottleIsWasteBox
    if (Object.keys(profile.yields).length > 0) info.yields = { ...profile.yields }
  }
  if (device?.wasteBoxShipsWithToner !== undefined)
    info.wasteBoxShipsWithToner = device.wasteBoxShipsWithToner
  if (device?.yields) info.yields = { ...info.yields, ...device.yields }
  if (site) Object.assign(info, pick(site, ['contact', 'stockMode', 'calendar']))
  return info
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k]
  return out
}

/**
 * Who an action is for and what it is about, on every action: the addressee, the label, the office.
 * Where the inventory lacks the device or its site, `missingFromInventory` says which, so that
 * nobody takes an action with no addressee for one that has none by design.
 */
export function actionIdentity(info: DeviceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (info.contact !== undefined) out.addressee = info.contact
  if (info.label !== undefined) out.label = info.label
  if (info.location !== undefined) out.location = info.location
  const missing = [
    ...(info.inInventory === false ? ['device'] : []),
    ...(info.siteInInventory === false ? ['site'] : []),
  ]
  if (missing.length > 0) out.missingFromInventory = missing
  return out
}

export type ContractState = 'active' | 'suspended' | 'ended' | 'inactive'

/** The contract as rules and tickets see it: `active` unless the inventory says otherwise. */
export function contractOf(info: DeviceInfo): 'active' | 'suspended' | 'ended' {
  const c = info.contract ?? 'active'
  return c === 'inactive' ? 'ended' : c
}

/** Each fact and its fields, from its schema. `device` is there for every device subject. */
export const FACT_FIELDS: Record<FactName, readonly string[]> = mapValues(FACT_SCHEMAS, (schema) =>
  Object.keys(schema.properties),
)

/** The facts a rule of each subject may name. */
export const SUBJECT_FACTS: Record<SubjectKind, readonly FactName[]> = mapValues(
  SUBJECTS,
  (s): readonly FactName[] => s.facts,
)

function mapValues<K extends string, V, W>(o: Record<K, V>, f: (v: V) => W): Record<K, W> {
  return Object.fromEntries(Object.entries<V>(o).map(([k, v]) => [k, f(v)])) as Record<K, W>
}

/** One thing to run the rules of a subject over: its facts, and what an action about it records. */
export interface SubjectInstance {
  kind: SubjectKind
  key: string
  episode: string
  facts: Record<string, unknown>
  details: Record<string, unknown>
}

/** An action not resolved yet, as facts see it: rules can follow up on their own actions. */
export interface OpenAction {
  type: string
  subject: string
  episode: string
  createdAt: number
  /** An order's expected delivery, and the step its delivery is at. */
  expectedDelivery?: number
  deliveryStep?: string
}

/** What an open order's details tell the facts: its expected delivery and its delivery's step. */
export function orderFields(
  details: Record<string, unknown>,
): Pick<OpenAction, 'expectedDelivery' | 'deliveryStep'> {
  const expected =
    typeof details.expectedDelivery === 'string' ? Date.parse(details.expectedDelivery) : Number.NaN
  const delivery = details.delivery as { step?: unknown } | undefined
  return {
    ...(Number.isFinite(expected) ? { expectedDelivery: expected } : {}),
    ...(typeof delivery?.step === 'string' ? { deliveryStep: delivery.step } : {}),
  }
}

/** The `device` fact: the same for every subject of the device at one instant. */
export function deviceFact(state: DeviceState, info: DeviceInfo, at: number) {
  return {
    deviceId: state.deviceId,
    siteId: state.siteId,
    vendor: info.vendor ?? null,
    model: info.model ?? null,
    label: info.label ?? state.deviceId,
    location: info.location ?? null,
    contractActive: contractOf(info) === 'active',
    contract: contractOf(info),
    wasteBoxShipsWithToner: info.wasteBoxShipsWithToner ?? false,
    tonerBottleIsWasteBox: info.tonerBottleIsWasteBox ?? false,
    profile: info.profile ?? null,
    stockMode: info.stockMode ?? 'threshold',
    addressee: info.contact ?? null,
    pagesPerDay: pagesPerDay(state),
    status: state.status ?? null,
    lastReadingAt: new Date(state.lastTs).toISOString(),
    hoursSinceLastReading: Math.max(0, at - state.lastTs) / HOUR,
    counters: state.counters ?? null,
  }
}

/** The `site` fact of a site, or of a site the inventory does not know (its ID alone). */
export function siteFact(siteId: string, site?: Pick<Site, 'name' | 'customer' | 'stockMode' | 'contact'>) {
  return {
    siteId,
    name: site?.name ?? null,
    customer: site?.customer ?? null,
    stockMode: site?.stockMode ?? 'threshold',
    addressee: site?.contact ?? null,
  }
}
