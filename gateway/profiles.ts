/**
 * Printer-model profiles as data (`profiles.json`): what a vendor does differently from the Printer
 * MIB's letter. The mapping reads these fields and never names a vendor, so a new vendor is a new
 * entry, not a code branch. The last profile, with an empty `match`, is the fallback.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { GatewayError } from './errors.ts'

const Oid = Type.String({ pattern: '^\\d+(\\.\\d+)+$' })

export const ProfileSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9-]+$' }),
    /** The birth's vendor. */
    vendor: Type.Optional(Type.String({ minLength: 1 })),
    match: Type.Object(
      {
        /** sysObjectID starts with one of these enterprise OIDs. */
        enterprise: Type.Optional(Type.Array(Oid)),
        /** A case-insensitive pattern found in sysDescr or hrDeviceDescr. */
        descr: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    /** Removed (case-insensitive) from hrDeviceDescr to give the birth's model. */
    modelStrip: Type.Optional(Type.String()),
    /** A pattern with one group that finds the vendor's error code in prtAlertDescription. */
    alertCode: Type.Optional(Type.String()),
    /**
     * What the waste toner box's prtMarkerSuppliesLevel counts: `remaining` space (RFC 3805 for a
     * receptacle) or the amount `filled` (some firmware).
     */
    wasteLevel: Type.Union([Type.Literal('remaining'), Type.Literal('filled')]),
    /** Vendor-specific page counters: each the sum of these OIDs. */
    counters: Type.Optional(
      Type.Object(
        { mono: Type.Optional(Type.Array(Oid)), color: Type.Optional(Type.Array(Oid)) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
export type ProfileSpec = Static<typeof ProfileSchema>

export interface Profile extends ProfileSpec {
  descrPattern: RegExp | null
  modelStripPattern: RegExp | null
  alertCodePattern: RegExp | null
}

export const PROFILES_FILE = resolve(import.meta.dirname, 'profiles.json')

function compile(file: string, where: string, source: string | undefined): RegExp | null {
  if (source === undefined) return null
  try {
    return new RegExp(source, 'i')
  } catch (err) {
    throw new GatewayError('PW_ERR_GATEWAY_PROFILE', `${file} ${where}: ${(err as Error).message}`)
  }
}

export function parseProfiles(json: unknown, file = PROFILES_FILE): Profile[] {
  const schema = Type.Object({ profiles: Type.Array(ProfileSchema, { minItems: 1 }) })
  const first = Value.Errors(schema, json).First()
  if (first) throw new GatewayError('PW_ERR_GATEWAY_PROFILE', `${file}${first.path}: ${first.message}`)
  const specs = (json as Static<typeof schema>).profiles
  return specs.map((p, i) => ({
    ...p,
    descrPattern: compile(file, `/profiles/${i}/match/descr`, p.match.descr),
    modelStripPattern: compile(file, `/profiles/${i}/modelStrip`, p.modelStrip),
    alertCodePattern: compile(file, `/profiles/${i}/alertCode`, p.alertCode),
  }))
}

export function loadProfiles(file = PROFILES_FILE): Profile[] {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new GatewayError('PW_ERR_GATEWAY_PROFILE', `${file}: ${(err as Error).message}`)
  }
  return parseProfiles(json, file)
}

/**
 * The profile of a printer: the one a printers-file entry names, else the first whose enterprise or
 * description matches, else the last (the fallback).
 */
export function pickProfile(
  profiles: readonly Profile[],
  sys: { objectId?: string; descr?: string },
  named?: string,
): Profile {
  if (named !== undefined) {
    const p = profiles.find((x) => x.id === named)
    if (p) return p
  }
  for (const p of profiles) {
    const { enterprise } = p.match
    if (enterprise && sys.objectId && enterprise.some((e) => `${sys.objectId}.`.startsWith(`${e}.`))) return p
    if (p.descrPattern && sys.descr && p.descrPattern.test(sys.descr)) return p
  }
  return profiles[profiles.length - 1] as Profile
}
