/**
 * Publish-to-action latency at a steady rate: gateways publish readings at `rate` a second, and a
 * share of them are probes (a new device whose first reading has black toner at 15%, which the
 * shipped `toner-reorder` rule orders for). The time from a probe's publish to its `reorder` on the
 * device's actions topic is its latency. The first seconds (`warmup`) are the burst of a load
 * starting: they are reported apart, and the steady figures are those after them.
 */
import { connectAsync, type MqttClient } from 'mqtt'

export interface SteadyPlan {
  url: string
  gateways: number
  /** Messages a second, over all the gateways. */
  rate: number
  seconds: number
  warmupSeconds: number
  /** One message in this many is a probe. */
  probeEvery: number
  /** A reading of an ordinary device that has no action to make: its `n`-th message. */
  reading: (gateway: number, n: number) => { topic: string; payload: string }
}

export interface SteadyResult {
  rate: number
  sent: number
  probes: number
  answered: number
  warmupMs: { p50: number; p99: number; count: number }
  steadyMs: { p50: number; p99: number; max: number; count: number }
  steadyPubackMs: { p50: number; p99: number }
}

const quantile = (sorted: number[], q: number) =>
  +(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2)

export async function steadyLatency(plan: SteadyPlan): Promise<SteadyResult> {
  const clients: MqttClient[] = await Promise.all(
    Array.from({ length: plan.gateways }, () => connectAsync(plan.url, { reconnectPeriod: 0 })),
  )
  const listener = await connectAsync(plan.url, { reconnectPeriod: 0 })
  const sentAt = new Map<string, number>()
  const latencies: { at: number; ms: number }[] = []
  listener.on('message', (_topic, payload) => {
    const action = JSON.parse(payload.toString()) as { type: string; deviceId?: string; status: string }
    const sent = action.deviceId === undefined ? undefined : sentAt.get(action.deviceId)
    if (action.type !== 'reorder' || action.status !== 'open' || sent === undefined) return
    sentAt.delete(action.deviceId as string)
    latencies.push({ at: sent, ms: performance.now() - sent })
  })
  await listener.subscribeAsync('fleet/v1/+/+/actions', { qos: 1 })

  const began = performance.now()
  const tickMs = 10
  let sent = 0
  let probes = 0
  const acks: { at: number; ms: number }[] = []
  const publish = (g: number, topic: string, payload: string, probe = false) => {
    const at = performance.now()
    ;(clients[g] as MqttClient).publish(topic, payload, { qos: 1 }, (err) => {
      if (probe && !err) acks.push({ at, ms: performance.now() - at })
    })
  }
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - began
      if (elapsed >= plan.seconds * 1000) {
        clearInterval(timer)
        done()
        return
      }
      // As many as the rate says by now: a late tick catches up, so the rate holds on average.
      const due = Math.floor((elapsed / 1000) * plan.rate)
      for (; sent < due; sent++) {
        const g = sent % plan.gateways
        if (sent % plan.probeEvery === 0) {
          const deviceId = `PROBE-${probes++}`
          sentAt.set(deviceId, performance.now())
          publish(
            g,
            `fleet/v1/site-${g}/${deviceId}/telemetry`,
            JSON.stringify({ ts: Date.now(), toner: { black: 15 }, status: 'ready' }),
            true,
          )
        } else {
          const m = plan.reading(g, Math.floor(sent / plan.gateways))
          publish(g, m.topic, m.payload)
        }
      }
    }, tickMs)
  })
  // The last probes' actions: wait for them, up to a few seconds.
  const until = performance.now() + 10_000
  while (latencies.length < probes && performance.now() < until) await new Promise((r) => setTimeout(r, 50))
  await Promise.all([...clients, listener].map((c) => c.endAsync()))

  const warm = latencies.filter((l) => l.at - began < plan.warmupSeconds * 1000).map((l) => l.ms)
  const steady = latencies.filter((l) => l.at - began >= plan.warmupSeconds * 1000).map((l) => l.ms)
  warm.sort((a, b) => a - b)
  steady.sort((a, b) => a - b)
  const steadyAcks = acks.filter((l) => l.at - began >= plan.warmupSeconds * 1000).map((l) => l.ms)
  steadyAcks.sort((a, b) => a - b)
  return {
    rate: plan.rate,
    sent,
    probes,
    answered: latencies.length,
    warmupMs: { p50: quantile(warm, 0.5), p99: quantile(warm, 0.99), count: warm.length },
    steadyMs: {
      p50: quantile(steady, 0.5),
      p99: quantile(steady, 0.99),
      max: +(steady[steady.length - 1] ?? 0).toFixed(2),
      count: steady.length,
    },
    // The probes' PUBACKs after the warm-up: how much of the latency is taking the reading in.
    steadyPubackMs: { p50: quantile(steadyAcks, 0.5), p99: quantile(steadyAcks, 0.99) },
  }
}
