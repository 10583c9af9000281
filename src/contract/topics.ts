/**
 * The MQTT topic scheme of CONTRACT.md: `{root}/{siteId}/{deviceId}/{kind}`.
 */
export const ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$'
const ID = new RegExp(ID_PATTERN)

export const INBOUND_KINDS = ['telemetry', 'birth'] as const
export type InboundKind = (typeof INBOUND_KINDS)[number]
export type TopicKind = InboundKind | 'actions'
const KINDS: readonly string[] = [...INBOUND_KINDS, 'actions']

export interface DeviceTopic {
  siteId: string
  deviceId: string
  kind: TopicKind
}

export function isValidId(id: string): boolean {
  return ID.test(id)
}

/** Returns null for any topic outside the contract's table. */
export function parseTopic(root: string, topic: string): DeviceTopic | null {
  if (!topic.startsWith(root) || topic.charCodeAt(root.length) !== 47 /* '/' */) return null
  const parts = topic.slice(root.length + 1).split('/')
  if (parts.length !== 3) return null
  const [siteId, deviceId, kind] = parts as [string, string, string]
  if (!KINDS.includes(kind) || !ID.test(siteId) || !ID.test(deviceId)) return null
  return { siteId, deviceId, kind: kind as TopicKind }
}

export function formatTopic(root: string, siteId: string, deviceId: string, kind: TopicKind): string {
  return `${root}/${siteId}/${deviceId}/${kind}`
}
