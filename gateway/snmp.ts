/**
 * The gateway's SNMP side (net-snmp): one session per poll, a GET of the system scalars and the
 * profile's vendor OIDs, and a walk of each Printer-MIB / Host Resources subtree (GETBULK with
 * v2c and v3, GETNEXT with v1), within the printer's timeout and retries. It moves values and
 * decides nothing: the mapping reads them.
 */
import snmp from 'net-snmp'
import type { Snapshot, SnmpValue } from './mapping.ts'
import { SYSTEM, WALKS } from './oids.ts'
import type { Printer } from './printers.ts'

export interface PollTarget {
  printer: Printer
  timeoutMs: number
  retries: number
  /** GETBULK max-repetitions. */
  maxRepetitions: number
}

/** The printer did not answer, or answered something that is not SNMP: no snapshot at all. */
export class NoAnswer extends Error {
  override name = 'NoAnswer'
}

const AUTH: Record<string, snmp.AuthProtocols> = {
  md5: snmp.AuthProtocols.md5,
  sha: snmp.AuthProtocols.sha,
  sha224: snmp.AuthProtocols.sha224,
  sha256: snmp.AuthProtocols.sha256,
  sha384: snmp.AuthProtocols.sha384,
  sha512: snmp.AuthProtocols.sha512,
}
const PRIV: Record<string, snmp.PrivProtocols> = {
  des: snmp.PrivProtocols.des,
  aes: snmp.PrivProtocols.aes,
  aes256b: snmp.PrivProtocols.aes256b,
  aes256r: snmp.PrivProtocols.aes256r,
}
export const AUTH_PROTOCOLS = Object.keys(AUTH)
export const PRIV_PROTOCOLS = Object.keys(PRIV)

function openSession(t: PollTarget): snmp.Session {
  const p = t.printer
  const options = { port: p.port ?? 161, timeout: t.timeoutMs, retries: t.retries, backoff: 1 }
  const version = p.snmp ?? 'v2c'
  if (version === 'v3') {
    const v3 = p.v3 as NonNullable<Printer['v3']>
    const user: snmp.User = { name: v3.user, level: snmp.SecurityLevel[v3.level] }
    if (v3.level !== 'noAuthNoPriv') {
      user.authProtocol = AUTH[v3.authProtocol ?? 'sha'] as snmp.AuthProtocols
      user.authKey = v3.authKey ?? ''
    }
    if (v3.level === 'authPriv') {
      user.privProtocol = PRIV[v3.privProtocol ?? 'aes'] as snmp.PrivProtocols
      user.privKey = v3.privKey ?? ''
    }
    return snmp.createV3Session(p.host, user, { ...options, version: snmp.Version3 })
  }
  return snmp.createSession(p.host, p.community ?? 'public', {
    ...options,
    version: version === 'v1' ? snmp.Version1 : snmp.Version2c,
  })
}

function toValue(vb: snmp.Varbind): SnmpValue | undefined {
  const v = vb.value
  if (vb.type === snmp.ObjectType.Counter64 && Buffer.isBuffer(v)) {
    let n = 0
    for (const byte of v) n = n * 256 + byte
    return Number.isSafeInteger(n) ? n : undefined
  }
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : undefined
  if (typeof v === 'number' || typeof v === 'string' || Buffer.isBuffer(v)) return v
  if (typeof v === 'boolean') return v ? 1 : 2
  return undefined
}

const normalize = (oid: string) => oid.replace(/^\./, '')

function get(session: snmp.Session, oids: string[], into: Map<string, SnmpValue>): Promise<void> {
  return new Promise((resolve, reject) => {
    session.get(oids, (err, varbinds) => {
      // v1 answers noSuchName for the whole request when one OID is missing: ask one by one then.
      if (err && (err as { status?: number }).status === snmp.ErrorStatus.NoSuchName && oids.length > 1) {
        Promise.all(oids.map((o) => get(session, [o], into).catch(() => undefined))).then(
          () => resolve(),
          reject,
        )
        return
      }
      if (err) {
        if ((err as { status?: number }).status === snmp.ErrorStatus.NoSuchName) resolve()
        else reject(err)
        return
      }
      for (const vb of varbinds ?? []) {
        if (snmp.isVarbindError(vb)) continue
        const v = toValue(vb)
        if (v !== undefined) into.set(normalize(vb.oid), v)
      }
      resolve()
    })
  })
}

function walk(
  session: snmp.Session,
  oid: string,
  maxRepetitions: number,
  into: Map<string, SnmpValue>,
): Promise<void> {
  let last = ''
  return new Promise((resolve, reject) => {
    session.subtree(
      oid,
      maxRepetitions,
      (varbinds) => {
        for (const vb of varbinds) {
          // The end of the agent's MIB, or an agent that answers the same OID again: the walk is
          // over (an agent that loops must never hold a poll forever).
          if (vb.type === snmp.ObjectType.EndOfMibView || normalize(vb.oid) === last) return true
          last = normalize(vb.oid)
          if (snmp.isVarbindError(vb)) continue
          const v = toValue(vb)
          if (v !== undefined) into.set(last, v)
        }
        return undefined
      },
      (err) => {
        // v1 ends a walk with noSuchName at the end of the MIB: that is the end, not a failure.
        if (err && (err as { status?: number }).status !== snmp.ErrorStatus.NoSuchName) reject(err)
        else resolve()
      },
    )
  })
}

/**
 * Reads one printer. Throws NoAnswer when the first request gets no answer (the printer is off or
 * the credentials are wrong); a later walk that fails leaves its table out (the mapping warns).
 */
export async function readPrinter(
  t: PollTarget,
  /** The vendor OIDs to GET, from what the system group said (the printer's profile). */
  vendorOids: (system: Snapshot) => readonly string[] = () => [],
): Promise<{ snapshot: Snapshot; failures: string[] }> {
  const session = openSession(t)
  session.on('error', () => undefined)
  const values = new Map<string, SnmpValue>()
  const failures: string[] = []
  try {
    try {
      await get(session, Object.values(SYSTEM), values)
    } catch (err) {
      throw new NoAnswer((err as Error).message)
    }
    for (const oid of WALKS) {
      try {
        await walk(session, oid, t.maxRepetitions, values)
      } catch (err) {
        failures.push(`${oid}: ${(err as Error).message}`)
      }
    }
    const extra = vendorOids(values)
    if (extra.length > 0) {
      try {
        await get(session, [...extra], values)
      } catch (err) {
        failures.push(`vendor OIDs: ${(err as Error).message}`)
      }
    }
  } finally {
    session.close()
  }
  return { snapshot: values, failures }
}
