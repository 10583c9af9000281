/**
 * The plan's scripted events (forced faults, board swaps, toner levels set by hand), taken in
 * simulated time: each tick gets those that fell due since the tick before, by device.
 */
import type { TickInput } from './device.ts'
import type { FleetPlan } from './plan.ts'

export class Script {
  private pointers = { faults: 0, boardSwaps: 0, tonerSets: 0 }

  constructor(private readonly plan: Pick<FleetPlan, 'faults' | 'boardSwaps' | 'tonerSets'>) {}

  /** The events due at or before `t` not taken yet, as each device's part of its tick's input. */
  dueAt(t: number): Map<number, Partial<TickInput>> {
    const out = new Map<number, Partial<TickInput>>()
    const get = (d: number) => {
      let v = out.get(d)
      if (!v) {
        v = {}
        out.set(d, v)
      }
      return v
    }
    const { faults, boardSwaps, tonerSets } = this.plan
    const p = this.pointers
    for (; p.faults < faults.length && (faults[p.faults] as { at: number }).at <= t; p.faults++) {
      const f = faults[p.faults] as FleetPlan['faults'][number]
      get(f.device).forcedFault = f.code ?? null
    }
    for (
      ;
      p.boardSwaps < boardSwaps.length && (boardSwaps[p.boardSwaps] as { at: number }).at <= t;
      p.boardSwaps++
    )
      get((boardSwaps[p.boardSwaps] as { device: number }).device).boardSwap = true
    for (
      ;
      p.tonerSets < tonerSets.length && (tonerSets[p.tonerSets] as { at: number }).at <= t;
      p.tonerSets++
    ) {
      const s = tonerSets[p.tonerSets] as FleetPlan['tonerSets'][number]
      const v = get(s.device)
      v.tonerSets = [...(v.tonerSets ?? []), { color: s.color, level: s.level }]
    }
    return out
  }
}
