import type { Action, DeviceInventory, Site } from '../contract/schemas.ts'
import type { DerivedChange } from '../domain/mail-changes.ts'
import { DEFAULT_LANGUAGE } from './library.ts'
import type { RenderInput } from './templates.ts'

export interface InventoryLookup {
  site(siteId: string): Site | undefined
  device(deviceId: string): DeviceInventory | undefined
}

/** A site's language, zone and name for its messages: English and UTC when the inventory says none. */
export function siteOf(inventory: InventoryLookup, siteId: string) {
  const site = inventory.site(siteId)
  return {
    site,
    lang: site?.language ?? DEFAULT_LANGUAGE,
    zone: site?.calendar?.zone ?? 'UTC',
    name: site?.name ?? siteId,
  }
}

/** What a template is given for one change of an action: the device's label and office, the site's language and zone. */
export function renderInputFor(
  inventory: InventoryLookup,
  action: Action,
  change: DerivedChange,
): RenderInput {
  const { lang, zone, name } = siteOf(inventory, action.siteId)
  const device = action.deviceId ? inventory.device(action.deviceId) : undefined
  const d = action.details
  return {
    lang,
    type: action.type,
    change: change.change,
    action: action as unknown as Record<string, unknown>,
    about: change.about,
    device: {
      id: action.deviceId ?? null,
      label: (d.label as string | undefined) ?? device?.label ?? action.deviceId ?? action.siteId,
      office: (d.location as string | undefined) ?? device?.location ?? null,
    },
    site: { id: action.siteId, name, zone },
  }
}
