/**
 * The one catalogue of printwarden's error codes. Every error a user can meet carries a stable
 * `PW_ERR_*` code and a message that says what to do about it.
 */
export const ErrorCodes = {
  PW_ERR_CONFIG: 'invalid configuration',
  PW_ERR_RULE_FILE: 'a rule file could not be loaded',
  PW_ERR_RULE_RUNTIME: 'a rule failed while running',
  PW_ERR_NOT_FOUND: 'no such resource',
  PW_ERR_BAD_REQUEST: 'the request breaks the API contract',
  PW_ERR_STOPPED: 'the service is stopping',
  PW_ERR_SPOOL_FULL: 'the InfluxDB spool is full: readings are refused until InfluxDB takes them',
  PW_ERR_UNAUTHORIZED: 'no token, or a token of no account: send Authorization: Bearer TOKEN',
  PW_ERR_FORBIDDEN: "the account's role may not use this route",
  PW_ERR_INTERNAL: 'an unexpected failure; the service log has the details',
  PW_ERR_DATA_DIR: 'the data directory cannot be used',
  PW_ERR_DATA_DIR_LOCKED: 'another printwarden uses the data directory',
  PW_ERR_DB_CORRUPT: 'the database file is empty, truncated or damaged',
  PW_ERR_DB_SCHEMA: 'the database was made by a newer printwarden',
  PW_ERR_STORAGE: 'the data directory refused a write or a read (disk full, read-only, removed)',
  PW_ERR_PORT_IN_USE: 'a port the service must listen on is taken',
  PW_ERR_MAIL:
    'an email was not sent: an address that does not parse, a message that does not render, or a permanent refusal of the mail server',
  PW_ERR_NOTIFICATION_FILE:
    'a notification file (notifications.json, messages/<lang>.json) could not be loaded; its last good version is used',
  PW_ERR_TEMPLATE: 'a message template does not load or render; its last good version is used',
} as const

export type ErrorCode = keyof typeof ErrorCodes

export class PrintwardenError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  constructor(code: ErrorCode, message: string, statusCode = 500) {
    super(message)
    this.name = 'PrintwardenError'
    this.code = code
    this.statusCode = statusCode
  }
}

export const configError = (message: string) => new PrintwardenError('PW_ERR_CONFIG', message)
export const notFound = (what: string) =>
  new PrintwardenError('PW_ERR_NOT_FOUND', `${what} does not exist`, 404)
export const badRequest = (message: string) => new PrintwardenError('PW_ERR_BAD_REQUEST', message, 400)
export const stopping = () =>
  new PrintwardenError('PW_ERR_STOPPED', 'the service is stopping; send again once it is back', 503)

/**
 * Why the broker's access hooks rejected a message (src/access): a PUBLISH outside the account's
 * topics, a known device under another site's topic, publishes over the account's rate.
 */
export const AccessRejectReasons = ['not-authorized', 'wrong-site', 'rate-limited'] as const

/**
 * Why an incoming MQTT message was rejected. These are the labels of the rejection counters that
 * `GET /stats` reports, so they are part of what operators see: keep them stable.
 */
export const RejectReasons = [
  'unknown-topic',
  'too-large',
  'not-json',
  'invalid-payload',
  'future-timestamp',
  'old-timestamp',
  'read-only-topic',
  'retained-telemetry',
  'bad-topic-name',
  ...AccessRejectReasons,
] as const
export type RejectReason = (typeof RejectReasons)[number]
