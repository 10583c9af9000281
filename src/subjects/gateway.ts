/** A site's gateway while it is offline: a site subject, one episode per outage. */
import type { Site } from '../contract/schemas.ts'
import { subjectKey } from '../domain/device-state.ts'
import { type SubjectInstance, siteFact } from '../rules/facts.ts'
import { HOUR } from './device-subject.ts'

/** A gateway while it is offline: the subject of `gateway` rules, one episode per outage. */
export function gatewaySubject(
  gateway: {
    siteId: string
    gatewayId: string
    state: 'online' | 'offline'
    since: number
    devices: readonly string[]
    software: string | null
  },
  site: Pick<Site, 'name' | 'customer' | 'stockMode' | 'contact'> | undefined,
  at: number,
): SubjectInstance | null {
  if (gateway.state !== 'offline') return null
  const offlineSince = new Date(gateway.since).toISOString()
  return {
    kind: 'gateway',
    key: subjectKey('gateway', gateway.gatewayId),
    episode: gatewayEpisode(gateway.since),
    facts: {
      site: siteFact(gateway.siteId, site),
      gateway: {
        gatewayId: gateway.gatewayId,
        state: gateway.state,
        offlineSince,
        offlineForHours: Math.max(0, at - gateway.since) / HOUR,
        devices: [...gateway.devices],
        software: gateway.software,
      },
    },
    details: {
      gatewayId: gateway.gatewayId,
      offlineSince,
      devices: [...gateway.devices],
      ...(site?.contact === undefined ? {} : { addressee: site.contact }),
    },
  }
}

/** A gateway's outage is one episode, named by when it began. */
export const gatewayEpisode = (since: number): string => `o${since}`
