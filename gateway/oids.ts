/**
 * The OIDs the gateway reads: SNMPv2-MIB's system group, the Host Resources MIB (RFC 2790) and the
 * Printer MIB (RFC 3805). Written without the leading dot, as net-snmp gives them.
 */
export const SYSTEM = {
  sysDescr: '1.3.6.1.2.1.1.1.0',
  sysObjectID: '1.3.6.1.2.1.1.2.0',
  sysContact: '1.3.6.1.2.1.1.4.0',
  sysName: '1.3.6.1.2.1.1.5.0',
  sysLocation: '1.3.6.1.2.1.1.6.0',
} as const

/** hrDeviceEntry: columns by number. */
export const HR_DEVICE_ENTRY = '1.3.6.1.2.1.25.3.2.1'
export const HR_DEVICE = { type: 2, descr: 3, status: 5 } as const
/** hrDeviceType of a printer (hrDeviceTypes.5). */
export const HR_DEVICE_PRINTER = '1.3.6.1.2.1.25.3.1.5'
/** hrPrinterEntry: hrPrinterStatus (1), hrPrinterDetectedErrorState (2). */
export const HR_PRINTER_ENTRY = '1.3.6.1.2.1.25.3.5.1'
export const HR_PRINTER = { status: 1, errorState: 2 } as const

/** prtGeneralSerialNumber, indexed by hrDeviceIndex. */
export const PRT_GENERAL_SERIAL = '1.3.6.1.2.1.43.5.1.1.17'
/** prtMarkerLifeCount, indexed by hrDeviceIndex.prtMarkerIndex. */
export const PRT_MARKER_LIFE_COUNT = '1.3.6.1.2.1.43.10.2.1.4'
/** prtMarkerSuppliesEntry, indexed by hrDeviceIndex.prtMarkerSuppliesIndex. */
export const PRT_SUPPLIES_ENTRY = '1.3.6.1.2.1.43.11.1.1'
export const PRT_SUPPLIES = {
  colorantIndex: 3,
  class: 4,
  type: 5,
  description: 6,
  maxCapacity: 8,
  level: 9,
} as const
/** prtMarkerColorantEntry, indexed by hrDeviceIndex.prtMarkerColorantIndex. */
export const PRT_COLORANT_ENTRY = '1.3.6.1.2.1.43.12.1.1'
export const PRT_COLORANT = { value: 4 } as const
/** prtAlertEntry, indexed by hrDeviceIndex.prtAlertIndex. */
export const PRT_ALERT_ENTRY = '1.3.6.1.2.1.43.18.1.1'
export const PRT_ALERT = { severity: 2, group: 4, code: 7, description: 8 } as const

/** The subtrees a poll walks (GETBULK with v2c and v3, GETNEXT with v1). */
export const WALKS = [
  HR_DEVICE_ENTRY,
  HR_PRINTER_ENTRY,
  PRT_GENERAL_SERIAL,
  PRT_MARKER_LIFE_COUNT,
  PRT_SUPPLIES_ENTRY,
  PRT_COLORANT_ENTRY,
  PRT_ALERT_ENTRY,
] as const

/** prtMarkerSuppliesTypeTC values the gateway reads. */
export const SUPPLY_TYPE = { toner: 3, wasteToner: 4 } as const

/** prtMarkerSuppliesLevel and prtMarkerSuppliesMaxCapacity special values (RFC 3805). */
export const SPECIAL = { other: -1, unknown: -2, someRemaining: -3 } as const

/** hrDeviceStatus (RFC 2790). */
export const DEVICE_STATUS = { unknown: 1, running: 2, warning: 3, testing: 4, down: 5 } as const
/** hrPrinterStatus (RFC 2790). */
export const PRINTER_STATUS = { other: 1, unknown: 2, idle: 3, printing: 4, warmup: 5 } as const

/**
 * hrPrinterDetectedErrorState bits (RFC 2790, RFC 3805 adds bits 8–15), bit 0 being the most
 * significant bit of the first octet.
 */
export const ERROR_BITS = {
  lowPaper: 0,
  noPaper: 1,
  lowToner: 2,
  noToner: 3,
  doorOpen: 4,
  jammed: 5,
  offline: 6,
  serviceRequested: 7,
  inputTrayMissing: 8,
  outputTrayMissing: 9,
  markerSupplyMissing: 10,
  outputNearFull: 11,
  outputFull: 12,
  inputTrayEmpty: 13,
  overduePreventMaint: 14,
} as const

/** prtAlertSeverityLevelTC. */
export const ALERT_SEVERITY = { other: 1, critical: 3, warning: 4, warningBinaryChangeEvent: 5 } as const

/**
 * prtAlertCodeTC names, for alerts whose description carries no vendor code. Only the codes of
 * conditions: events (a cover closed, power up) are not errors that stay active.
 */
export const ALERT_CODES: Readonly<Record<number, string>> = {
  1: 'other',
  2: 'unknown',
  3: 'coverOpen',
  5: 'interlockOpen',
  8: 'jam',
  9: 'subunitMissing',
  10: 'subunitLifeAlmostOver',
  11: 'subunitLifeOver',
  12: 'subunitAlmostEmpty',
  13: 'subunitEmpty',
  14: 'subunitAlmostFull',
  15: 'subunitFull',
  16: 'subunitNearLimit',
  17: 'subunitAtLimit',
  18: 'subunitOpened',
  22: 'subunitOffline',
  29: 'subunitRecoverableFailure',
  30: 'subunitUnrecoverableFailure',
  31: 'subunitRecoverableStorageError',
  32: 'subunitUnrecoverableStorageError',
  33: 'subunitMotorFailure',
  34: 'subunitMemoryExhausted',
  35: 'subunitUnderTemperature',
  36: 'subunitOverTemperature',
  37: 'subunitTimingFailure',
  38: 'subunitThermistorFailure',
  501: 'doorOpen',
  801: 'inputMediaTrayMissing',
  808: 'inputMediaSupplyEmpty',
  901: 'outputMediaTrayMissing',
  902: 'outputMediaTrayAlmostFull',
  903: 'outputMediaTrayFull',
  1001: 'markerFuserUnderTemperature',
  1002: 'markerFuserOverTemperature',
  1003: 'markerFuserTimingFailure',
  1004: 'markerFuserThermistorFailure',
  1101: 'markerTonerEmpty',
  1104: 'markerTonerAlmostEmpty',
  1107: 'markerWasteTonerReceptacleAlmostFull',
  1109: 'markerWasteTonerReceptacleFull',
  1111: 'markerOpcLifeAlmostOver',
  1112: 'markerOpcLifeOver',
  1115: 'markerTonerCartridgeMissing',
}

/** Alert codes that are events, not conditions: never an active error. */
export const EVENT_ALERT_CODES: ReadonlySet<number> = new Set([
  4, 6, 7, 19, 20, 21, 23, 24, 25, 26, 27, 28, 502, 503, 504, 505, 506, 507,
])
export const WASTE_ALERT = { almostFull: 1107, full: 1109 } as const
