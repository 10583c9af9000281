/**
 * Which readings should cause an action, for the publish-to-action latency: a colour falling to the
 * reorder threshold, a waste box to change, a new critical error. Each is watched once until the
 * part is fitted (or the error clears).
 */
import type { DeviceReading } from './device.ts'

/** The contract's reorder threshold, used only to know which readings to time. */
const LOW_TONER = 20

interface Watched {
  low: Set<string>
  box: boolean
  critical: Set<string>
}

export class LatencyWatch {
  private readonly devices: Watched[]

  constructor(devices: number) {
    this.devices = Array.from({ length: devices }, () => ({
      low: new Set(),
      box: false,
      critical: new Set(),
    }))
  }

  /** Whether this reading of device d should cause an action not caused before. */
  reading(d: number, r: DeviceReading): boolean {
    const w = this.devices[d] as Watched
    let hit = false
    for (const [c, level] of Object.entries(r.toner ?? {})) {
      if (level <= LOW_TONER && !w.low.has(c)) {
        w.low.add(c)
        hit = true
      }
    }
    const box = r.wasteBox
    if (box !== undefined && (typeof box === 'number' ? box >= 90 : box !== 'ok') && !w.box) {
      w.box = true
      hit = true
    }
    const critical = new Set((r.errors ?? []).filter((e) => e.severity === 'critical').map((e) => e.code))
    for (const c of critical) if (!w.critical.has(c)) hit = true
    w.critical = critical
    return hit
  }

  tonerFitted(d: number, color: string): void {
    this.devices[d]?.low.delete(color)
  }

  boxFitted(d: number): void {
    const w = this.devices[d]
    if (w) w.box = false
  }
}
