/**
 * What a batch of readings has decided so far, before its commit: the devices' new states, what
 * the rules asked for, the cartridges installed. Each device's readings see what the readings
 * before them in the batch asked for, as if the batch were committed reading by reading.
 */
import type { DeviceState } from '../domain/device-state.ts'
import type { ActionCandidate, LedgerEntry } from '../domain/ledger.ts'
import type { Reading } from '../domain/reading.ts'
import { type OpenAction, orderFields } from '../rules/facts.ts'
import type { CartridgeInstall } from '../store/store.ts'

/** An action's cause on one device: what the ledger's dedup key says, the device aside. */
const causeOf = (a: Pick<OpenAction, 'type' | 'subject' | 'episode'>) =>
  `${a.type}\u0000${a.subject}\u0000${a.episode}`

export class Batch {
  /** The new state of each device a reading of the batch moved on. */
  readonly touched = new Map<string, DeviceState>()
  /** Each device's unresolved actions, as read from the store for this batch. */
  readonly opens = new Map<string, LedgerEntry[]>()
  readonly candidates: ActionCandidate[] = []
  /** Of the candidates, those of a cause not open yet: the only ones that may create an action. */
  readonly fresh: ActionCandidate[] = []
  readonly installs: CartridgeInstall[] = []
  /** Per device, its unresolved actions and what this batch asked for so far, each cause once. */
  private readonly pending = new Map<string, { list: OpenAction[]; causes: Set<string> }>()

  /** What the rules see open for a device at its next reading of the batch. */
  openFor(deviceId: string): OpenAction[] {
    return this.seenBy(deviceId).list
  }

  /** What the rules asked for at a reading of this device; a new cause counts for the readings after. */
  asked(deviceId: string, asked: readonly ActionCandidate[]): void {
    this.candidates.push(...asked)
    const seen = this.seenBy(deviceId)
    for (const c of asked) {
      const cause = causeOf(c)
      if (seen.causes.has(cause)) continue
      seen.causes.add(cause)
      this.fresh.push(c)
      seen.list.push({ ...c, createdAt: c.at, ...orderFields(c.details) })
    }
  }

  private seenBy(deviceId: string): { list: OpenAction[]; causes: Set<string> } {
    let seen = this.pending.get(deviceId)
    if (!seen) {
      const open = this.opens.get(deviceId) ?? []
      seen = { list: [...open], causes: new Set(open.map(causeOf)) }
      this.pending.set(deviceId, seen)
    }
    return seen
  }

  /** A cartridge seen installed at this reading: only the colours it reports can show one. */
  installed(r: Reading, after: DeviceState, model: string | null): void {
    for (const color of Object.keys(r.toner ?? {}))
      if (after.toner[color]?.installedAt === r.ts)
        this.installs.push({ deviceId: r.deviceId, siteId: r.siteId, model, color, ts: r.ts })
  }
}
