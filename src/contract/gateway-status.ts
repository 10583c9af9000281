/**
 * A gateway's state (CONTRACT.md, "A gateway's state"): what a gateway publishes, retained, on
 * `{root}/{siteId}/gateways/{gatewayId}/status` when it connects, and as its last will.
 */
import { type Static, Type } from '@sinclair/typebox'
import { Id, Timestamp } from './schemas.ts'

export const GatewayState = Type.Object({
  state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  ts: Type.Optional(Timestamp),
  devices: Type.Optional(Type.Array(Id)),
  software: Type.Optional(Type.String({ maxLength: 128 })),
})
export type GatewayState = Static<typeof GatewayState>

export function gatewayStatusTopic(root: string, siteId: string, gatewayId: string): string {
  return `${root}/${siteId}/gateways/${gatewayId}/status`
}
