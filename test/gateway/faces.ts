/** A colour MFP as the gateway tests' snmpd serves it. */
import type { PrinterFace } from '../../simulator/printer-mib.ts'

export const SYSTEM = {
  descr: 'KYOCERA Document Solutions Printing System',
  objectId: '1.3.6.1.4.1.1347.41',
  name: 'mfp-acct-2',
  location: 'Floor 2, accounting office',
  contact: 'm.rossi@example.com',
}

const toner = (color: string, level: number, max = 1000) => ({
  type: 'toner' as const,
  color,
  description: `${color[0]?.toUpperCase()}${color.slice(1)} Toner`,
  max,
  level,
})

/** Cyan at 15 %, a waste box 95 % full, a fuser failure: a reorder, a waste box and a fault. */
export function colourMfp(changes: Partial<PrinterFace> = {}): PrinterFace {
  return {
    hrDescr: 'KYOCERA TASKalfa 2554ci',
    serial: 'W2K1234567',
    deviceStatus: 5,
    printerStatus: 1,
    errorBits: [7],
    supplies: [
      toner('black', 640),
      toner('cyan', 150),
      toner('magenta', 380),
      toner('yellow', 550),
      { type: 'wasteToner', description: 'Waste Toner Box', max: 100, level: 5 },
    ],
    lifeCount: 182340,
    alerts: [{ severity: 3, code: 30, description: 'C6000 Call service: fuser heater failure' }],
    ...changes,
  }
}

/** The same printer, healthy: every colour well stocked, no alert. */
export function healthyMfp(changes: Partial<PrinterFace> = {}): PrinterFace {
  return colourMfp({
    deviceStatus: 2,
    printerStatus: 3,
    errorBits: [],
    supplies: [
      toner('black', 900),
      toner('cyan', 800),
      toner('magenta', 700),
      toner('yellow', 600),
      { type: 'wasteToner', description: 'Waste Toner Box', max: 100, level: 80 },
    ],
    alerts: [],
    ...changes,
  })
}

export { toner }
