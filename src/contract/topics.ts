/**
 * The MQTT topic scheme of CONTRACT.md: `{root}/{siteId}/{deviceId}/{kind}` for a device,
 * `{root}/{siteId}/actions` for a whole site's actions, and
 * `{root}/{siteId}/gateways/{gatewayId}/status` for a gateway's state.
 */
export const ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$'
const ID = new RegExp(ID_PATTERN)

export const INBOUND_KINDS = ['telemetry', 'birth'] as const
export type InboundKind = (typeof INBOUND_KINDS)[number]
export type TopicKind = InboundKind | 'actions'
const KINDS: readonly string[] = [...INBOUND_KINDS, 'actions']

/** Never device IDs: the topics of a site's actions and of its gateways take their place. */
export const RESERVED_DEVICE_IDS: readonly string[] = ['actions', 'gateways']

export interface DeviceTopic {
  siteId: string
  deviceId: string
  kind: TopicKind
}

/** A topic of the contract that is not a device's: a site's actions, a gateway's state. */
export type SiteTopic =
  | { siteId: string; kind: 'site-actions' }
  | { siteId: string; gatewayId: string; kind: 'gateway-status' }

export function isValidId(id: string): boolean {
  return ID.test(id)
}

/** A device ID as the contract takes it: the pattern, and none of the reserved words. */
export function isDeviceId(id: string): boolean {
  return ID.test(id) && !RESERVED_DEVICE_IDS.includes(id)
}

function partsOf(root: string, topic: string): string[] | null {
  if (!topic.startsWith(root) || topic.charCodeAt(root.length) !== 47 /* '/' */) return null
  return topic.slice(root.length + 1).split('/')
}

/** Returns null for any topic outside the contract's table of device topics (reserved IDs included). */
export function parseTopic(root: string, topic: string): DeviceTopic | null {
  const parts = partsOf(root, topic)
  if (parts?.length !== 3) return null
  const [siteId, deviceId, kind] = parts as [string, string, string]
  if (!KINDS.includes(kind) || !ID.test(siteId) || !isDeviceId(deviceId)) return null
  return { siteId, deviceId, kind: kind as TopicKind }
}

/** A site's actions topic or a gateway's status topic; null for anything else. */
export function parseSiteTopic(root: string, topic: string): SiteTopic | null {
  const parts = partsOf(root, topic)
  if (!parts) return null
  const [siteId, second, gatewayId, last] = parts
  if (siteId === undefined || !ID.test(siteId)) return null
  if (parts.length === 2 && second === 'actions') return { siteId, kind: 'site-actions' }
  if (parts.length === 4 && second === 'gateways' && last === 'status' && gatewayId && ID.test(gatewayId))
    return { siteId, gatewayId, kind: 'gateway-status' }
  return null
}

export function formatTopic(root: string, siteId: string, deviceId: string, kind: TopicKind): string {
  return `${root}/${siteId}/${deviceId}/${kind}`
}

export function formatSiteTopic(root: string, siteId: string, kind: 'actions'): string {
  return `${root}/${siteId}/${kind}`
}

export function formatGatewayTopic(root: string, siteId: string, gatewayId: string): string {
  return `${root}/${siteId}/gateways/${gatewayId}/status`
}
