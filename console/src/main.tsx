import { render } from 'preact'
import { useEffect, useMemo, useState } from 'preact/hooks'
import {
  type Action,
  api,
  type Device,
  type RuleView,
  type StoredReading,
  token,
  watchActions,
} from './api.ts'
import { CancelButton, RequestForms } from './requests.tsx'

const STATUSES = ['open', 'acknowledged', 'resolved'] as const

/** The page the address names: #/actions, #/devices/ID, #/rules, #/entry. */
function useRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'actions').split('/').map(decodeURIComponent)
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const onHash = () => setRoute(read())
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [])
  return route
}

/** Now, once a second: for the SLA countdowns. */
function useNow(): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(t)
  }, [])
  return now
}

function duration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000)
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  // Seconds always: a countdown that visibly moves reads as live.
  const parts = [d > 0 ? `${d}d` : '', d > 0 || h > 0 ? `${h}h` : '', `${m}m`, `${s % 60}s`]
  return parts.filter(Boolean).join(' ')
}

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—')

interface Ticket {
  stage?: string
  dueDates?: Record<string, string>
  breaches?: { clock: string }[]
}

/** A ticket's SLA clocks (due on the site's working hours, as the service reckoned them), counting down. */
function SlaClocks({ action, now }: { action: Action; now: number }) {
  const ticket = action.details.ticket as Ticket | undefined
  if (!ticket?.dueDates || action.status === 'resolved') return null
  return (
    <>
      {Object.entries(ticket.dueDates).map(([clock, due]) => {
        const left = Date.parse(due) - now
        return (
          <span key={clock} class={`clock ${left < 0 ? 'late' : ''}`} title={`due ${when(due)}`}>
            {clock}: {left < 0 ? `late by ${duration(left)}` : `${duration(left)} left`}
          </span>
        )
      })}
    </>
  )
}

function summary(a: Action): string {
  const d = a.details
  const parts: string[] = []
  for (const key of ['color', 'level', 'quantity', 'code', 'gatewayId', 'state', 'description', 'resolution'])
    if (d[key] !== undefined) parts.push(`${key} ${String(d[key])}`)
  if (d.extra === true) parts.push('extra')
  // A device that is down: where its people can print meanwhile.
  const elsewhere = Array.isArray(d.alternatives) ? (d.alternatives as { deviceId: string }[]) : []
  if (elsewhere.length > 0)
    parts.push(
      `print at ${elsewhere
        .slice(0, 3)
        .map((a) => a.deviceId)
        .join(', ')}`,
    )
  return parts.join(', ')
}

function ActionsPage({ actions, onChange }: { actions: Action[]; onChange: (a: Action) => void }) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '')
  const [site, setSite] = useState(params.get('site') ?? '')
  const [type, setType] = useState(params.get('type') ?? '')
  const [status, setStatus] = useState(params.get('status') ?? '')
  const [error, setError] = useState('')
  const now = useNow()
  const sites = useMemo(() => [...new Set(actions.map((a) => a.siteId))].sort(), [actions])
  const types = useMemo(() => [...new Set(actions.map((a) => a.type))].sort(), [actions])
  const shown = actions.filter(
    (a) => (!site || a.siteId === site) && (!type || a.type === type) && (!status || a.status === status),
  )
  const act = async (a: Action, verb: 'ack' | 'resolve') => {
    setError('')
    try {
      onChange(await api<Action>('POST', `/actions/${encodeURIComponent(a.id)}/${verb}`))
    } catch (err) {
      setError((err as Error).message)
    }
  }
  const select = (label: string, value: string, set: (v: string) => void, options: readonly string[]) => (
    <label>
      {label}
      <select name={label} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  )
  return (
    <>
      <h2>Actions and tickets</h2>
      <div class="filters">
        {select('site', site, setSite, sites)}
        {select('type', type, setType, types)}
        {select('status', status, setStatus, STATUSES)}
        <span class="muted">
          {shown.length} of {actions.length}
        </span>
      </div>
      {error && <p class="error">{error}</p>}
      <table id="actions">
        <thead>
          <tr>
            <th>type</th>
            <th>site</th>
            <th>device</th>
            <th>status</th>
            <th>details</th>
            <th>SLA</th>
            <th>updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shown.map((a) => (
            <tr key={a.id} data-id={a.id} data-type={a.type}>
              <td>{a.type}</td>
              <td>{a.siteId}</td>
              <td>
                {a.deviceId ? <a href={`#/devices/${encodeURIComponent(a.deviceId)}`}>{a.deviceId}</a> : '—'}
              </td>
              <td>
                <span class={`status ${a.status}`}>{a.status}</span>
              </td>
              <td>{summary(a)}</td>
              <td>
                <SlaClocks action={a} now={now} />
              </td>
              <td>{when(a.updatedAt)}</td>
              <td class="actions">
                {a.status === 'open' && (
                  <button type="button" onClick={() => act(a, 'ack')}>
                    Acknowledge
                  </button>
                )}
                {a.status !== 'resolved' && (
                  <button type="button" onClick={() => act(a, 'resolve')}>
                    Resolve
                  </button>
                )}
                <CancelButton action={a} onChange={onChange} onError={setError} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length === 0 && <p class="muted">No action matches.</p>}
    </>
  )
}

/** Toner levels over time, one line per colour, as an SVG drawn here (no chart library). */
function TonerChart({ readings }: { readings: StoredReading[] }) {
  const points = readings.filter((r) => r.toner).map((r) => ({ t: Date.parse(r.ts), toner: r.toner ?? {} }))
  if (points.length === 0) return <p class="muted">No toner readings yet.</p>
  const colours = [...new Set(points.flatMap((p) => Object.keys(p.toner)))]
  const W = 640
  const H = 200
  const t0 = points[0]?.t ?? 0
  const span = Math.max(1, (points.at(-1)?.t ?? 0) - t0)
  const x = (t: number) => 40 + ((t - t0) / span) * (W - 60)
  const y = (v: number) => 10 + (1 - v / 100) * (H - 30)
  const stroke: Record<string, string> = {
    black: '#101828',
    cyan: '#06aed4',
    magenta: '#dd2590',
    yellow: '#eaaa08',
  }
  return (
    <svg class="chart" id="toner-chart" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img">
      <title>Toner levels over time</title>
      {[0, 50, 100].map((v) => (
        <g key={v}>
          <line x1={40} x2={W - 20} y1={y(v)} y2={y(v)} stroke="#e4e7ec" />
          <text x={8} y={y(v) + 4} font-size="11" fill="#667085">
            {v}%
          </text>
        </g>
      ))}
      {colours.map((c) => (
        <polyline
          key={c}
          data-color={c}
          fill="none"
          stroke={stroke[c] ?? '#7a5af8'}
          stroke-width="2"
          points={points
            .filter((p) => p.toner[c] !== undefined)
            .map((p) => `${x(p.t).toFixed(1)},${y(p.toner[c] as number).toFixed(1)}`)
            .join(' ')}
        />
      ))}
    </svg>
  )
}

function DevicePage({
  deviceId,
  actions,
  onChange,
}: {
  deviceId: string
  actions: Action[]
  onChange: (a: Action) => void
}) {
  const [device, setDevice] = useState<Device | null>(null)
  const [readings, setReadings] = useState<StoredReading[]>([])
  const [error, setError] = useState('')
  useEffect(() => {
    const id = encodeURIComponent(deviceId)
    api<Device>('GET', `/devices/${id}`).then(setDevice, (e: Error) => setError(e.message))
    api<{ items: StoredReading[] }>('GET', `/devices/${id}/readings`).then(
      (r) => setReadings(r.items),
      (e: Error) => setError(e.message),
    )
  }, [deviceId, actions.length])
  const mine = actions.filter((a) => a.deviceId === deviceId)
  return (
    <>
      <h2>Device {deviceId}</h2>
      {error && <p class="error">{error}</p>}
      {device && (
        <div class="cards">
          <div class="card">
            <dl>
              <dt>site</dt>
              <dd>{device.siteId}</dd>
              <dt>model</dt>
              <dd>{[device.vendor, device.model].filter(Boolean).join(' ') || '—'}</dd>
              <dt>location</dt>
              <dd>{device.location ?? '—'}</dd>
              <dt>last reading</dt>
              <dd>{when(device.lastReadingAt)}</dd>
              <dt>status</dt>
              <dd>{device.status ?? '—'}</dd>
              <dt>pages</dt>
              <dd>{device.counters?.total ?? '—'}</dd>
            </dl>
          </div>
          <div class="card">
            <dl id="toner-now">
              {Object.entries(device.toner).map(([c, v]) => (
                <>
                  <dt>{c}</dt>
                  <dd>{v}%</dd>
                </>
              ))}
              <dt>waste box</dt>
              <dd>{device.wasteBox === null ? '—' : String(device.wasteBox)}</dd>
            </dl>
          </div>
          <div class="card">
            <strong>Errors</strong>
            {device.errors.length === 0 ? (
              <p class="muted">none active</p>
            ) : (
              <ul>
                {device.errors.map((e) => (
                  <li key={e.code}>
                    {e.code} ({e.severity}) {e.text ?? ''}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
      )}
      <h3>Toner history</h3>
      <TonerChart readings={readings} />
      <h3>Ask for service or supplies</h3>
      <RequestForms deviceId={deviceId} colors={Object.keys(device?.toner ?? {})} onAction={onChange} />
      <h3>Actions and orders</h3>
      <table id="device-actions">
        <thead>
          <tr>
            <th>type</th>
            <th>status</th>
            <th>details</th>
            <th>created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {mine.map((a) => (
            <tr key={a.id} data-id={a.id} data-type={a.type}>
              <td>{a.type}</td>
              <td>
                <span class={`status ${a.status}`}>{a.status}</span>
              </td>
              <td>{summary(a)}</td>
              <td>{when(a.createdAt)}</td>
              <td class="actions">
                <CancelButton action={a} onChange={onChange} onError={setError} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

function RulesPage() {
  const [view, setView] = useState<RuleView | null>(null)
  const [error, setError] = useState('')
  useEffect(() => {
    api<RuleView>('GET', '/rules').then(setView, (e: Error) => setError(e.message))
  }, [])
  return (
    <>
      <h2>Rules</h2>
      {error && <p class="error">{error}</p>}
      {view && (
        <>
          <h3>Files that failed to load ({view.failures.length})</h3>
          {view.failures.length === 0 ? (
            <p class="muted">none</p>
          ) : (
            <table id="rule-failures">
              <thead>
                <tr>
                  <th>file</th>
                  <th>reason</th>
                  <th>running instead</th>
                </tr>
              </thead>
              <tbody>
                {view.failures.map((f) => (
                  <tr key={f.file}>
                    <td>{f.file}</td>
                    <td class="error">{f.reason}</td>
                    <td>{f.running ?? 'nothing'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Loaded ({view.rules.length})</h3>
          <table id="rules">
            <thead>
              <tr>
                <th>rule</th>
                <th>subject</th>
                <th>action</th>
                <th>file</th>
                <th>description</th>
              </tr>
            </thead>
            <tbody>
              {view.rules.map((r) => (
                <tr key={r.name}>
                  <td>{r.name}</td>
                  <td>{r.subject}</td>
                  <td>{r.event.type}</td>
                  <td>{r.file}</td>
                  <td class="muted">{r.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  )
}

/** What a site contact types in: a meter reading (for a device that sends no counters), a stock count. */
function EntryPage() {
  const [message, setMessage] = useState('')
  const submit = (path: (f: FormData) => string, body: (f: FormData) => unknown) => async (e: Event) => {
    e.preventDefault()
    const form = new FormData(e.target as HTMLFormElement)
    try {
      await api('POST', path(form), body(form))
      setMessage('Saved.')
    } catch (err) {
      setMessage((err as Error).message)
    }
  }
  const nowIso = () => new Date().toISOString()
  return (
    <>
      <h2>Enter readings and counts</h2>
      <h3>Meter reading</h3>
      <form
        class="entry"
        id="meter-form"
        onSubmit={submit(
          (f) => `/devices/${encodeURIComponent(String(f.get('deviceId')))}/meter-readings`,
          (f) => ({ ts: nowIso(), counters: { total: Number(f.get('total')) } }),
        )}
      >
        <label>
          device
          <input name="deviceId" required />
        </label>
        <label>
          total pages
          <input name="total" type="number" min="0" required />
        </label>
        <button type="submit" class="primary">
          Save reading
        </button>
      </form>
      <h3>Spare stock count</h3>
      <form
        class="entry"
        id="stock-form"
        onSubmit={submit(
          (f) => `/sites/${encodeURIComponent(String(f.get('siteId')))}/stock-counts`,
          (f) => ({
            ts: nowIso(),
            items: [
              {
                color: String(f.get('color')),
                ...(f.get('model') ? { model: String(f.get('model')) } : {}),
                count: Number(f.get('count')),
              },
            ],
          }),
        )}
      >
        <label>
          site
          <input name="siteId" required />
        </label>
        <label>
          model
          <input name="model" />
        </label>
        <label>
          colour
          <input name="color" required value="black" />
        </label>
        <label>
          cartridges
          <input name="count" type="number" min="0" required />
        </label>
        <button type="submit" class="primary">
          Save count
        </button>
      </form>
      {message && <p class="message">{message}</p>}
    </>
  )
}

function App() {
  const route = useRoute()
  const [actions, setActions] = useState<Action[]>([])
  const [live, setLive] = useState(false)
  const [error, setError] = useState('')
  const [tokenText, setTokenText] = useState(token.get())
  const [generation, setGeneration] = useState(0)
  /** An action changed (here, or as the service said): newest first, as GET /actions lists them. */
  const upsert = (a: Action) =>
    setActions((list) => {
      const rest = list.filter((x) => x.id !== a.id)
      return [a, ...rest].sort((x, y) => y.createdAt.localeCompare(x.createdAt))
    })
  useEffect(() => {
    api<{ items: Action[] }>('GET', '/actions').then(
      (r) => {
        setError('')
        setActions(r.items)
      },
      (e: Error) => setError(e.message),
    )
    return watchActions(upsert, setLive)
  }, [generation])
  const page = route[0]
  const link = (to: string, text: string) => (
    <a href={`#/${to}`} class={page === to ? 'active' : ''}>
      {text}
    </a>
  )
  return (
    <>
      <header>
        <h1>printwarden</h1>
        <nav>
          {link('actions', 'Actions')}
          {link('rules', 'Rules')}
          {link('entry', 'Enter counts')}
        </nav>
        <span class={`live ${live ? 'on' : ''}`} id="live">
          {live ? 'live' : 'offline'}
        </span>
        <form
          class="token"
          onSubmit={(e) => {
            e.preventDefault()
            token.set(tokenText)
            setGeneration((g) => g + 1)
          }}
        >
          <input
            type="password"
            placeholder="account token (if any)"
            value={tokenText}
            onInput={(e) => setTokenText((e.target as HTMLInputElement).value)}
          />
          <button type="submit">Use</button>
        </form>
      </header>
      <main>
        {error && <p class="error">{error}</p>}
        {page === 'devices' && route[1] ? (
          <DevicePage deviceId={route[1]} actions={actions} onChange={upsert} />
        ) : page === 'rules' ? (
          <RulesPage />
        ) : page === 'entry' ? (
          <EntryPage />
        ) : (
          <ActionsPage actions={actions} onChange={upsert} />
        )}
      </main>
    </>
  )
}

const root = document.getElementById('app')
if (root) render(<App />, root)
