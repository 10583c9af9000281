/**
 * What an account may do, as pure functions of the account and what the inventory says: its MQTT
 * topics, and the part of the fleet it sees through the API. The broker's hooks and the API's hook
 * ask these, and nothing else decides about access.
 */
import type { AccountView, Role } from './accounts.ts'

/** MQTT 3.1.1 4.7: does a topic filter (with `+` and `#`) match a topic name? */
export function topicMatches(filter: string, topic: string): boolean {
  // 4.7.2: a filter starting with a wildcard does not match topics starting with `$`.
  if (topic.startsWith('$') && (filter.startsWith('#') || filter.startsWith('+'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}

/** Does every topic that `requested` matches also match `allowed`? (A subscription may only narrow.) */
export function filterCovers(allowed: string, requested: string): boolean {
  if (requested.startsWith('$') && (allowed.startsWith('#') || allowed.startsWith('+'))) return false
  const a = allowed.split('/')
  const r = requested.split('/')
  for (let i = 0; i < a.length; i++) {
    const level = a[i]
    if (level === '#') return true
    if (i >= r.length) return false
    const want = r[i]
    if (want === '#') return false
    if (level === '+') continue
    if (want !== level) return false
  }
  return a.length === r.length
}

export interface MqttTopics {
  /** Filters the account may publish on (besides its grants). */
  publish: string[]
  subscribe: string[]
}

/** The topics of an account's role, before its grants. `sitesOfCustomer` reads the inventory. */
export function roleTopics(
  account: AccountView,
  root: string,
  sitesOfCustomer: (c: string) => string[],
): MqttTopics {
  switch (account.role) {
    case 'admin':
      return { publish: ['#'], subscribe: ['#', '$SYS/#'] }
    case 'operator':
      return { publish: [], subscribe: [`${root}/#`] }
    case 'gateway':
      return {
        publish: account.sites.flatMap((s) => [
          `${root}/${s}/+/telemetry`,
          `${root}/${s}/+/birth`,
          `${root}/${s}/gateways/${account.name}/status`,
        ]),
        subscribe: account.sites.flatMap((s) => [`${root}/${s}/+/actions`, `${root}/${s}/actions`]),
      }
    case 'customer-admin':
      return {
        publish: [],
        subscribe: (account.customer ? sitesOfCustomer(account.customer) : []).flatMap((s) => [
          `${root}/${s}/+/actions`,
          `${root}/${s}/actions`,
        ]),
      }
    default:
      return { publish: [], subscribe: [] }
  }
}

export function mayPublish(topics: MqttTopics, grants: readonly string[], topic: string): boolean {
  return topics.publish.some((f) => topicMatches(f, topic)) || grants.some((f) => topicMatches(f, topic))
}

export function maySubscribe(topics: MqttTopics, grants: readonly string[], filter: string): boolean {
  return topics.subscribe.some((f) => filterCovers(f, filter)) || grants.some((f) => filterCovers(f, filter))
}

/**
 * The part of the fleet an account sees through the API; null means no limit. A device-level thing
 * is in scope when its site and its device are; a site-level thing (no device) when its site is.
 * The store and the inventory apply it inside their queries.
 */
export interface Scope {
  sites: readonly string[] | null
  devices: readonly string[] | null
}

export const EVERYTHING: Scope = Object.freeze({ sites: null, devices: null })

export interface ScopeSources {
  sitesOfCustomer(customer: string): string[]
  /** The devices of a customer's device groups. */
  devicesOfGroups(customer: string, groups: readonly string[]): string[]
  /** A device's site, from the inventory or as first seen. */
  siteOf(deviceId: string): string | undefined
}

export function scopeOf(account: AccountView | null, sources: ScopeSources): Scope {
  if (account === null) return EVERYTHING
  const role: Role = account.role
  if (role === 'customer-admin')
    return { sites: sources.sitesOfCustomer(account.customer ?? ''), devices: null }
  if (role === 'customer-user') {
    const customer = account.customer ?? ''
    const own = new Set(sources.sitesOfCustomer(customer))
    // Only devices of the account's own customer count, whoever assigned them.
    const devices = [
      ...new Set([...account.devices, ...sources.devicesOfGroups(customer, account.groups)]),
    ].filter((d) => {
      const site = sources.siteOf(d)
      return site !== undefined && own.has(site)
    })
    const sites = [...new Set(devices.map((d) => sources.siteOf(d) as string))]
    return { sites, devices }
  }
  if (role === 'gateway') return { sites: account.sites, devices: null }
  return EVERYTHING
}

export function inScope(scope: Scope, siteId: string, deviceId?: string): boolean {
  if (scope.sites !== null && !scope.sites.includes(siteId)) return false
  if (deviceId === undefined || deviceId === '') return true
  return scope.devices === null || scope.devices.includes(deviceId)
}
