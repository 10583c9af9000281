/**
 * The gateway's options, in one table like the service's (src/config/config.ts): the command line,
 * the environment (`PRINTWARDEN_GATEWAY_` + the flag in upper snake case) and a JSON config file
 * (`--config`) are all read from it, defaults < file < environment < flags, into one frozen config.
 */
import { type Static, Type } from '@sinclair/typebox'
import { layerOptions, schemaProblem } from '../src/config/config.ts'
import { parseDuration } from '../src/config/options.ts'
import { ID_PATTERN } from '../src/contract/topics.ts'
import { GatewayError } from './errors.ts'
import { PROFILES_FILE } from './profiles.ts'

export const GatewayConfigSchema = Type.Object(
  {
    broker: Type.String({ pattern: '^(mqtts?|wss?)://' }),
    site: Type.String({ pattern: ID_PATTERN }),
    username: Type.String(),
    password: Type.String(),
    id: Type.String({ pattern: ID_PATTERN }),
    ca: Type.String(),
    cert: Type.String(),
    key: Type.String(),
    printers: Type.String({ minLength: 1 }),
    intervalMs: Type.Integer({ minimum: 100 }),
    bufferDir: Type.String({ minLength: 1 }),
    bufferMax: Type.Integer({ minimum: 1 }),
    concurrency: Type.Integer({ minimum: 1, maximum: 1024 }),
    snmpTimeoutMs: Type.Integer({ minimum: 10 }),
    snmpRetries: Type.Integer({ minimum: 0, maximum: 10 }),
    maxRepetitions: Type.Integer({ minimum: 1, maximum: 200 }),
    topicRoot: Type.String({ pattern: '^[^#+]+[^/#+]$' }),
    maxPayloadBytes: Type.Integer({ minimum: 1024 }),
    profiles: Type.String({ minLength: 1 }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    ),
  },
  { additionalProperties: false },
)
export type GatewayConfig = Readonly<Static<typeof GatewayConfigSchema>>
type Key = keyof Static<typeof GatewayConfigSchema>

interface OptionSpec {
  key: Key
  flag: string
  description: string
  defaultValue: string
  parse: (raw: string) => unknown
}

const text = (raw: string): unknown => raw
const integer = (raw: string): unknown => (/^-?\d+$/.test(raw.trim()) ? Number(raw) : raw)
const duration = (raw: string): unknown => parseDuration(raw) ?? raw

export const GATEWAY_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'broker',
    flag: 'broker',
    defaultValue: 'mqtt://127.0.0.1:1883',
    parse: text,
    description: "the service's broker (mqtts:// for TLS)",
  },
  { key: 'site', flag: 'site', defaultValue: '', parse: text, description: 'the site this gateway serves' },
  { key: 'username', flag: 'username', defaultValue: '', parse: text, description: "the gateway's account" },
  { key: 'password', flag: 'password', defaultValue: '', parse: text, description: "the account's token" },
  {
    key: 'id',
    flag: 'id',
    defaultValue: '',
    parse: text,
    description: 'gateway ID in the status topic [--username]; without an account it must be given',
  },
  {
    key: 'ca',
    flag: 'ca',
    defaultValue: '',
    parse: text,
    description: 'with mqtts://: the CA to trust (a PEM file)',
  },
  {
    key: 'cert',
    flag: 'cert',
    defaultValue: '',
    parse: text,
    description: 'with mqtts://: a client certificate (PEM)',
  },
  {
    key: 'key',
    flag: 'key',
    defaultValue: '',
    parse: text,
    description: "with mqtts://: the client certificate's key (PEM)",
  },
  {
    key: 'printers',
    flag: 'printers',
    defaultValue: '',
    parse: text,
    description: 'a JSON list of printers',
  },
  {
    key: 'intervalMs',
    flag: 'interval',
    defaultValue: '15m',
    parse: duration,
    description: 'time between polls of one printer',
  },
  {
    key: 'bufferDir',
    flag: 'buffer-dir',
    defaultValue: './gateway-data',
    parse: text,
    description: 'readings kept while the broker is away, replayed in order when it is back',
  },
  {
    key: 'bufferMax',
    flag: 'buffer-max',
    defaultValue: '200000',
    parse: integer,
    description: 'readings the buffer keeps at most; the oldest are dropped, and counted, beyond',
  },
  {
    key: 'concurrency',
    flag: 'concurrency',
    defaultValue: '32',
    parse: integer,
    description: 'printers polled at once at most',
  },
  {
    key: 'snmpTimeoutMs',
    flag: 'snmp-timeout',
    defaultValue: '5s',
    parse: duration,
    description: 'how long to wait for an SNMP answer (a printer may set its own)',
  },
  {
    key: 'snmpRetries',
    flag: 'snmp-retries',
    defaultValue: '1',
    parse: integer,
    description: 'SNMP requests sent again after a timeout (a printer may set its own)',
  },
  {
    key: 'maxRepetitions',
    flag: 'max-repetitions',
    defaultValue: '20',
    parse: integer,
    description: 'GETBULK max-repetitions of the table walks',
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
    defaultValue: '250000',
    parse: integer,
    description: 'largest replay message, in bytes (the service takes 256 KiB by default)',
  },
  {
    key: 'profiles',
    flag: 'profiles',
    defaultValue: PROFILES_FILE,
    parse: text,
    description: 'the printer-model profiles (JSON)',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    defaultValue: 'info',
    parse: text,
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
]

export const gatewayEnvName = (flag: string) => `PRINTWARDEN_GATEWAY_${flag.replace(/-/g, '_').toUpperCase()}`

export interface GatewayConfigSources {
  file?: Record<string, unknown>
  fileName?: string
  env?: Record<string, string | undefined>
  flags?: Partial<Record<Key, string>>
}

const flagError = (message: string) => new GatewayError('PW_ERR_GATEWAY_FLAG', message)

export function buildGatewayConfig(sources: GatewayConfigSources): GatewayConfig {
  const { raw, origin, unknown } = layerOptions(GATEWAY_OPTIONS, sources, gatewayEnvName)
  if (unknown.length > 0)
    throw flagError(`${sources.fileName ?? 'the config file'} has unknown options: ${unknown.join(', ')}`)
  if (raw.id === '' && raw.username !== '') raw.id = raw.username
  if (raw.site === '') throw flagError('--site is needed: the site this gateway serves')
  if (raw.printers === '') throw flagError('--printers FILE is needed: the printers to poll')
  if (raw.id === '') throw flagError('--id is needed without --username: the gateway ID of the status topic')
  const invalid = schemaProblem(GatewayConfigSchema, GATEWAY_OPTIONS, raw, origin)
  if (invalid) throw flagError(invalid)
  const tls = [raw.ca, raw.cert, raw.key].some((v) => v !== '')
  if (tls && !/^(mqtts|wss):/.test(raw.broker as string))
    throw flagError('--ca, --cert and --key are for an mqtts:// broker')
  if ((raw.cert === '') !== (raw.key === '')) throw flagError('--cert and --key go together')
  return Object.freeze(raw as Static<typeof GatewayConfigSchema>)
}
