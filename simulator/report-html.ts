/**
 * `--report-html FILE`: one self-contained HTML page of a run, for people: the run's settings, its
 * totals, and charts over simulated time drawn as inline SVG (no script, no CDN, nothing fetched),
 * so the file opens anywhere and can be mailed.
 */
import type { RunReport } from './runner.ts'
import type { TimelinePoint } from './timeline.ts'

interface Series {
  name: string
  colour: string
  value: (p: TimelinePoint) => number | null
}

const esc = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )

const W = 560
const H = 220
const PAD = { left: 48, right: 12, top: 12, bottom: 28 }

/** A line chart of some series over the run's simulated time. */
function chart(id: string, title: string, unit: string, timeline: TimelinePoint[], series: Series[]): string {
  const times = timeline.map((p) => Date.parse(p.at))
  const t0 = times[0] ?? 0
  const t1 = Math.max(t0 + 1, times.at(-1) ?? 0)
  const values = series.flatMap((s) => timeline.map(s.value).filter((v): v is number => v !== null))
  const top = Math.max(1, ...values) * 1.05
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right)
  const y = (v: number) => PAD.top + (1 - v / top) * (H - PAD.top - PAD.bottom)
  const grid = [0, 0.5, 1]
    .map((f) => {
      const v = top * f
      return `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e7ec"/><text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(formatNumber(v))}</text>`
    })
    .join('')
  const day = (t: number) => new Date(t).toISOString().slice(0, 10)
  const axis = `<text x="${PAD.left}" y="${H - 8}">${day(t0)}</text><text x="${W - PAD.right}" y="${H - 8}" text-anchor="end">${day(t1)}</text>`
  const lines = series
    .map((s) => {
      const pts = timeline
        .map((p, i) => ({ t: times[i] as number, v: s.value(p) }))
        .filter((p): p is { t: number; v: number } => p.v !== null)
        .map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`)
      return `<polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${s.colour}" stroke-width="2" points="${pts.join(' ')}"/>`
    })
    .join('')
  const legend = series
    .map((s) => `<span><i style="background:${s.colour}"></i>${esc(s.name)}</span>`)
    .join('')
  return `<figure class="chart" data-chart="${id}">
<figcaption>${esc(title)} <small>(${esc(unit)})</small></figcaption>
<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${grid}${axis}${lines}</svg>
<div class="legend">${legend}</div>
</figure>`
}

function formatNumber(v: number): string {
  if (v >= 1000) return `${Math.round(v / 100) / 10}k`
  return v >= 10 ? String(Math.round(v)) : String(Math.round(v * 10) / 10)
}

function table(rows: [string, unknown][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('')}</table>`
}

export function htmlReport(r: RunReport): string {
  const t = r.timeline
  const k = r.kpis
  const settings: [string, unknown][] = [
    ['scenario', r.run.scenario],
    ['seed', r.run.seed],
    ['devices', r.run.devices],
    ['sites', r.run.sites],
    ['simulated time', `${r.run.start} → ${r.run.end}`],
    ['reading interval', r.run.interval],
    ['speed', r.run.speed],
    ['broker', r.run.broker ?? 'none (dry run)'],
    ['closed loop', r.run.closedLoop],
    ['lockstep', r.run.lockstep],
  ]
  const totals: [string, unknown][] = [
    ['readings published', r.published.readings],
    ['stockout hours', k.stockout.hours],
    ['toner reorders', k.orders.reorders],
    ['waste box orders', k.orders.wasteBoxes],
    ['cartridges fitted', k.supplies.cartridgesFitted],
    ['faults ticketed', `${k.faults.ticketed} of ${k.faults.injected}`],
    ['SLA breaches', t.at(-1)?.slaBreaches ?? 0],
    [
      'toner thrown away',
      `${k.tonerThrownAway.percentPoints} percent points, ${k.tonerThrownAway.pages} pages`,
    ],
    ['latency p50 / p95', `${r.latencyMs.p50} ms / ${r.latencyMs.p95} ms`],
  ]
  const charts = [
    chart('stockout', 'Stockout hours, so far', 'device-hours', t, [
      { name: 'stockout hours', colour: '#b42318', value: (p) => p.stockoutHours },
    ]),
    chart('orders', 'Orders and deliveries, so far', 'count', t, [
      { name: 'toner reorders', colour: '#2457c5', value: (p) => p.reorders },
      { name: 'cartridges fitted', colour: '#06aed4', value: (p) => p.cartridgesFitted },
      { name: 'waste box orders', colour: '#7a5af8', value: (p) => p.wasteBoxOrders },
      { name: 'waste boxes fitted', colour: '#dd2590', value: (p) => p.wasteBoxesFitted },
    ]),
    chart('tickets', 'Tickets and SLA breaches, so far', 'count', t, [
      { name: 'tickets', colour: '#b54708', value: (p) => p.tickets },
      { name: 'SLA breaches', colour: '#b42318', value: (p) => p.slaBreaches },
    ]),
    chart('toner-waste', 'Toner thrown away, so far', 'percent points of cartridges', t, [
      { name: 'thrown away', colour: '#667085', value: (p) => p.tonerThrownAwayPercentPoints },
    ]),
    chart('latency', 'Publish-to-action latency', 'ms, median per interval', t, [
      { name: 'p50', colour: '#067647', value: (p) => p.latencyP50Ms },
    ]),
  ]
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>printwarden simulation: ${esc(r.run.scenario)}, seed ${r.run.seed}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; color: #1d2430; margin: 1.5rem; background: #f8f9fb; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; }
.top { display: flex; gap: 2rem; flex-wrap: wrap; margin-bottom: 1.5rem; }
table { border-collapse: collapse; background: #fff; border: 1px solid #e4e7ec; }
th, td { text-align: left; padding: .3rem .7rem; border-bottom: 1px solid #e4e7ec; }
th { color: #667085; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(${W + 24}px, 1fr)); gap: 1rem; }
figure { margin: 0; background: #fff; border: 1px solid #e4e7ec; border-radius: 8px; padding: .7rem; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg text { font-size: 11px; fill: #667085; }
.legend span { margin-right: 1rem; font-size: .85rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; border-radius: 2px; }
</style>
</head>
<body>
<h1>printwarden simulation: ${esc(r.run.scenario)}, seed ${r.run.seed}</h1>
<div class="top">
<section><h2>Settings</h2>${table(settings)}</section>
<section><h2>Totals</h2>${table(totals)}</section>
</div>
<div class="charts">
${charts.join('\n')}
</div>
</body>
</html>
`
}
