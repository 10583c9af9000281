import { describe, expect, it } from 'vitest'
import type { TonerState } from '../../src/domain/device-state.ts'
import { daysToEmpty } from '../../src/domain/forecast.ts'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 2)
const none = { pagesPerDay: null, yieldPages: undefined }
const cartridge = (level: number, startLevel: number): TonerState => ({
  level,
  cartridge: 'initial',
  startLevel,
  startTs: T0,
})

describe('days to empty', () => {
  it("follows the cartridge's own slope: 80% to 40% in 4 days leaves 4 days", () => {
    expect(daysToEmpty(cartridge(40, 80), T0 + 4 * DAY, none)).toBeCloseTo(4)
  })

  it('works with a coarse sensor once it has stepped: 100% to 75% in 3 days leaves 9 days', () => {
    expect(daysToEmpty(cartridge(75, 100), T0 + 3 * DAY, none)).toBeCloseTo(9)
  })

  it('falls back on pages per day and the yield while the level has not moved', () => {
    expect(daysToEmpty(cartridge(50, 50), T0 + 3 * DAY, { pagesPerDay: 100, yieldPages: 3000 })).toBeCloseTo(
      15,
    )
  })

  it('does not guess from less than a day, nor without a yield', () => {
    expect(daysToEmpty(cartridge(70, 80), T0 + DAY / 2, none)).toBeNull()
    expect(
      daysToEmpty(cartridge(50, 50), T0 + 3 * DAY, { pagesPerDay: 100, yieldPages: undefined }),
    ).toBeNull()
  })

  it('says 0 for an empty cartridge', () => {
    expect(daysToEmpty(cartridge(0, 90), T0 + DAY, none)).toBe(0)
  })
})
