/**
 * The printers file (`--printers FILE`): a JSON list of the printers a gateway polls, in the
 * contract's shape, checked against one schema at load.
 */
import { readFileSync } from 'node:fs'
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { Id } from '../src/contract/schemas.ts'
import { GatewayError } from './errors.ts'

export const PrinterSchema = Type.Object({
  deviceId: Id,
  host: Type.String({ minLength: 1 }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  community: Type.Optional(Type.String()),
  snmp: Type.Optional(Type.Union([Type.Literal('v1'), Type.Literal('v2c'), Type.Literal('v3')])),
  v3: Type.Optional(
    Type.Object({
      user: Type.String({ minLength: 1 }),
      level: Type.Union([Type.Literal('noAuthNoPriv'), Type.Literal('authNoPriv'), Type.Literal('authPriv')]),
      authProtocol: Type.Optional(
        Type.Union(['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'].map((p) => Type.Literal(p))),
      ),
      authKey: Type.Optional(Type.String()),
      privProtocol: Type.Optional(
        Type.Union(['des', 'aes', 'aes256b', 'aes256r'].map((p) => Type.Literal(p))),
      ),
      privKey: Type.Optional(Type.String()),
    }),
  ),
  /** A profile id of gateway/profiles.json, when the printer's sysObjectID or description does not tell. */
  profile: Type.Optional(Type.String()),
  /** This printer's own SNMP timeout (`5s`, `800ms`) and retries, over the gateway's. */
  timeout: Type.Optional(Type.String()),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
})
export type Printer = Static<typeof PrinterSchema>

const PrintersFile = Type.Array(PrinterSchema, { maxItems: 100_000 })

export function parsePrinters(json: unknown, file: string): Printer[] {
  const first = Value.Errors(PrintersFile, json).First()
  if (first)
    throw new GatewayError('PW_ERR_GATEWAY_PRINTERS', `${file}${first.path || '/'}: ${first.message}`)
  const printers = json as Printer[]
  const seen = new Set<string>()
  for (const [i, p] of printers.entries()) {
    if (seen.has(p.deviceId))
      throw new GatewayError('PW_ERR_GATEWAY_PRINTERS', `${file}/${i}: device ${p.deviceId} is listed twice`)
    seen.add(p.deviceId)
    if (p.snmp === 'v3' && !p.v3)
      throw new GatewayError('PW_ERR_GATEWAY_PRINTERS', `${file}/${i}: snmp v3 needs a "v3" object`)
    if (p.v3 && p.v3.level !== 'noAuthNoPriv' && !p.v3.authKey)
      throw new GatewayError('PW_ERR_GATEWAY_PRINTERS', `${file}/${i}/v3: level ${p.v3.level} needs authKey`)
    if (p.v3?.level === 'authPriv' && !p.v3.privKey)
      throw new GatewayError('PW_ERR_GATEWAY_PRINTERS', `${file}/${i}/v3: level authPriv needs privKey`)
  }
  return printers
}

export function loadPrinters(file: string): Printer[] {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new GatewayError('PW_ERR_GATEWAY_PRINTERS', `cannot read ${file}: ${(err as Error).message}`)
  }
  return parsePrinters(json, file)
}
