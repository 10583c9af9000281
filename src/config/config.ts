import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import ms from 'ms'
import {
  calendarProblems,
  DEFAULT_SUPPORT_HOURS,
  DEFAULT_WORKING_DAYS,
  type SiteCalendar,
} from '../domain/calendar.ts'
import { configError } from '../errors.ts'
import type { InfluxTarget } from '../store/influx/influx-store.ts'

const Port = Type.Integer({ minimum: 0, maximum: 65535 })
/** A listener's port, or -1 for `off` (Access: the plain listeners may be turned off beside TLS). */
const PortOrOff = Type.Integer({ minimum: -1, maximum: 65535 })

/** The one schema of the configuration: the type is derived from it. */
export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'address the MQTT and HTTP listeners bind to' }),
    mqttPort: PortOrOff,
    wsPort: PortOrOff,
    httpPort: Port,
    dataDir: Type.String({ minLength: 1 }),
    init: Type.Boolean({ description: 'create --data-dir if it does not exist' }),
    rulesDir: Type.String({ minLength: 1 }),
    sweepIntervalMs: Type.Integer({ minimum: 10 }),
    topicRoot: Type.String({ pattern: '^[^#+]+[^/#+]$' }),
    maxPayloadBytes: Type.Integer({ minimum: 1024 }),
    maxFutureSkewMs: Type.Integer({ minimum: 0 }),
    clock: Type.Union([Type.Literal('wall'), Type.Literal('event')]),
    store: Type.Union([Type.Literal('sqlite'), Type.Literal('influx')]),
    influxUrl: Type.String(),
    spoolMax: Type.Integer({ minimum: 1 }),
    webhookUrl: Type.String(),
    webhookSecret: Type.String(),
    webhookTimeoutMs: Type.Integer({ minimum: 10 }),
    webhookRetryMs: Type.Integer({ minimum: 10 }),
    webhookRetryMaxMs: Type.Integer({ minimum: 10 }),
    smtpUrl: Type.String(),
    mailFrom: Type.String(),
    serviceDesk: Type.String(),
    notificationsDir: Type.String({ minLength: 1 }),
    mailRetryMs: Type.Integer({ minimum: 10 }),
    mailRetryMaxMs: Type.Integer({ minimum: 10 }),
    // Access (src/access): TLS, and the broker's limits.
    tlsCert: Type.String(),
    tlsKey: Type.String(),
    tlsCa: Type.String(),
    mqttsPort: PortOrOff,
    wssPort: PortOrOff,
    maxConnections: Type.Integer({ minimum: 1 }),
    maxConnectionsPerAccount: Type.Integer({ minimum: 1 }),
    connectTimeoutMs: Type.Integer({ minimum: 100 }),
    publishRate: Type.Number({ exclusiveMinimum: 0 }),
    publishBurst: Type.Integer({ minimum: 1 }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    ),
    // The provider's support calendar: SLA clocks run on it where a site has no calendar of its own.
    supportZone: Type.String({ minLength: 1, description: 'IANA time zone of the provider' }),
    supportDays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, uniqueItems: true }),
    supportHours: Type.Object(
      {
        start: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }),
        end: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }),
      },
      { additionalProperties: false },
    ),
    supportHolidays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
  },
  { additionalProperties: false },
)
export type Config = Readonly<Static<typeof ConfigSchema>>

type Key = keyof Static<typeof ConfigSchema>

interface OptionSpec {
  key: Key
  flag: string
  description: string
  defaultValue: string
  parse: (raw: string) => unknown
  /** A flag that takes no value (`--init`); in the environment and the file it is true or false. */
  switch?: true
}

const integer = (raw: string): unknown => (/^-?\d+$/.test(raw.trim()) ? Number(raw) : raw)
/** `500ms`, `1s`, `5m`, `2d`, or a bare number of milliseconds → milliseconds; null if it is none. */
export function parseDuration(raw: string): number | null {
  const trimmed = raw.trim()
  // A bare number is taken as milliseconds, like everywhere else in Node.
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  const parsed = ms(trimmed as ms.StringValue)
  return typeof parsed === 'number' && Number.isFinite(parsed) ? Math.round(parsed) : null
}
const duration = (raw: string): unknown => parseDuration(raw) ?? raw
const text = (raw: string): unknown => raw
const boolean = (raw: string): unknown =>
  /^(true|1|yes)$/i.test(raw.trim()) ? true : /^(false|0|no|)$/i.test(raw.trim()) ? false : raw
/** `1,2,3` → [1, 2, 3]; anything else is left for the schema to refuse. */
const integers = (raw: string): unknown =>
  /^\s*\d+(\s*,\s*\d+)*\s*$/.test(raw) ? raw.split(',').map((n) => Number(n.trim())) : raw
/** `09:00-18:00` → { start, end }. */
const hoursRange = (raw: string): unknown => {
  const m = /^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$/.exec(raw)
  return m ? { start: m[1], end: m[2] } : raw
}
/** `2026-12-25,2026-12-26` → a list; empty → none. */
const dates = (raw: string): unknown => (raw.trim() === '' ? [] : raw.split(',').map((d) => d.trim()))
const portOrOff = (raw: string): unknown => (raw.trim() === 'off' ? -1 : integer(raw))
const decimal = (raw: string): unknown => (/^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw)

/**
 * Every option the service takes, in one table: the command line, the environment
 * (`PRINTWARDEN_` + the flag in upper snake case) and the config file are all read from it.
 */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'mqttPort',
    flag: 'mqtt-port',
    defaultValue: '1883',
    parse: portOrOff,
    description: 'TCP port of the embedded MQTT broker (0 = any free port, off = none)',
  },
  {
    key: 'wsPort',
    flag: 'ws-port',
    defaultValue: '9001',
    parse: portOrOff,
    description: 'port of MQTT over WebSocket (0 = any free port, off = none)',
  },
  {
    key: 'httpPort',
    flag: 'http-port',
    defaultValue: '3000',
    parse: integer,
    description: 'port of the HTTP API (0 = any free port)',
  },
  {
    key: 'host',
    flag: 'host',
    defaultValue: '127.0.0.1',
    parse: text,
    description: 'address to listen on (0.0.0.0 for every interface)',
  },
  {
    key: 'dataDir',
    flag: 'data-dir',
    defaultValue: './data',
    parse: text,
    description: 'where everything the service keeps lives',
  },
  {
    key: 'init',
    flag: 'init',
    defaultValue: 'false',
    parse: boolean,
    switch: true,
    description: 'create --data-dir if it does not exist (the default ./data is created without it)',
  },
  { key: 'rulesDir', flag: 'rules-dir', defaultValue: './rules', parse: text, description: 'the rule files' },
  {
    key: 'sweepIntervalMs',
    flag: 'sweep-interval',
    defaultValue: '60s',
    parse: duration,
    description: 'how often rules about silence are checked (500ms, 1s, 5m, …)',
  },
  {
    key: 'topicRoot',
    flag: 'topic-root',
    defaultValue: 'fleet/v1',
    parse: text,
    description: 'MQTT topic root',
  },
  {
    key: 'maxPayloadBytes',
    flag: 'max-payload',
    defaultValue: '262144',
    parse: integer,
    description: 'largest MQTT payload accepted, in bytes',
  },
  {
    key: 'maxFutureSkewMs',
    flag: 'max-future-skew',
    defaultValue: '10m',
    parse: duration,
    description: 'how far ahead of the clock a reading may be',
  },
  {
    key: 'clock',
    flag: 'clock',
    defaultValue: 'wall',
    parse: text,
    description: 'wall, or event: "now" follows the newest reading, for simulations faster than real time',
  },
  {
    key: 'store',
    flag: 'store',
    defaultValue: 'sqlite',
    parse: text,
    description: 'sqlite (embedded, in --data-dir) or influx',
  },
  {
    key: 'influxUrl',
    flag: 'influx-url',
    defaultValue: '',
    parse: text,
    description: 'with --store influx: http://host:8086/DATABASE',
  },
  {
    key: 'spoolMax',
    flag: 'spool-max',
    defaultValue: '1000000',
    parse: integer,
    description: 'with --store influx: readings that may wait for InfluxDB before ingest stops acknowledging',
  },
  {
    key: 'webhookUrl',
    flag: 'webhook-url',
    defaultValue: '',
    parse: text,
    description:
      'an HTTP endpoint (an ERP, a ticketing system) that gets every action change, POSTed as JSON',
  },
  {
    key: 'webhookSecret',
    flag: 'webhook-secret',
    defaultValue: '',
    parse: text,
    description: 'with --webhook-url: signs each body (x-printwarden-signature: sha256=HMAC)',
  },
  {
    key: 'webhookTimeoutMs',
    flag: 'webhook-timeout',
    defaultValue: '10s',
    parse: duration,
    description:
      'with --webhook-url: how long one request may take before it counts as failed and is retried',
  },
  {
    key: 'webhookRetryMs',
    flag: 'webhook-retry',
    defaultValue: '1s',
    parse: duration,
    description:
      'with --webhook-url: the wait after the endpoint failed once, doubling with each failure in a row',
  },
  {
    key: 'webhookRetryMaxMs',
    flag: 'webhook-retry-max',
    defaultValue: '30s',
    parse: duration,
    description: 'with --webhook-url: the longest wait between tries of an endpoint that is down',
  },
  // Access (src/access)
  {
    key: 'tlsCert',
    flag: 'tls-cert',
    defaultValue: '',
    parse: text,
    description: 'PEM certificate: adds MQTT over TLS and secure WebSocket, and makes the API HTTPS',
  },
  {
    key: 'tlsKey',
    flag: 'tls-key',
    defaultValue: '',
    parse: text,
    description: 'with --tls-cert: its PEM key',
  },
  {
    key: 'tlsCa',
    flag: 'tls-ca',
    defaultValue: '',
    parse: text,
    description:
      'with --tls-cert: a PEM CA whose client certificates sign in as the account their common name names',
  },
  {
    key: 'mqttsPort',
    flag: 'mqtts-port',
    defaultValue: '8883',
    parse: portOrOff,
    description: 'with --tls-cert: port of MQTT over TLS (0 = any free port, off = none)',
  },
  {
    key: 'wssPort',
    flag: 'wss-port',
    defaultValue: '8884',
    parse: portOrOff,
    description: 'with --tls-cert: port of MQTT over secure WebSocket (0 = any free port, off = none)',
  },
  {
    key: 'maxConnections',
    flag: 'max-connections',
    defaultValue: '2000',
    parse: integer,
    description: 'MQTT connections at once, over every listener; more are closed at once',
  },
  {
    key: 'maxConnectionsPerAccount',
    flag: 'max-connections-per-account',
    defaultValue: '20',
    parse: integer,
    description: 'MQTT connections of one account at once',
  },
  {
    key: 'connectTimeoutMs',
    flag: 'connect-timeout',
    defaultValue: '10s',
    parse: duration,
    description: 'how long a new MQTT connection may take to send its CONNECT',
  },
  {
    key: 'publishRate',
    flag: 'publish-rate',
    defaultValue: '100',
    parse: decimal,
    description: 'MQTT publishes per second of one account (the excess is refused and counted)',
  },
  {
    key: 'publishBurst',
    flag: 'publish-burst',
    defaultValue: '1000',
    parse: integer,
    description: 'publishes one account may send at once above --publish-rate',
  },
  {
    key: 'smtpUrl',
    flag: 'smtp-url',
    defaultValue: '',
    parse: text,
    description:
      'a mail server for email to the people actions name: smtp://user:pass@host:587 (STARTTLS) or smtps://…',
  },
  {
    key: 'mailFrom',
    flag: 'mail-from',
    defaultValue: '',
    parse: text,
    description: 'with --smtp-url: the sender address',
  },
  {
    key: 'serviceDesk',
    flag: 'service-desk',
    defaultValue: '',
    parse: text,
    description:
      'with --smtp-url: the provider service desk address, copied where the notification routes say (a breach)',
  },
  {
    key: 'notificationsDir',
    flag: 'notifications-dir',
    defaultValue: './notifications',
    parse: text,
    description: 'with --smtp-url: who is mailed about which change, the templates and their messages',
  },
  {
    key: 'mailRetryMs',
    flag: 'mail-retry',
    defaultValue: '1s',
    parse: duration,
    description:
      'with --smtp-url: the wait after a mail server failed once, doubling with each failure in a row',
  },
  {
    key: 'mailRetryMaxMs',
    flag: 'mail-retry-max',
    defaultValue: '5m',
    parse: duration,
    description: 'with --smtp-url: the longest wait between tries of a mail server that is down',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    defaultValue: 'info',
    parse: text,
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
  {
    key: 'supportZone',
    flag: 'support-zone',
    defaultValue: 'UTC',
    parse: text,
    description: "the provider's time zone (IANA, e.g. Europe/Rome): SLA clocks run on the support calendar",
  },
  {
    key: 'supportDays',
    flag: 'support-days',
    defaultValue: DEFAULT_WORKING_DAYS.join(','),
    parse: integers,
    description: 'support working days, ISO weekdays (1 = Monday … 7 = Sunday), comma-separated',
  },
  {
    key: 'supportHours',
    flag: 'support-hours',
    defaultValue: `${DEFAULT_SUPPORT_HOURS.start}-${DEFAULT_SUPPORT_HOURS.end}`,
    parse: hoursRange,
    description: 'support hours on a working day, local HH:mm-HH:mm',
  },
  {
    key: 'supportHolidays',
    flag: 'support-holidays',
    defaultValue: '',
    parse: dates,
    description: "the provider's holidays, local YYYY-MM-DD, comma-separated",
  },
]

/**
 * Whether a missing data directory may be made: with --init, or when it is the default `./data`.
 * Any other missing directory is a typo until proven otherwise.
 */
export function mayCreateDataDir(config: Pick<Config, 'dataDir' | 'init'>): boolean {
  const fallback = OPTIONS.find((o) => o.key === 'dataDir')?.defaultValue ?? './data'
  return config.init || resolve(config.dataDir) === resolve(fallback)
}

/**
 * The provider's support calendar: SLA clocks (and deliveries) of a site with no calendar of its own
 * run on it.
 */
export function supportCalendar(config: Config): SiteCalendar {
  return {
    zone: config.supportZone,
    workingDays: [...config.supportDays],
    workingHours: { ...config.supportHours },
    holidays: [...config.supportHolidays],
  }
}

export const envName = (flag: string) => `PRINTWARDEN_${flag.replace(/-/g, '_').toUpperCase()}`

export interface ConfigSources {
  /** Contents of a JSON config file, keyed by flag name or by config key. */
  file?: Record<string, unknown>
  fileName?: string
  env?: Record<string, string | undefined>
  /** Flags given on the command line, keyed by config key, as strings. */
  flags?: Partial<Record<Key, string>>
}

/** One option of a command's table: the service's, or another command's (the gateway's). */
export interface LayeredOption<K extends string = string> {
  key: K
  flag: string
  defaultValue: string
  parse: (raw: string) => unknown
}

/**
 * The values of an option table from defaults < file < environment < flags, each with where it came
 * from (for a message that tells the user which of the four to fix), and the file's keys that name no
 * option.
 */
export function layerOptions<K extends string>(
  options: readonly LayeredOption<K>[],
  sources: {
    file?: Record<string, unknown>
    fileName?: string
    env?: Record<string, string | undefined>
    flags?: Partial<Record<K, string>>
  },
  envOf: (flag: string) => string,
): { raw: Record<string, unknown>; origin: Record<string, string>; unknown: string[] } {
  const raw: Record<string, unknown> = {}
  const origin: Record<string, string> = {}
  const fileKeys = new Set(Object.keys(sources.file ?? {}))
  for (const spec of options) {
    let value: unknown = spec.parse(spec.defaultValue)
    let from = 'the default'
    for (const name of [spec.flag, spec.key]) {
      if (sources.file && name in sources.file) {
        const v = sources.file[name]
        value = typeof v === 'string' ? spec.parse(v) : v
        from = `${sources.fileName ?? 'the config file'} (${name})`
        fileKeys.delete(name)
      }
    }
    const fromEnv = sources.env?.[envOf(spec.flag)]
    if (fromEnv !== undefined && fromEnv !== '') {
      value = spec.parse(fromEnv)
      from = `the environment (${envOf(spec.flag)})`
    }
    const fromFlag = sources.flags?.[spec.key]
    if (fromFlag !== undefined) {
      value = spec.parse(fromFlag)
      from = `the flag --${spec.flag}`
    }
    raw[spec.key] = value
    origin[spec.key] = from
  }
  return { raw, origin, unknown: [...fileKeys] }
}

/** The first value of `raw` that breaks `schema`, as a message naming its flag and its source. */
export function schemaProblem(
  schema: TSchema,
  options: readonly LayeredOption[],
  raw: Record<string, unknown>,
  origin: Record<string, string>,
): string | null {
  const first = Value.Errors(schema, raw).First()
  if (!first) return null
  const key = first.path.split('/')[1] ?? ''
  const spec = options.find((o) => o.key === key)
  return `--${spec?.flag ?? key} = ${JSON.stringify(raw[key])} from ${origin[key] ?? 'somewhere'}: ${first.message}`
}

/**
 * Builds the frozen configuration from defaults < file < environment < flags. A value that does not
 * fit says where it came from, so the user knows which of the four to fix.
 */
export function buildConfig(sources: ConfigSources): Config {
  const { raw, origin, unknown } = layerOptions(OPTIONS, sources, envName)
  if (unknown.length > 0) {
    throw configError(`${sources.fileName ?? 'the config file'} has unknown options: ${unknown.join(', ')}`)
  }
  const invalid = schemaProblem(ConfigSchema, OPTIONS, raw, origin)
  if (invalid) throw configError(invalid)
  const support = calendarProblems(supportCalendar(raw as Static<typeof ConfigSchema>))
  if (support.length > 0) {
    throw configError(
      `the support calendar (--support-zone, --support-days, --support-hours, --support-holidays): ${support.join('; ')}`,
    )
  }
  if ((raw.tlsCert === '') !== (raw.tlsKey === '') || (raw.tlsCa !== '' && raw.tlsCert === '')) {
    throw configError('--tls-cert and --tls-key go together, and --tls-ca needs them')
  }
  if (raw.store === 'influx' && raw.influxUrl === '') {
    throw configError(
      `--store influx needs --influx-url http://host:8086/DATABASE (${origin.store ?? ''} set the store)`,
    )
  }
  if (raw.smtpUrl !== '') parseSmtpUrl(raw.smtpUrl as string, raw.mailFrom as string)
  // A URL that names no database is refused here, with the other settings, not at the first write.
  if (raw.store === 'influx') parseInfluxUrl(raw.influxUrl as string)
  return Object.freeze(raw as Static<typeof ConfigSchema>)
}

export function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw configError(`cannot read the config file ${path}: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw configError(`the config file ${path} must hold a JSON object`)
  }
  return parsed as Record<string, unknown>
}

/** `http://host:8086/DATABASE` → the server and the database. */
export function parseInfluxUrl(raw: string): InfluxTarget {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw configError(`--influx-url ${JSON.stringify(raw)} is not a URL; expected http://host:8086/DATABASE`)
  }
  const database = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ''))
  if (!/^https?:$/.test(url.protocol) || database === '' || database.includes('/')) {
    throw configError(`--influx-url ${JSON.stringify(raw)}: expected http://host:8086/DATABASE`)
  }
  return { url: `${url.protocol}//${url.host}`, database }
}

/** Checks `--smtp-url` and `--mail-from` together, at start: the reason, as a config error. */
export function parseSmtpUrl(raw: string, from: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw configError(`--smtp-url ${JSON.stringify(raw)} is not a URL; expected smtp://user:pass@host:587`)
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw configError(`--smtp-url ${JSON.stringify(raw)}: expected smtp://… (STARTTLS) or smtps://…`)
  }
  if (from === '') throw configError('--smtp-url needs --mail-from, the sender address')
  return url
}
