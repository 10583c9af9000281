/**
 * The TLS certificate, key and (for client certificates) CA of --tls-cert, --tls-key, --tls-ca:
 * read at start, and read again when a file changes (a renewed certificate), for every listener
 * that uses them.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import type { SecureContextOptions } from 'node:tls'
import type { Logger } from 'pino'
import { configError } from '../errors.ts'

export interface TlsPaths {
  cert: string
  key: string
  ca: string
}

/** A server whose certificate can be replaced while it runs (tls.Server, https.Server). */
interface Renewable {
  setSecureContext(options: SecureContextOptions): void
}

export interface TlsServerOptions extends SecureContextOptions {
  requestCert: boolean
  rejectUnauthorized: boolean
}

export class TlsFiles {
  private current: TlsServerOptions
  private readonly servers = new Set<Renewable>()
  private readonly files: string[]

  constructor(
    private readonly paths: TlsPaths,
    private readonly log: Logger,
    private readonly pollMs = 2000,
  ) {
    this.files = [paths.cert, paths.key, paths.ca].filter((f) => f !== '')
    this.current = this.read()
  }

  private read(): TlsServerOptions {
    const file = (path: string, what: string) => {
      try {
        return readFileSync(path)
      } catch (err) {
        throw configError(`--tls-${what} ${path} cannot be read: ${(err as Error).message}`)
      }
    }
    const withCa = this.paths.ca !== ''
    return {
      cert: file(this.paths.cert, 'cert'),
      key: file(this.paths.key, 'key'),
      ...(withCa ? { ca: file(this.paths.ca, 'ca') } : {}),
      // A client certificate is asked for, not required: a gateway may sign in with its token instead.
      requestCert: withCa,
      rejectUnauthorized: false,
    }
  }

  /** Options for tls.createServer / https.createServer. */
  options(): TlsServerOptions {
    return this.current
  }

  /** Keeps a server's certificate current; returns its unsubscribe function. */
  track(server: Renewable): () => void {
    this.servers.add(server)
    return () => this.servers.delete(server)
  }

  start(): void {
    // Polled, not fs.watch: certificate renewal replaces files, often through symlinks.
    for (const f of this.files) watchFile(f, { interval: this.pollMs }, () => this.reload())
  }

  reload(): void {
    try {
      this.current = this.read()
      for (const s of this.servers) s.setSecureContext(this.current)
      this.log.info({ cert: this.paths.cert }, 'TLS certificate reloaded')
    } catch (err) {
      this.log.error({ err }, 'TLS files changed but cannot be used; the previous certificate stays')
    }
  }

  stop(): void {
    for (const f of this.files) unwatchFile(f)
    this.servers.clear()
  }
}
