import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOUR, iso, telemetry } from '../helpers/fleet.ts'
import { type InProcess, startInProcess } from '../helpers/in-process.ts'
import { waitFor } from '../helpers/service-process.ts'

const T0 = Date.parse('2026-11-20T08:00:00Z')

/** /metrics as Prometheus reads it, parsed by a Prometheus text-format parser. */
async function scrape(running: InProcess): Promise<Map<string, MetricFamily>> {
  const res = await running.service.app.inject('/metrics')
  expect(res.statusCode).toBe(200)
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  return new Map(parsePrometheusTextFormat(res.body).map((f) => [f.name, f]))
}

/** The value of a counter or gauge, with these labels (those not named are any). */
function value(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name)
  if (!family) throw new Error(`no metric ${name}`)
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  return Number(sample?.value ?? 0)
}

describe('GET /metrics', () => {
  let running: InProcess
  const publish = (reading: unknown) =>
    running.client.publishAsync(
      telemetry('milano-hq', 'SCM-004512', reading).topic,
      JSON.stringify(reading),
      { qos: 1 },
    )
  // Event time: "now" follows the readings, so fixed 2026 instants are never ahead of the clock.
  beforeAll(async () => {
    running = await startInProcess({ clock: 'event', sweepIntervalMs: '1h' })
  })
  afterAll(() => running.stop())

  it('parses as Prometheus text exposition, with the types Prometheus expects', async () => {
    const families = await scrape(running)
    expect(families.get('printwarden_readings_accepted_total')?.type).toBe('COUNTER')
    expect(families.get('printwarden_messages_rejected_total')?.type).toBe('COUNTER')
    expect(families.get('printwarden_puback_latency_seconds')?.type).toBe('HISTOGRAM')
    expect(families.get('printwarden_processing_batch_seconds')?.type).toBe('HISTOGRAM')
    expect(families.get('printwarden_processing_backlog_readings')?.type).toBe('GAUGE')
    expect(families.get('printwarden_actions_unresolved')?.type).toBe('GAUGE')
    expect(families.get('printwarden_spool_readings')?.type).toBe('GAUGE')
    expect(families.get('printwarden_rule_reload_failures_total')?.type).toBe('COUNTER')
    // Node's own process metrics are there too.
    expect(families.get('process_cpu_seconds_total')?.type).toBe('COUNTER')
    expect(families.get('nodejs_heap_size_used_bytes')?.type).toBe('GAUGE')
  })

  it('shows every rejection reason from the start, at zero', async () => {
    const families = await scrape(running)
    const reasons = families.get('printwarden_messages_rejected_total')?.metrics.map((m) => m.labels?.reason)
    expect(reasons).toEqual(expect.arrayContaining(['not-json', 'invalid-payload', 'unknown-topic']))
  })

  it('counts one MQTT connection for the test client', async () => {
    expect(value(await scrape(running), 'printwarden_mqtt_connections')).toBeGreaterThanOrEqual(1)
  })

  it('moves its counters as readings, duplicates, rejections and actions flow', async () => {
    const before = await scrape(running)
    await publish({ ts: iso(T0), seq: 1, toner: { black: 64 } })
    await publish({ ts: iso(T0 + HOUR), seq: 2, toner: { black: 19 } })
    await publish({ ts: iso(T0 + HOUR), seq: 2, toner: { black: 19 } })
    await publish({ ts: iso(T0 + 2 * HOUR), toner: { black: 140 } })
    await running.client.publishAsync('fleet/v1/milano-hq/SCM-004512/telemetry', 'not json', { qos: 1 })
    // The reorder for black at 19% is created, published, and counted by the metrics sink.
    const after = await waitFor(
      async () => {
        const f = await scrape(running)
        return value(f, 'printwarden_actions_created_total', { type: 'reorder' }) >= 1 ? f : undefined
      },
      20_000,
      'the reorder to be counted',
    )
    const moved = (name: string, labels?: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels)
    expect(moved('printwarden_readings_accepted_total')).toBe(2)
    expect(moved('printwarden_readings_duplicate_total')).toBe(1)
    expect(moved('printwarden_messages_rejected_total', { reason: 'invalid-payload' })).toBe(1)
    expect(moved('printwarden_messages_rejected_total', { reason: 'not-json' })).toBe(1)
    expect(moved('printwarden_mqtt_messages_total')).toBe(5)
    expect(moved('printwarden_action_changes_total', { type: 'reorder', status: 'open' })).toBe(1)
    expect(value(after, 'printwarden_actions_unresolved', { type: 'reorder' })).toBe(1)
    expect(moved('printwarden_processed_readings_total')).toBe(2)
    const puback = after.get('printwarden_puback_latency_seconds')?.metrics[0]
    expect(Number(puback?.count)).toBeGreaterThanOrEqual(5)
  })

  it('counts an acknowledgement as a change of the action, not a creation', async () => {
    const [reorder] = (await running.service.app.inject('/actions?type=reorder')).json<{
      items: { id: string }[]
    }>().items
    const before = await scrape(running)
    const res = await running.service.app.inject({ method: 'POST', url: `/actions/${reorder?.id}/ack` })
    expect(res.statusCode).toBe(200)
    const after = await waitFor(
      async () => {
        const f = await scrape(running)
        return value(f, 'printwarden_action_changes_total', { type: 'reorder', status: 'acknowledged' }) === 1
          ? f
          : undefined
      },
      20_000,
      'the acknowledgement to be counted',
    )
    expect(value(after, 'printwarden_actions_created_total', { type: 'reorder' })).toBe(
      value(before, 'printwarden_actions_created_total', { type: 'reorder' }),
    )
  })

  it('gives /stats the same numbers, read from the same registry', async () => {
    const families = await scrape(running)
    const stats = (await running.service.app.inject('/stats')).json<{
      ingest: { readingsStored: number; duplicates: number; rejected: Record<string, number> }
    }>()
    expect(stats.ingest.readingsStored).toBe(value(families, 'printwarden_readings_accepted_total'))
    expect(stats.ingest.duplicates).toBe(value(families, 'printwarden_readings_duplicate_total'))
    expect(stats.ingest.rejected['not-json']).toBe(
      value(families, 'printwarden_messages_rejected_total', { reason: 'not-json' }),
    )
  })

  it('counts the subjects the rules decided, by the memo of cases seen before or by the engine', async () => {
    const before = await scrape(running)
    expect(before.get('printwarden_rule_decisions_total')?.type).toBe('COUNTER')
    const engineBefore = value(before, 'printwarden_rule_decisions_total', { subject: 'toner', by: 'engine' })
    const memoBefore = value(before, 'printwarden_rule_decisions_total', { subject: 'toner', by: 'memo' })
    // The same case three times (toner well above its threshold): one engine run at most, then the memo.
    // A device of its own, after the other tests' readings: it is the suite's last test.
    for (const [h, level] of [
      [3, 64],
      [4, 63],
      [5, 62],
    ] as const) {
      const reading = { ts: iso(T0 + h * HOUR), toner: { black: level } }
      await running.client.publishAsync(
        telemetry('milano-hq', 'SCM-MEMO-01', reading).topic,
        JSON.stringify(reading),
        { qos: 1 },
      )
    }
    await running.service.processor.idle()
    const after = await scrape(running)
    const engine = value(after, 'printwarden_rule_decisions_total', { subject: 'toner', by: 'engine' })
    const memo = value(after, 'printwarden_rule_decisions_total', { subject: 'toner', by: 'memo' })
    expect(engine - engineBefore).toBeLessThanOrEqual(1)
    expect(memo - memoBefore).toBeGreaterThanOrEqual(2)
    expect(engine + memo - engineBefore - memoBefore).toBe(3)
  })
})
