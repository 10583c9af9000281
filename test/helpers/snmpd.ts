/**
 * Debian's real snmpd (/usr/sbin/snmpd) serving a printer: the test writes its own snmpd.conf in a
 * temp dir (system group, community, an SNMPv3 user), and a pass_persist program (snmpd-pass.mjs)
 * serves the Host Resources printer entries and the Printer MIB from a JSON file that `set()`
 * rewrites. It runs in the foreground on 127.0.0.1 on a free UDP port.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import snmp from 'net-snmp'
import { type MibRow, type PrinterFace, printerMib } from '../../simulator/printer-mib.ts'
import { tempDir, waitFor } from './service-process.ts'

const PASS = join(import.meta.dirname, 'snmpd-pass.mjs')
const PASS_TYPES = {
  integer: 'integer',
  string: 'string',
  octet: 'octet',
  oid: 'objectid',
  counter: 'counter',
  gauge: 'gauge',
}

export interface Snmpd {
  port: number
  /** What the agent serves from now on. */
  set(face: PrinterFace): void
  stop(): Promise<void>
}

export interface SnmpdOptions {
  system: { descr: string; objectId: string; name: string; location: string; contact: string }
  community?: string
  v3?: { user: string; auth: 'SHA' | 'MD5'; authKey: string; priv: 'AES' | 'DES'; privKey: string }
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

const quote = (s: string) => `"${s.replace(/"/g, '')}"`

export async function startSnmpd(face: PrinterFace, options: SnmpdOptions): Promise<Snmpd> {
  const dir = tempDir('printwarden-snmpd-')
  const confDir = join(dir.path, 'conf')
  const persist = join(dir.path, 'persist')
  mkdirSync(confDir)
  mkdirSync(persist)
  const values = join(dir.path, 'values.json')
  const write = (f: PrinterFace) => {
    const rows = printerMib({ ...f, system: undefined } as PrinterFace).map((r: MibRow) => [
      `.${r.oid}`,
      PASS_TYPES[r.type],
      String(r.value),
    ])
    // Written aside and renamed: the pass program never reads a half-written file.
    writeFileSync(`${values}.tmp`, JSON.stringify(rows))
    renameSync(`${values}.tmp`, values)
  }
  write(face)
  const port = await freeUdpPort()
  const s = options.system
  const pass = (oid: string) => `pass_persist ${oid} ${process.execPath} ${PASS} ${values}`
  const conf = [
    `agentaddress udp:127.0.0.1:${port}`,
    `rocommunity ${options.community ?? 'public'} 127.0.0.1`,
    `sysdescr ${s.descr}`,
    `sysobjectid .${s.objectId}`,
    `sysname ${s.name}`,
    `syslocation ${s.location}`,
    `syscontact ${s.contact}`,
    'dontLogTCPWrappersConnects yes',
    ...(options.v3
      ? [
          `createUser ${options.v3.user} ${options.v3.auth} ${quote(options.v3.authKey)} ${options.v3.priv} ${quote(options.v3.privKey)}`,
          `rouser ${options.v3.user} priv`,
        ]
      : []),
    pass('.1.3.6.1.2.1.25.3.2'),
    pass('.1.3.6.1.2.1.25.3.5'),
    pass('.1.3.6.1.2.1.43'),
    pass('.1.3.6.1.4.1'),
  ].join('\n')
  const confFile = join(confDir, 'snmpd.conf')
  writeFileSync(confFile, `${conf}\n`)
  // -I: snmpd's own host-resources device and printer tables stay out, so the pass program serves them.
  const child: ChildProcess = spawn(
    '/usr/sbin/snmpd',
    ['-f', '-Lo', '-C', '-I', '-hr_device,-hr_print', '-c', confFile],
    { env: { ...process.env, SNMP_PERSISTENT_DIR: persist, MIBS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // Ready when it answers a GET of sysDescr.
  await waitFor(
    () =>
      new Promise<true | undefined>((resolve) => {
        if (child.exitCode !== null) throw new Error(`snmpd exited: ${output}`)
        const session = snmp.createSession('127.0.0.1', options.community ?? 'public', {
          port,
          version: snmp.Version2c,
          timeout: 300,
          retries: 0,
        })
        session.on('error', () => undefined)
        session.get(['1.3.6.1.2.1.1.1.0'], (err) => {
          session.close()
          resolve(err ? undefined : true)
        })
      }),
    15_000,
    `snmpd on port ${port} (${output})`,
  )
  return {
    port,
    set: write,
    async stop() {
      child.kill('SIGTERM')
      await exited
      dir.remove()
    },
  }
}
