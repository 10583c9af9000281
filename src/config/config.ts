import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { calendarProblems, type SiteCalendar } from '../domain/calendar.ts'
import { configError } from '../errors.ts'
import type { InfluxTarget } from '../store/influx/influx-store.ts'
import { OPTIONS } from './options.ts'

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

export type Key = keyof Static<typeof ConfigSchema>

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
