/**
 * Runs the pure generator (no broker) over a scenario and collects what it publishes, what happened
 * inside the devices, and the readings of each device as the service would receive them.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { DeviceEvent } from '../../simulator/device.ts'
import { Simulation, type SimulationOptions } from '../../simulator/engine.ts'
import { loadModels } from '../../simulator/models.ts'
import type { Op, PublishOp } from '../../simulator/ops.ts'
import { DAY, type FleetPlan, planFleet } from '../../simulator/plan.ts'
import type { Scenario } from '../../simulator/scenario.ts'
import { Birth, Telemetry, type WireReading } from '../../src/contract/schemas.ts'
import { parseTopic } from '../../src/contract/topics.ts'

export { DAY, HOUR } from '../../simulator/plan.ts'
export const MINUTE = 60_000
export const MONDAY = Date.parse('2026-01-05T00:00:00Z')

export const checkTelemetry = TypeCompiler.Compile(Telemetry)
export const checkBirth = TypeCompiler.Compile(Birth)

const models = loadModels()

export function scenario(fields: Partial<Scenario> = {}): Scenario {
  return {
    name: 'test',
    devices: 4,
    sites: 1,
    models: [{ id: 'kyocera-taskalfa-2554ci', weight: 1 }],
    ...fields,
  }
}

export function plan(
  s: Scenario,
  o: { seed?: number; start?: number; days?: number; intervalMs?: number } = {},
): FleetPlan {
  return planFleet(s, models, {
    devices: s.devices,
    sites: s.sites,
    seed: o.seed ?? 1,
    start: o.start ?? MONDAY,
    durationMs: (o.days ?? 14) * DAY,
    intervalMs: o.intervalMs ?? 15 * MINUTE,
  })
}

export type Event = DeviceEvent & { device: number; ts: number }

export interface Run {
  sim: Simulation
  ops: Op[]
  publishes: PublishOp[]
  events: Event[]
}

/**
 * Runs a plan to its end. `each` is called after every tick with that tick's operations: a test
 * plays the service's part there, handing the engine actions.
 */
export function generate(
  p: FleetPlan,
  each?: (sim: Simulation, ops: Op[]) => void,
  options: SimulationOptions = {},
): Run {
  const events: Event[] = []
  const sim = new Simulation(p, { ...options, onEvent: (e) => events.push(e) })
  const ops: Op[] = []
  while (!sim.done) {
    const tick = sim.nextTick()
    for (const op of tick) ops.push(op)
    each?.(sim, tick)
  }
  return { sim, ops, publishes: ops.filter((o): o is PublishOp => o.op === 'publish'), events }
}

export interface Received {
  ts: number
  reading: WireReading
  /** Index of the message in publish order, and whether it came in a replay array. */
  message: number
  replay: boolean
}

/** The readings of one device, in publish order, as the service receives them. */
export function readingsOf(run: Run, deviceId: string): Received[] {
  const out: Received[] = []
  run.publishes.forEach((p, message) => {
    if (p.deviceId !== deviceId || p.kind === 'birth') return
    const json = JSON.parse(p.payload) as WireReading | WireReading[]
    for (const reading of Array.isArray(json) ? json : [json])
      out.push({ ts: Date.parse(String(reading.ts)), reading, message, replay: Array.isArray(json) })
  })
  return out
}

export function deviceIdOf(p: FleetPlan, index: number): string {
  return p.devices[index]?.deviceId as string
}

export function topicOf(p: PublishOp) {
  return parseTopic('fleet/v1', p.topic)
}

/** An action as the service would publish it. */
export function action(
  fields: {
    type: string
    deviceId: string
    siteId: string
    createdAt: number
    details: Record<string, unknown>
  },
  id = `${fields.type}-${fields.deviceId}-${fields.createdAt}-${JSON.stringify(fields.details)}`,
) {
  const at = new Date(fields.createdAt).toISOString()
  return {
    id,
    type: fields.type,
    deviceId: fields.deviceId,
    siteId: fields.siteId,
    status: 'open' as const,
    rule: fields.type,
    createdAt: at,
    updatedAt: at,
    details: fields.details,
  }
}
