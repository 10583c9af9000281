/** The gathering of each site subject woken by deadlines, by kind: one row a subject. */
import { type SubjectKind, subjectsWoken } from '../subjects/registry.ts'
import { GatewaySweep } from './gateway-sweep.ts'
import type { SiteSweep } from './site-sweep.ts'
import { StockSweep } from './stock-sweep.ts'
import type { SweepHost } from './sweep-host.ts'

const MAKERS: Partial<Record<SubjectKind, (host: SweepHost) => SiteSweep>> = {
  gateway: (host) => new GatewaySweep(host),
  stock: (host) => new StockSweep(host),
}

/** The site subjects that have a gathering. */
export const SITE_SWEEP_KINDS = Object.keys(MAKERS) as SubjectKind[]

/** One gathering of each site subject woken by deadlines, in the registry's order. */
export function siteSweeps(host: SweepHost): Map<SubjectKind, SiteSweep> {
  const sweeps = new Map<SubjectKind, SiteSweep>()
  for (const kind of subjectsWoken('site', 'deadline')) {
    const make = MAKERS[kind]
    if (!make) throw new Error(`the site subject ${kind} is woken by deadlines and has no sweep`)
    sweeps.set(kind, make(host))
  }
  return sweeps
}
