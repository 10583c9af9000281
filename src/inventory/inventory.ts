import { open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { inScope, type Scope } from '../access/permissions.ts'
import {
  type Birth,
  type Customer,
  type DeviceGroup,
  type DeviceInventory,
  Inventory,
  type Site,
} from '../contract/schemas.ts'
import { calendarProblems } from '../domain/calendar.ts'
import { badRequest, configError } from '../errors.ts'
import { type DeviceInfo, deviceInfo } from '../rules/facts.ts'

function siteProblem(site: Site): string | null {
  return site.calendar ? (calendarProblems(site.calendar)[0] ?? null) : null
}

const check = TypeCompiler.Compile(Inventory)
export const INVENTORY_FILE = 'inventory.json'

/**
 * The sites and devices of the fleet, as the provider knows them: each site's fleet contact and
 * stock mode, each device's label, office, contract and vendor facts. Kept in `inventory.json` in
 * the data directory (edited by hand or through the API), checked like every other input.
 */
export class InventoryBook {
  private sites = new Map<string, Site>()
  private devices = new Map<string, DeviceInventory>()
  private customers = new Map<string, Customer>()
  private groups = new Map<string, DeviceGroup>()
  private readonly path: string
  private saving: Promise<void> = Promise.resolve()
  private readonly listeners = new Set<() => void>()

  constructor(dataDir: string) {
    this.path = join(dataDir, INVENTORY_FILE)
  }

  /** Calls `listener` after each change the inventory takes (a load, a write); returns its unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed(): void {
    for (const listener of this.listeners) {
      try {
        listener()
      } catch {
        // One listener's trouble is its own: the inventory is written, and the others are told.
      }
    }
  }

  /** Reads the file; a missing file is an empty inventory, a broken one stops the start with its reason. */
  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      throw configError(`${this.path} is not valid JSON: ${(err as Error).message}`)
    }
    // The schema's defaults fill what the file leaves out, as they do for the API's bodies.
    json = Value.Default(Inventory, json)
    if (!check.Check(json)) {
      const e = check.Errors(json).First()
      throw configError(`${this.path}: at ${e?.path || '/'}: ${e?.message ?? 'not an inventory'}`)
    }
    for (const [i, site] of json.sites.entries()) {
      const problem = siteProblem(site)
      if (problem) throw configError(`${this.path}: at /sites/${i}/calendar: ${problem}`)
    }
    this.sites = new Map(json.sites.map((s) => [s.siteId, s]))
    this.devices = new Map(json.devices.map((d) => [d.deviceId, d]))
    this.customers = new Map(json.customers.map((c) => [c.customerId, c]))
    this.groups = new Map(json.groups.map((g) => [g.groupId, g]))
    this.changed()
  }

  customer(customerId: string): Customer | undefined {
    return this.customers.get(customerId)
  }

  allCustomers(): Customer[] {
    return [...this.customers.values()].sort((a, b) => a.customerId.localeCompare(b.customerId))
  }

  /** The sites a customer owns: those whose `customer` is its ID. */
  sitesOf(customerId: string): Site[] {
    return this.allSites().filter((s) => s.customer === customerId)
  }

  group(groupId: string): DeviceGroup | undefined {
    return this.groups.get(groupId)
  }

  allGroups(): DeviceGroup[] {
    return [...this.groups.values()].sort((a, b) => a.groupId.localeCompare(b.groupId))
  }

  /** The groups a device is in. */
  groupsOf(deviceId: string): DeviceGroup[] {
    return this.allGroups().filter((g) => g.devices.includes(deviceId))
  }

  async putCustomer(customer: Customer): Promise<void> {
    await this.save((_s, _d, customers) => customers.set(customer.customerId, customer))
  }

  /** Refuses to remove a customer that still owns sites or groups: the reason, for a 400. */
  async deleteCustomer(customerId: string): Promise<void> {
    const sites = this.sitesOf(customerId).map((s) => s.siteId)
    if (sites.length > 0) throw badRequest(`customer ${customerId} still owns sites: ${sites.join(', ')}`)
    const groups = this.allGroups().filter((g) => g.customerId === customerId)
    if (groups.length > 0)
      throw badRequest(`customer ${customerId} still has groups: ${groups.map((g) => g.groupId).join(', ')}`)
    await this.save((_s, _d, customers) => customers.delete(customerId))
  }

  /** Refuses a group of an unknown customer: the reason, for a 400. */
  async putGroup(group: DeviceGroup): Promise<void> {
    if (group.customerId !== undefined && !this.customers.has(group.customerId))
      throw badRequest(`customerId: no customer ${group.customerId} in the inventory`)
    await this.save((_s, _d, _c, groups) => groups.set(group.groupId, group))
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.save((_s, _d, _c, groups) => groups.delete(groupId))
  }

  // Access (src/access): a customer's sites and groups, and the inventory seen through a scope.
  sitesOfCustomer(customer: string): string[] {
    return [...this.sites.values()].filter((s) => s.customer === customer).map((s) => s.siteId)
  }

  devicesOfGroups(customer: string, groups: readonly string[]): string[] {
    return [...this.groups.values()]
      .filter((g) => g.customerId === customer && groups.includes(g.groupId))
      .flatMap((g) => g.devices)
  }

  siteInScope(siteId: string, scope: Scope): Site | undefined {
    const site = this.sites.get(siteId)
    return site && inScope(scope, siteId) ? site : undefined
  }

  deviceInScope(deviceId: string, scope: Scope): DeviceInventory | undefined {
    const device = this.devices.get(deviceId)
    return device && inScope(scope, device.siteId, deviceId) ? device : undefined
  }

  devicesInScope(scope: Scope): DeviceInventory[] {
    return [...this.devices.values()].filter((d) => inScope(scope, d.siteId, d.deviceId))
  }

  sitesInScope(scope: Scope): Site[] {
    return this.allSites().filter((s) => inScope(scope, s.siteId))
  }

  site(siteId: string): Site | undefined {
    return this.sites.get(siteId)
  }

  device(deviceId: string): DeviceInventory | undefined {
    return this.devices.get(deviceId)
  }

  /** What the rules know of a device: its birth message, then the inventory, which wins, and its site. */
  describe(birth: Birth, deviceId: string, siteId: string): DeviceInfo {
    const device = this.devices.get(deviceId)
    const site = this.sites.get(device?.siteId ?? siteId)
    // Asked at every reading: the same birth, device and site records (a write replaces them)
    // give the same description, so it is made once for them. Callers copy what they change.
    let ofBirth = this.described.get(birth)
    if (!ofBirth) {
      ofBirth = new Map()
      this.described.set(birth, ofBirth)
    }
    const key = `${deviceId}\n${siteId}`
    const known = ofBirth.get(key)
    if (known && known.device === device && known.site === site) return known.info
    // What the inventory lacks, so that every action can say so.
    const info: DeviceInfo = {
      ...deviceInfo(birth, device, site),
      inInventory: device !== undefined,
      siteInInventory: site !== undefined,
    }
    ofBirth.set(key, { device, site, info })
    return info
  }

  private readonly described = new WeakMap<
    Birth,
    Map<string, { device: DeviceInventory | undefined; site: Site | undefined; info: DeviceInfo }>
  >()

  allDevices(): DeviceInventory[] {
    return [...this.devices.values()]
  }

  allSites(): Site[] {
    return [...this.sites.values()].sort((a, b) => a.siteId.localeCompare(b.siteId))
  }

  /** Refuses a site whose calendar cannot be: its reason, for a 400. */
  async putSite(site: Site): Promise<void> {
    const problem = siteProblem(site)
    if (problem) throw badRequest(`calendar: ${problem}`)
    await this.save((sites) => sites.set(site.siteId, site))
  }

  async putDevice(device: DeviceInventory): Promise<void> {
    await this.save((_sites, devices) => devices.set(device.deviceId, device))
  }

  /**
   * Writes the whole file to a temporary name, flushes it and renames it (a crash never leaves half a
   * file), then takes the new inventory: memory never holds what the disk refused. One failed write
   * does not fail the ones after it.
   */
  private save(
    change: (
      sites: Map<string, Site>,
      devices: Map<string, DeviceInventory>,
      customers: Map<string, Customer>,
      groups: Map<string, DeviceGroup>,
    ) => void,
  ): Promise<void> {
    const write = this.saving
      .catch(() => {})
      .then(async () => {
        // Changed copies, from the inventory as the writes before this one left it.
        const next = {
          sites: new Map(this.sites),
          devices: new Map(this.devices),
          customers: new Map(this.customers),
          groups: new Map(this.groups),
        }
        change(next.sites, next.devices, next.customers, next.groups)
        const snapshot: Inventory = {
          sites: [...next.sites.values()].sort((a, b) => a.siteId.localeCompare(b.siteId)),
          devices: [...next.devices.values()],
          customers: [...next.customers.values()].sort((a, b) => a.customerId.localeCompare(b.customerId)),
          groups: [...next.groups.values()].sort((a, b) => a.groupId.localeCompare(b.groupId)),
        }
        const tmp = `${this.path}.tmp`
        const file = await open(tmp, 'w')
        try {
          await file.writeFile(`${JSON.stringify(snapshot, null, 2)}\n`)
          await file.sync()
        } finally {
          await file.close()
        }
        await rename(tmp, this.path)
        this.sites = next.sites
        this.devices = next.devices
        this.customers = next.customers
        this.groups = next.groups
        this.changed()
      })
    this.saving = write
    return write
  }
}
