import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { type DeviceInventory, Inventory, type Site } from '../contract/schemas.ts'
import { configError } from '../errors.ts'

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
  private readonly path: string
  private saving: Promise<void> = Promise.resolve()

  constructor(dataDir: string) {
    this.path = join(dataDir, INVENTORY_FILE)
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
    if (!check.Check(json)) {
      const e = check.Errors(json).First()
      throw configError(`${this.path}: at ${e?.path || '/'}: ${e?.message ?? 'not an inventory'}`)
    }
    this.sites = new Map(json.sites.map((s) => [s.siteId, s]))
    this.devices = new Map(json.devices.map((d) => [d.deviceId, d]))
  }

  site(siteId: string): Site | undefined {
    return this.sites.get(siteId)
  }

  device(deviceId: string): DeviceInventory | undefined {
    return this.devices.get(deviceId)
  }

  allDevices(): DeviceInventory[] {
    return [...this.devices.values()]
  }

  allSites(): Site[] {
    return [...this.sites.values()].sort((a, b) => a.siteId.localeCompare(b.siteId))
  }

  async putSite(site: Site): Promise<void> {
    this.sites.set(site.siteId, site)
    await this.save()
  }

  async putDevice(device: DeviceInventory): Promise<void> {
    this.devices.set(device.deviceId, device)
    await this.save()
  }

  /** Writes the whole file to a temporary name and renames it: a crash never leaves half a file. */
  private save(): Promise<void> {
    const snapshot: Inventory = { sites: this.allSites(), devices: [...this.devices.values()] }
    this.saving = this.saving.then(async () => {
      const tmp = `${this.path}.tmp`
      await writeFile(tmp, `${JSON.stringify(snapshot, null, 2)}\n`)
      await rename(tmp, this.path)
    })
    return this.saving
  }
}
