/**
 * The gateway's error codes, in the style of src/errors.ts: a stable code and a message that says
 * what to do about it.
 */
export const GatewayErrorCodes = {
  PW_ERR_GATEWAY_FLAG: 'a flag or config value is invalid',
  PW_ERR_GATEWAY_PRINTERS: 'the printers file cannot be used',
  PW_ERR_GATEWAY_PROFILE: 'the printer profiles cannot be used',
  PW_ERR_GATEWAY_BUFFER: 'the buffer directory cannot be used',
  PW_ERR_GATEWAY_SNMP: 'a printer did not answer over SNMP',
} as const

export type GatewayErrorCode = keyof typeof GatewayErrorCodes

export class GatewayError extends Error {
  readonly code: GatewayErrorCode
  constructor(code: GatewayErrorCode, message: string) {
    super(message)
    this.name = 'GatewayError'
    this.code = code
  }
}
