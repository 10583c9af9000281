import { createRequire } from 'node:module'
import pino, { type Logger } from 'pino'
import type { PrettyOptions } from 'pino-pretty'

const require = createRequire(import.meta.url)

/**
 * The service's logger: lines for people on a terminal (pino-pretty), JSON lines otherwise (a pipe,
 * a file, a container's log driver), which is what log shippers and the tests read.
 */
export function createLogger(level: string, stdoutIsTTY = process.stdout.isTTY === true): Logger {
  const options = { level, base: { service: 'printwarden' } }
  if (!stdoutIsTTY) return pino(options)
  // Loaded only for a terminal: a service in a pipe or a container never pays for it.
  const pretty = require('pino-pretty') as (o: PrettyOptions) => NodeJS.WritableStream
  return pino(
    options,
    pretty({
      colorize: true,
      // Synchronous, so that the last lines before an exit (a failed start) are not lost.
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
    }) as pino.DestinationStream,
  )
}
