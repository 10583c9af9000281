import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'

/**
 * The service's logger: lines for people on a terminal (pino-pretty), JSON lines otherwise (a pipe,
 * a file, a container's log driver), which is what log shippers and the tests read.
 */
export function createLogger(level: string, stdoutIsTTY = process.stdout.isTTY === true): Logger {
  const options = { level, base: { service: 'printwarden' } }
  if (!stdoutIsTTY) return pino(options)
  return pino(
    options,
    pretty({
      colorize: true,
      // Synchronous, so that the last lines before an exit (a failed start) are not lost.
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
    }),
  )
}
