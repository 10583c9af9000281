/**
 * Every option the service takes, in one table, with how each is read from text: the command line,
 * the environment and the config file are all read through it (src/config/config.ts).
 */
import ms from 'ms'
import { DEFAULT_SUPPORT_HOURS, DEFAULT_WORKING_DAYS } from '../domain/calendar.ts'
import type { Key } from './config.ts'

export interface OptionSpec {
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
