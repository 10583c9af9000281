import { createServer } from 'node:net'
import { PrintwardenError } from './errors.ts'

export interface WantedPort {
  port: number
  /** The flag that sets it, for the message. */
  flag: string
}

/** Listens on the port and lets it go at once: the error, or null if it could be taken. */
function tryListen(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)))
  })
}

/**
 * Checks, before anything is created on disk, that every fixed port can be listened on: a port in
 * use then stops the start with one line that names it and its flag, and leaves nothing behind.
 * (Port 0 always works, and a port of -1, `off`, is not listened on at all.) Another process may still take a port between this check and the listen;
 * the listen's own error is then turned into the same message by `portError`.
 */
export async function assertPortsFree(host: string, ports: readonly WantedPort[]): Promise<void> {
  for (const { port, flag } of ports) {
    if (port <= 0) continue
    const err = await tryListen(host, port)
    if (err) throw portError(err, host, port, flag) ?? err
  }
}

/** The one-line error for a listen that failed because the port is taken or not allowed; else null. */
export function portError(
  err: NodeJS.ErrnoException,
  host: string,
  port: number,
  flag: string,
): PrintwardenError | null {
  if (err.code === 'EADDRINUSE')
    return new PrintwardenError(
      'PW_ERR_PORT_IN_USE',
      `port ${port} on ${host} (--${flag}) is already in use: stop what listens there, or give another port (0 = any free port)`,
    )
  if (err.code === 'EACCES')
    return new PrintwardenError(
      'PW_ERR_PORT_IN_USE',
      `port ${port} on ${host} (--${flag}) may not be listened on by this user: give a port above 1023`,
    )
  if (err.code === 'EADDRNOTAVAIL')
    return new PrintwardenError(
      'PW_ERR_PORT_IN_USE',
      `--host ${host} is not an address of this machine, so port ${port} (--${flag}) cannot be listened on`,
    )
  return null
}
