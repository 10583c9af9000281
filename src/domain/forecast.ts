/**
 * When will a cartridge be empty? Pure. From the cartridge's own slope (its level at first sight
 * against its level now, which works with coarse sensors that report in 10–25% steps, once a step
 * has been seen), or, while the level has not moved yet, from pages printed per day and the
 * cartridge's yield.
 */
import type { TonerState } from './device-state.ts'

const DAY = 86_400_000
/** A slope needs this much time behind it. */
const MIN_OBSERVED = DAY

export function daysToEmpty(
  t: TonerState,
  at: number,
  fallback: { pagesPerDay: number | null; yieldPages: number | undefined },
): number | null {
  if (t.level <= 0) return 0
  if (t.startLevel !== undefined && t.startTs !== undefined && at - t.startTs >= MIN_OBSERVED) {
    const perDay = ((t.startLevel - t.level) / (at - t.startTs)) * DAY
    if (perDay > 0) return t.level / perDay
  }
  const { pagesPerDay, yieldPages } = fallback
  if (pagesPerDay !== null && pagesPerDay > 0 && yieldPages !== undefined) {
    return ((t.level / 100) * yieldPages) / pagesPerDay
  }
  return null
}
