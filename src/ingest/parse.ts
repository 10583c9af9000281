/**
 * Turns one MQTT message into readings or a birth, or a rejection with its reason. Pure: the
 * message, the settings and "now" in, a value out.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler'
import {
  Birth,
  GatewayStatus,
  MAX_BATCH,
  MIN_READING_TS,
  Reading as ReadingSchema,
  Telemetry,
  type WireReading,
} from '../contract/schemas.ts'
import { parseSiteTopic, parseTopic } from '../contract/topics.ts'
import { hasContent, normalizeReading, type Reading, toEpochMs } from '../domain/reading.ts'
import type { RejectReason } from '../errors.ts'

const checkTelemetry = TypeCompiler.Compile(Telemetry)
const checkBirth = TypeCompiler.Compile(Birth)
const checkReading = TypeCompiler.Compile(ReadingSchema)
const checkGateway = TypeCompiler.Compile(GatewayStatus)

export interface ParseSettings {
  topicRoot: string
  maxPayloadBytes: number
  maxFutureSkewMs: number
}

export type Parsed =
  | { kind: 'telemetry'; siteId: string; deviceId: string; readings: Reading[] }
  | { kind: 'birth'; siteId: string; deviceId: string; birth: Birth }
  | { kind: 'gateway'; siteId: string; gatewayId: string; status: GatewayState }
  | { kind: 'rejected'; reason: RejectReason; detail: string }

const reject = (reason: RejectReason, detail: string): Parsed => ({ kind: 'rejected', reason, detail })

function firstError(check: { Errors: typeof checkBirth.Errors }, value: unknown, prefix = ''): string {
  const e = check.Errors(value).First()
  return e ? `${prefix}${e.path || '/'}: ${e.message}` : 'does not match the contract'
}

/** Names the reading and field at fault, rather than a union's "expected union value". */
function telemetryError(value: unknown): string {
  if (!Array.isArray(value)) return firstError(checkReading, value)
  if (value.length === 0) return 'an empty array holds no reading'
  if (value.length > MAX_BATCH) return `an array holds at most ${MAX_BATCH} readings, not ${value.length}`
  const i = value.findIndex((r) => !checkReading.Check(r))
  return firstError(checkReading, value[i], `/${i}`)
}

/** A gateway's state as the service keeps it: `at` is its `ts`, or the time it was received. */
export interface GatewayState {
  state: 'online' | 'offline'
  at: number
  devices?: string[]
  software?: string
}

function parseGateway(settings: ParseSettings, payload: Buffer, now: number): GatewayState | Parsed {
  if (payload.length > settings.maxPayloadBytes)
    return reject('too-large', `${payload.length} bytes is over the limit of ${settings.maxPayloadBytes}`)
  let json: unknown
  try {
    json = JSON.parse(payload.toString('utf8'))
  } catch (err) {
    return reject('not-json', (err as Error).message)
  }
  if (!checkGateway.Check(json)) return reject('invalid-payload', firstError(checkGateway, json))
  // A will carries no time: the service takes the time it received it.
  const at = json.ts === undefined ? now : toEpochMs(json.ts)
  if (!Number.isFinite(at)) return reject('invalid-payload', `/ts: ${JSON.stringify(json.ts)} is not a date`)
  if (at - now > settings.maxFutureSkewMs)
    return reject(
      'future-timestamp',
      `/ts: ${new Date(at).toISOString()} is ahead of ${new Date(now).toISOString()}`,
    )
  return {
    state: json.state,
    at,
    ...(json.devices === undefined ? {} : { devices: [...new Set(json.devices)] }),
    ...(json.software === undefined ? {} : { software: json.software }),
  }
}

export function parseMessage(
  settings: ParseSettings,
  topic: string,
  payload: Buffer,
  now: number,
  retain = false,
  /** "Now" of the decisions, for a gateway's state that names no time (event time: the newest reading's). */
  decisionNow: number = now,
): Parsed {
  const t = parseTopic(settings.topicRoot, topic)
  if (!t) {
    const site = parseSiteTopic(settings.topicRoot, topic)
    if (site?.kind === 'site-actions')
      return reject('read-only-topic', `${topic} is published by printwarden only`)
    if (site?.kind === 'gateway-status') {
      const status = parseGateway(settings, payload, decisionNow)
      if ('kind' in status) return status
      return { kind: 'gateway', siteId: site.siteId, gatewayId: site.gatewayId, status }
    }
    return reject(
      'unknown-topic',
      `${topic} is not ${settings.topicRoot}/{siteId}/{deviceId}/telemetry, …/birth or {siteId}/gateways/{gatewayId}/status (device IDs actions and gateways are reserved)`,
    )
  }
  if (t.kind === 'actions') return reject('read-only-topic', `${topic} is published by printwarden only`)
  // robust: a retained reading would be replayed to every later subscriber as if it were new.
  if (retain && t.kind === 'telemetry')
    return reject(
      'retained-telemetry',
      `${topic}: telemetry is never retained; publish it with the retain flag off (the broker keeps no copy of readings)`,
    )
  if (payload.length > settings.maxPayloadBytes) {
    return reject('too-large', `${payload.length} bytes is over the limit of ${settings.maxPayloadBytes}`)
  }
  let json: unknown
  try {
    json = JSON.parse(payload.toString('utf8'))
  } catch (err) {
    return reject('not-json', (err as Error).message)
  }

  if (t.kind === 'birth') {
    if (!checkBirth.Check(json)) return reject('invalid-payload', firstError(checkBirth, json))
    const { vendor, model, serial, location, contact } = json
    const birth: Birth = {}
    if (vendor !== undefined) birth.vendor = vendor
    if (model !== undefined) birth.model = model
    if (serial !== undefined) birth.serial = serial
    if (location !== undefined) birth.location = location
    if (contact !== undefined) birth.contact = contact
    return { kind: 'birth', siteId: t.siteId, deviceId: t.deviceId, birth }
  }

  if (!checkTelemetry.Check(json)) return reject('invalid-payload', telemetryError(json))
  const wires: WireReading[] = Array.isArray(json) ? json : [json]
  const readings: Reading[] = []
  for (let i = 0; i < wires.length; i++) {
    const wire = wires[i] as WireReading
    const at = Array.isArray(json) ? `/${i}` : ''
    if (!hasContent(wire))
      return reject(
        'invalid-payload',
        `${at || '/'}: a reading needs at least one field besides ts (seq, toner, wasteBox, counters, status or errors)`,
      )
    const ts = toEpochMs(wire.ts)
    if (!Number.isFinite(ts))
      return reject('invalid-payload', `${at}/ts: ${JSON.stringify(wire.ts)} is not a date`)
    // robust: 1,700,000,000 (seconds) read as milliseconds is January 1970; 0000-01-01 is no reading.
    if (ts < MIN_READING_TS)
      return reject(
        'old-timestamp',
        `${at}/ts: ${JSON.stringify(wire.ts)} is ${new Date(ts).toISOString()}, before 2000-01-01: ts takes epoch milliseconds, not seconds (multiply by 1000), or ISO 8601 with a zone`,
      )
    if (ts - now > settings.maxFutureSkewMs) {
      return reject(
        'future-timestamp',
        `${at}/ts: ${new Date(ts).toISOString()} is more than ${settings.maxFutureSkewMs / 60000} minutes ahead of ${new Date(now).toISOString()}`,
      )
    }
    readings.push(normalizeReading(t.siteId, t.deviceId, wire, ts))
  }
  return { kind: 'telemetry', siteId: t.siteId, deviceId: t.deviceId, readings }
}
