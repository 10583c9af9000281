/**
 * Somewhere else to print: when a device is down, the other devices of its site that are ready and
 * can do its work (a colour device's work needs a colour device), nearest office first, so that the
 * site contact can redirect printing while the engineer comes. Pure: the processor and the API give
 * it the devices as they are now.
 */
import type { DeviceState } from './device-state.ts'

/** A device heard from within this long can take another's printing (the silence rule's 5 days). */
export const READY_WITHIN_MS = 5 * 24 * 3_600_000

/** Statuses of a device that takes jobs. `warning` is left out: it may be about to stop. */
const READY = new Set(['ready', 'printing', 'sleep'])

export interface PrinterPlace {
  deviceId: string
  siteId: string
  /** The office within the site, as the inventory or the device's birth says it. */
  location?: string
  /** The service ID on its label. */
  label?: string
}

export interface Alternative {
  deviceId: string
  label?: string
  location?: string
  status: string
  color: boolean
}

/** A device prints colour when it reports a toner other than black. */
export function printsColor(state: Pick<DeviceState, 'toner'> | null | undefined): boolean {
  return Object.keys(state?.toner ?? {}).some((c) => c !== 'black')
}

/** A floor number named in an office's description (`Floor 2`, `2nd floor`, `Piano 3`, `3 поверх`). */
export function floorOf(location: string | undefined): number | null {
  if (!location) return null
  const m =
    /(?:floor|fl\.?|piano|поверх|level|etage|étage)\s*(-?\d+)/i.exec(location) ??
    /(-?\d+)\s*(?:st|nd|rd|th|°|º)?\s*(?:floor|piano|поверх)/i.exec(location)
  return m ? Number(m[1]) : null
}

const norm = (s: string | undefined) => (s ?? '').trim().toLowerCase()

/** How far an office is from another: the same office 0, then floor by floor; not known, last. */
export function officeDistance(from: string | undefined, to: string | undefined): number {
  if (norm(from) !== '' && norm(from) === norm(to)) return 0
  const a = floorOf(from)
  const b = floorOf(to)
  if (a !== null && b !== null) return 1 + Math.abs(a - b)
  return Number.MAX_SAFE_INTEGER
}

/**
 * The ready devices of the site other than `target`, that can do its work, nearest office first
 * (then by device ID, so that the list is the same each time). A device is ready when its last
 * status takes jobs, no critical error is active on it, and it was heard from within `recentMs`.
 */
export function printElsewhere(
  target: PrinterPlace & { state: DeviceState | null },
  others: readonly (PrinterPlace & { state: DeviceState | null })[],
  now: number,
  recentMs: number = READY_WITHIN_MS,
): Alternative[] {
  const needsColor = printsColor(target.state)
  const ready = others.flatMap((o) => {
    const s = o.state
    if (!s || o.deviceId === target.deviceId || o.siteId !== target.siteId) return []
    if (!READY.has(s.status ?? '') || now - s.lastTs > recentMs) return []
    if (Object.values(s.errors).some((e) => e.severity === 'critical')) return []
    const color = printsColor(s)
    if (needsColor && !color) return []
    return [{ o, color, distance: officeDistance(target.location, o.location) }]
  })
  ready.sort((a, b) => a.distance - b.distance || a.o.deviceId.localeCompare(b.o.deviceId))
  return ready.map(({ o, color }) => ({
    deviceId: o.deviceId,
    ...(o.label === undefined ? {} : { label: o.label }),
    ...(o.location === undefined ? {} : { location: o.location }),
    status: o.state?.status ?? 'ready',
    color,
  }))
}

/**
 * `printElsewhere` for a device of a site whose devices are `siteStates`, with each device's office
 * and label as `describe` finds them (the inventory, its birth).
 */
export async function somewhereElse(
  target: { deviceId: string; siteId: string; state: DeviceState | null },
  siteStates: Iterable<DeviceState>,
  describe: (deviceId: string, siteId: string) => Promise<{ location?: string; label?: string }>,
  now: number,
): Promise<Alternative[]> {
  const place = async (p: { deviceId: string; siteId: string; state: DeviceState | null }) => {
    const { location, label } = await describe(p.deviceId, p.siteId)
    return {
      ...p,
      ...(location === undefined ? {} : { location }),
      ...(label === undefined ? {} : { label }),
    }
  }
  const others = await Promise.all(
    [...siteStates].map((s) => place({ deviceId: s.deviceId, siteId: s.siteId, state: s })),
  )
  return printElsewhere(await place(target), others, now)
}
