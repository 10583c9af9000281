import { describe, expect, it } from 'vitest'
import { floorOf, officeDistance, printElsewhere } from '../../src/domain/alternatives.ts'
import type { DeviceState } from '../../src/domain/device-state.ts'

const NOW = Date.UTC(2026, 10, 18, 12)
const HOUR = 3_600_000

function printer(
  deviceId: string,
  location: string | undefined,
  over: Partial<DeviceState> & { color?: boolean } = {},
) {
  const { color = true, ...state } = over
  const toner = Object.fromEntries(
    (color ? ['black', 'cyan', 'magenta', 'yellow'] : ['black']).map((c) => [
      c,
      { level: 50, cartridge: 'initial' },
    ]),
  )
  return {
    deviceId,
    siteId: 'roma',
    ...(location === undefined ? {} : { location }),
    state: {
      deviceId,
      siteId: 'roma',
      firstTs: 0,
      lastTs: NOW - HOUR,
      toner,
      errors: {},
      status: 'ready',
      ...state,
    } as DeviceState,
  }
}

describe('the floor of an office', () => {
  it.each([
    ['Floor 2, accounting', 2],
    ['2nd floor, sales', 2],
    ['Piano 3, amministrazione', 3],
    ['3 поверх, бухгалтерія', 3],
    ['fl. -1, archive', -1],
    ['reception', null],
    [undefined, null],
  ])('reads %s as %s', (location, floor) => {
    expect(floorOf(location)).toBe(floor)
  })

  it('puts the same office first, then floors by distance, and offices it cannot place last', () => {
    expect(officeDistance('Floor 2, accounting', ' floor 2, Accounting')).toBe(0)
    expect(officeDistance('Floor 2, accounting', 'Floor 2, sales')).toBe(1)
    expect(officeDistance('Floor 2, accounting', 'Floor 5')).toBe(4)
    expect(officeDistance('Floor 2, accounting', 'the annex')).toBe(Number.MAX_SAFE_INTEGER)
  })
})

describe('somewhere else to print', () => {
  const down = printer('DOWN', 'Floor 2, accounting', { status: 'error' })

  it('names the ready devices that do the same work, nearest office first', () => {
    const others = [
      printer('FAR', 'Floor 6'),
      printer('SAME', 'Floor 2, accounting'),
      printer('MONO', 'Floor 2, accounting', { color: false }),
      printer('STOPPED', 'Floor 2, accounting', { status: 'stopped' }),
      printer('BROKEN', 'Floor 2', { errors: { X: { code: 'X', severity: 'critical', since: 0 } } as never }),
      printer('QUIET', 'Floor 2', { lastTs: NOW - 6 * 24 * HOUR }),
      printer('BELOW', 'Floor 1, reception', { status: 'sleep' }),
      { ...printer('AWAY', 'Floor 2, accounting'), siteId: 'bari' },
      printer('NOWHERE', undefined),
      down,
    ]
    const names = printElsewhere(down, others, NOW, 5 * 24 * HOUR).map((a) => a.deviceId)
    expect(names).toEqual(['SAME', 'BELOW', 'FAR', 'NOWHERE'])
  })

  it('lets a colour device stand in for a device that prints black only', () => {
    const mono = printer('MONO', 'Floor 2', { color: false, status: 'stopped' })
    const names = printElsewhere(
      mono,
      [printer('COLOR', 'Floor 2'), printer('BW', 'Floor 3', { color: false })],
      NOW,
      5 * 24 * HOUR,
    )
    expect(names).toEqual([
      { deviceId: 'COLOR', location: 'Floor 2', status: 'ready', color: true },
      { deviceId: 'BW', location: 'Floor 3', status: 'ready', color: false },
    ])
  })
})
