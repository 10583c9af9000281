/**
 * The Printer-MIB mapping as a pure function: rows of OIDs (made by the same builder the simulated
 * printers and the tests' snmpd serve) in, the contract's reading and birth out.
 */
import { describe, expect, it } from 'vitest'
import { colorName, mapSnapshot, type Snapshot } from '../../gateway/mapping.ts'
import { loadProfiles, pickProfile } from '../../gateway/profiles.ts'
import { type PrinterFace, printerMib } from '../../simulator/printer-mib.ts'
import { colourMfp, healthyMfp, SYSTEM, toner } from './faces.ts'

const profiles = loadProfiles()
const TS = '2026-01-05T08:00:00Z'

function snapshot(face: PrinterFace): Snapshot {
  const m = new Map<string, number | string | Buffer>()
  for (const r of printerMib({ system: SYSTEM, ...face }))
    m.set(r.oid, r.type === 'octet' ? Buffer.from(String(r.value).replace(/\s+/g, ''), 'hex') : r.value)
  return m
}
const map = (face: PrinterFace, profile = pickProfile(profiles, { objectId: SYSTEM.objectId })) =>
  mapSnapshot(snapshot(face), profile, TS)

describe('the Printer-MIB mapping', () => {
  it('maps a colour MFP to toner per colour, a waste fill, counters, status, errors and its birth', () => {
    const { reading, birth, warnings } = map(colourMfp())
    expect(reading).toEqual({
      ts: TS,
      toner: { black: 64, cyan: 15, magenta: 38, yellow: 55 },
      wasteBox: 95,
      counters: { total: 182340 },
      status: 'error',
      errors: [{ code: 'C6000', severity: 'critical', text: 'C6000 Call service: fuser heater failure' }],
    })
    expect(birth).toEqual({
      vendor: 'Kyocera',
      model: 'TASKalfa 2554ci',
      serial: 'W2K1234567',
      location: 'Floor 2, accounting office',
      contact: 'm.rossi@example.com',
    })
    expect(warnings).toEqual([])
  })

  it('names colorants in the contract form and refuses names built into JavaScript objects', () => {
    expect(colorName('light cyan')).toBe('lightCyan')
    expect(colorName('Photo Black')).toBe('photoBlack')
    expect(colorName('constructor')).toBeNull()
    expect(colorName('  ')).toBeNull()
  })

  it('reads the status from hrDeviceStatus, hrPrinterStatus and the detected error state, in that order', () => {
    const status = (deviceStatus: number, printerStatus: number, errorBits: number[] = []) =>
      map(healthyMfp({ deviceStatus, printerStatus, errorBits })).reading?.status
    expect(status(2, 3)).toBe('ready')
    expect(status(2, 4)).toBe('printing')
    expect(status(2, 1)).toBe('sleep')
    expect(status(3, 3)).toBe('warning')
    expect(status(5, 1, [5])).toBe('stopped')
    expect(status(2, 3, [7])).toBe('error')
    expect(status(1, 2)).toBeUndefined()
  })

  it('leaves out alerts that report events, and keeps one error per code at its highest severity', () => {
    const { reading } = map(
      healthyMfp({
        alerts: [
          { severity: 4, code: 4, description: 'Cover closed' },
          { severity: 4, code: 8, description: 'Paper jam' },
          { severity: 3, code: 8, description: 'Paper jam in the fuser' },
        ],
      }),
    )
    expect(reading?.errors).toEqual([{ code: 'jam', severity: 'critical', text: 'Paper jam in the fuser' }])
  })

  it('reads a waste box as filled when the profile says its firmware counts that way', () => {
    const generic = pickProfile(profiles, {}, 'generic')
    const face = healthyMfp()
    face.supplies[4] = { type: 'wasteToner', description: 'Waste', max: 200, level: 50 }
    expect(map(face, generic).reading?.wasteBox).toBe(75)
    expect(map(face, { ...generic, wasteLevel: 'filled' }).reading?.wasteBox).toBe(25)
  })

  it('takes the mono and colour counters from the vendor OIDs of the profile, summed', () => {
    const km = pickProfile(profiles, { objectId: '1.3.6.1.4.1.18334.1.1' })
    const [monoA, monoB] = km.counters?.mono ?? []
    const [colorA, colorB] = km.counters?.color ?? []
    const face = healthyMfp({
      vendor: { [monoA as string]: 100, [monoB as string]: 50, [colorA as string]: 7, [colorB as string]: 3 },
    })
    expect(map(face, km).reading?.counters).toEqual({ total: 182340, mono: 150, color: 10 })
  })

  it('names a supply without a colorant by the colour word of its description', () => {
    const face = healthyMfp()
    face.supplies = [{ ...toner('black', 500), color: undefined, description: 'Black Toner Cartridge' }]
    expect(map(face).reading?.toner).toEqual({ black: 50 })
  })

  it('makes no reading, and never throws, from an answer with nothing in it', () => {
    const { reading, warnings } = mapSnapshot(new Map(), pickProfile(profiles, {}), TS)
    expect(reading).toBeNull()
    expect(warnings).toContain('no prtMarkerSuppliesTable: no toner or waste box')
  })
})
