/**
 * A device belongs to the site it was first seen under, or that the inventory gives it: readings
 * for it under another site's topic are refused (`wrong-site`). Moving a device is the inventory's
 * change (PUT /devices/{id}), which wins over the first sighting.
 */
export class DeviceSites {
  private readonly seen = new Map<string, string>()

  constructor(
    private readonly inventorySite: (deviceId: string) => string | undefined,
    private readonly known: () => Promise<{ deviceId: string; siteId: string }[]>,
  ) {}

  /** Reads the devices the store knows. */
  async start(): Promise<void> {
    for (const d of await this.known()) this.seen.set(d.deviceId, d.siteId)
  }

  readonly siteOf = (deviceId: string): string | undefined =>
    this.inventorySite(deviceId) ?? this.seen.get(deviceId)

  readonly bind = (deviceId: string, siteId: string): void => {
    if (!this.seen.has(deviceId)) this.seen.set(deviceId, siteId)
  }
}
