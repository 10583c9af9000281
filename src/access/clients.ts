/** What aedes knows of its clients and does not type: the connected clients, a client's socket and address. */
import { TLSSocket } from 'node:tls'
import type { Aedes, Client } from 'aedes'

/** The connected clients by ID (aedes keeps them, its types do not say so). */
export function clientsOf(aedes: Aedes | null): Record<string, Client> {
  return (aedes as unknown as { clients?: Record<string, Client> } | null)?.clients ?? {}
}

/** The socket under a client's connection (the guard wraps it). */
function socketOf(client: Client): unknown {
  const conn = client.conn as unknown as { socket?: unknown }
  return conn.socket ?? conn
}

export function tlsSocketOf(client: Client): TLSSocket | null {
  const s = socketOf(client)
  return s instanceof TLSSocket ? s : null
}

export function addressOf(client: Client): string {
  const s = socketOf(client) as { remoteAddress?: string }
  return s.remoteAddress ?? client.req?.socket.remoteAddress ?? 'unknown'
}
