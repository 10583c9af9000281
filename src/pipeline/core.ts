/**
 * The decision core: the processor over a store, in a clock, with what the rules know of devices
 * and sites, and who hears what among them. The service (src/main.ts) and the dry run
 * (src/rules/dry-run.ts) build it here, so both decide with the same pieces wired the same way.
 */
import type { Logger } from 'pino'
import type { Clock, EventClock } from '../clock.ts'
import type { Birth } from '../contract/schemas.ts'
import type { SiteCalendar } from '../domain/calendar.ts'
import type { ServiceEvents } from '../events.ts'
import type { InventoryBook } from '../inventory/inventory.ts'
import type { RuleEvaluator } from '../rules/evaluator.ts'
import { type DeviceInfo, deviceInfo } from '../rules/facts.ts'
import type { Store } from '../store/store.ts'
import { Processor, type ProcessorOptions } from './processor.ts'

export interface CoreOptions {
  store: Store
  /** "Now" of the decisions: the wall clock; ignored when `eventTime` is given. */
  clock: Clock
  /** In event time: the clock the readings move on, and the resolution of deadline checks. */
  eventTime?: { clock: EventClock; sweepIntervalMs: number } | undefined
  rules: () => RuleEvaluator
  log: Logger
  events: ServiceEvents
  /** The sites and devices of the data directory; without one, a device is what its birth says. */
  inventory?: InventoryBook | undefined
  /** The provider's support calendar, for the sites without one of their own. */
  support?: SiteCalendar | undefined
  /** Times each batch of readings (the service's metrics). */
  timeBatch?: ProcessorOptions['timeBatch']
}

export interface Core {
  processor: Processor
  /** What the rules know of a device besides its readings. */
  describe: (birth: Birth, deviceId: string, siteId: string) => DeviceInfo
  /** Stops listening (the events and the inventory); the processor is stopped by its owner. */
  detach(): void
}

export function decisionCore(o: CoreOptions): Core {
  const { inventory, support, events } = o
  const fallback = support === undefined ? {} : { calendar: support }
  // Asked at every reading: the inventory gives the same description while its records and the
  // birth stay, and so does this, made once for each.
  const withSupport = new WeakMap<DeviceInfo, DeviceInfo>()
  const describe = (birth: Birth, deviceId: string, siteId: string): DeviceInfo => {
    const described = inventory ? inventory.describe(birth, deviceId, siteId) : deviceInfo(birth)
    let info = withSupport.get(described)
    if (info === undefined) {
      // A site without a calendar of its own works on the provider's support calendar.
      info = { ...fallback, ...described }
      withSupport.set(described, info)
    }
    return info
  }
  const processor = new Processor({
    store: o.store,
    clock: o.eventTime?.clock ?? o.clock,
    rules: o.rules,
    log: o.log,
    events,
    eventTime: o.eventTime,
    describe,
    ...(inventory ? { site: (siteId: string) => inventory.site(siteId) } : {}),
    ...(o.timeBatch ? { timeBatch: o.timeBatch } : {}),
  })
  const committed = ({ births, gateways }: { births: readonly string[]; gateways: boolean }) => {
    processor.forgetBirths(births)
    if (gateways) processor.reconsider('gateway')
    processor.poke()
  }
  // A person's change (a ticket's step, a stock count) is looked at by the next sweep.
  const changed = () => processor.reconsider()
  const recovered = () => processor.poke()
  events.on('committed', committed)
  events.on('actionChanged', changed)
  events.on('storeRecovered', recovered)
  // The sweeps look again at what the inventory describes (contracts, calendars, sites) once it changes.
  const unwatch = inventory?.onChange(() => processor.reconsider())
  return {
    processor,
    describe,
    detach() {
      events.off('committed', committed)
      events.off('actionChanged', changed)
      events.off('storeRecovered', recovered)
      unwatch?.()
    },
  }
}
