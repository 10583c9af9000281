/** The run's summary as text, for stdout. The same numbers are in `--report` as JSON. */
import type { Distribution } from './kpi.ts'
import type { RunReport } from './runner.ts'

const n = (x: number) => x.toLocaleString('en-US')
const d = (x: Distribution, unit: string) =>
  x.count === 0
    ? 'none'
    : `p50 ${x.p50} ${unit}, p95 ${x.p95} ${unit}, p99 ${x.p99} ${unit}, max ${x.max} ${unit} (${n(x.count)})`

export function formatSummary(r: RunReport): string {
  const k = r.kpis
  const lines = [
    '',
    `printwarden fleet simulation — ${r.run.scenario}, seed ${r.run.seed}`,
    `  fleet        ${n(r.run.devices)} printers on ${n(r.run.sites)} sites, ${r.run.start} → ${r.run.end}, a reading every ${r.run.interval}`,
    `  mode         ${r.run.broker ?? 'dry run (no broker)'}, speed ${r.run.speed}, ${r.run.closedLoop ? 'closed loop' : 'open loop'}${r.run.lockstep ? `, lockstep every ${r.run.syncEveryMinutes} min` : ''}`,
    '',
    `  published    ${n(r.published.readings)} readings in ${n(r.published.messages)} messages (${n(r.published.births)} births, ${n(r.published.replayMessages)} replay arrays of ${n(r.published.replayedReadings)} readings), ${n(Math.round(r.published.bytes / 1024))} KiB`,
    `  rate         ${n(r.rate.readingsPerSecond)} readings/s, ${n(r.rate.messagesPerSecond)} messages/s, ${r.rate.simulatedHoursPerSecond} simulated hours/s, ${r.rate.wallSeconds} s${r.rate.processedSeconds === null ? '' : ` (all processed at ${r.rate.processedSeconds} s)`}`,
    `  latency      reading sent → action received: ${d(r.latencyMs, 'ms')}`,
    `  actions      ${
      Object.entries(k.actions)
        .map(([t, c]) => `${t} ${c}`)
        .join(', ') || 'none'
    }`,
    '',
    `  stockout     ${k.stockout.hours} h stopped for lack of toner (${k.stockout.officeHours} h in office hours), ${k.stockout.episodes} times on ${k.stockout.devices} printers`,
    `  thrown away  ${k.tonerThrownAway.cartridges} cartridges of toner (${n(k.tonerThrownAway.pages)} pages) in ${k.tonerThrownAway.earlyReplacements} early replacements`,
    `  supplies     ${k.supplies.cartridgesFitted} cartridges and ${k.supplies.wasteBoxesFitted} waste boxes fitted, ${k.supplies.shakes} cartridges shaken`,
    `  orders       ${k.orders.reorders} toner, ${k.orders.wasteBoxes} waste box; duplicates ${k.orders.duplicates}; effects due before their action arrived ${k.orders.lateEffects}`,
    `  follow-ups   ${k.followUps.deliveryOverdue} delivery-overdue; ${k.followUps.chasedOrdersOnTime} chased an order that arrived within its lead time`,
    `  silences     ${k.silences.injected} injected, ${k.silences.detectable} long enough to detect, ${k.silences.detected} detected; delay ${d(k.silences.detectionDelayHours, 'h')}`,
    `  faults       ${k.faults.injected} critical injected, ${k.faults.reported} reported, ${k.faults.ticketed} ticketed, ${k.faults.repaired} repaired; delay ${d(k.faults.detectionDelayHours, 'h')}`,
    `  incidents    ${k.incidents.outages} gateway outages, ${k.incidents.jams} jams, ${k.incidents.coversOpen} covers open, ${k.incidents.counterResets} counter resets`,
  ]
  if (!r.run.observesActions)
    lines.push('  (no actions observed: detection is not measured without a closed loop or --api)')
  else {
    if (k.silences.missed.length > 0) lines.push(`  MISSED silences: ${k.silences.missed.join(', ')}`)
    if (k.faults.missed.length > 0) lines.push(`  MISSED faults: ${k.faults.missed.join(', ')}`)
  }
  return `${lines.join('\n')}\n`
}
