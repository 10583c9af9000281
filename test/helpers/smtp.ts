/**
 * A real SMTP server for the email tests: Debian's aiosmtpd (python3-aiosmtpd, run with the system
 * Python, not a pyenv one on PATH), delivering into a Maildir the test reads with mailparser. Its
 * handler (test/fixtures/smtp/refusing_mailbox.py) refuses `refuse…@` with 550 and `busy…@` with 451.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { type ParsedMail, simpleParser } from 'mailparser'
import { freePort, ROOT, waitFor } from './service-process.ts'

export interface Smtp {
  port: number
  url: string
  maildir: string
  /** Starts it again on the same port and Maildir after stop(). */
  start(): Promise<void>
  stop(): Promise<void>
  /** Every message delivered so far, in the order the server wrote them. */
  messages(): Promise<ParsedMail[]>
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

export async function startSmtp(dir: string): Promise<Smtp> {
  const port = await freePort()
  // aiosmtpd's Mailbox makes the Maildir and its cur/new/tmp only when the folder does not exist yet.
  const maildir = join(dir, 'Maildir')
  let child: ChildProcess | null = null
  const smtp: Smtp = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    maildir,
    async start() {
      const proc = spawn(
        '/usr/bin/python3',
        [
          '-m',
          'aiosmtpd',
          '-n',
          '-l',
          `127.0.0.1:${port}`,
          '-c',
          'refusing_mailbox.RefusingMailbox',
          maildir,
        ],
        {
          env: { ...process.env, PYTHONPATH: join(ROOT, 'test/fixtures/smtp') },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      )
      let stderr = ''
      proc.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString()
      })
      child = proc
      await waitFor(
        async () => ((await accepts(port)) ? true : proc.exitCode !== null ? true : undefined),
        15_000,
        'aiosmtpd to listen',
      )
      if (proc.exitCode !== null) throw new Error(`aiosmtpd exited: ${stderr}`)
    },
    async stop() {
      const proc = child
      child = null
      if (!proc || proc.exitCode !== null) return
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      await exited
    },
    async messages() {
      if (!existsSync(join(maildir, 'new'))) return []
      const files = readdirSync(join(maildir, 'new')).map((name) => {
        const raw = readFileSync(join(maildir, 'new', name))
        return { name, raw }
      })
      // Maildir names start with the delivery time in seconds, then a sequence: sort as delivered.
      files.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
      return Promise.all(files.map((f) => simpleParser(f.raw)))
    },
  }
  await smtp.start()
  return smtp
}

/** The address strings of a parsed To or Cc header. */
export function addresses(field: ParsedMail['to'] | ParsedMail['cc']): string[] {
  if (!field) return []
  return (Array.isArray(field) ? field : [field]).flatMap((a) => a.value.map((v) => v.address ?? ''))
}
