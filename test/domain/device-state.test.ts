import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type DeviceState,
  fold,
  INITIAL_EPISODE,
  NEW_CARTRIDGE_RISE,
  nextToner,
  RECURRENCE_WINDOW_MS,
  step,
} from '../../src/domain/device-state.ts'
import type { ActiveError, Reading, WasteBoxReport } from '../../src/domain/reading.ts'
import { currentEpisodes, subjectsOf } from '../../src/subjects/device-subjects.ts'

const T0 = Date.parse('2026-11-20T08:00:00Z')
const MINUTE = 60_000

function reading(ts: number, fields: Omit<Reading, 'deviceId' | 'siteId' | 'ts'>): Reading {
  return { deviceId: 'SCM-004512', siteId: 'milano-hq', ts, ...fields }
}

/** Folds readings one minute apart, in the order given, and keeps every intermediate state. */
function walk(fields: Omit<Reading, 'deviceId' | 'siteId' | 'ts'>[]): DeviceState[] {
  const states: DeviceState[] = []
  let state: DeviceState | undefined
  fields.forEach((f, i) => {
    state = step(state, reading(T0 + i * MINUTE, f))
    states.push(state)
  })
  return states
}

const tonerWalk = (levels: number[], color = 'black') =>
  walk(levels.map((level) => ({ toner: { [color]: level } })))
const wasteWalk = (reports: WasteBoxReport[]) => walk(reports.map((wasteBox) => ({ wasteBox })))
const errorWalk = (lists: (ActiveError[] | undefined)[]) =>
  walk(lists.map((errors) => (errors === undefined ? { status: 'ready' as const } : { errors })))

const fuser: ActiveError = { code: 'C-2557', severity: 'critical', text: 'Fuser error' }
const paperJam: ActiveError = { code: 'J-0101', severity: 'warning' }

describe('toner cartridges', () => {
  it('gives a colour seen for the first time the initial episode, with no installation time', () => {
    const [s] = tonerWalk([64])
    // Its first sight is where its slope is measured from.
    expect(s?.toner.black).toEqual({ level: 64, cartridge: INITIAL_EPISODE, startLevel: 64, startTs: T0 })
    expect(s?.toner.black?.installedAt).toBeUndefined()
  })

  it('starts a new cartridge, named c<ts>, on a rise of exactly 30 points', () => {
    const states = tonerWalk([15, 45])
    const ts = T0 + MINUTE
    // The old one still had 15%: that is what replacedAtLevel keeps, for the early-replacement rule.
    expect(states[1]?.toner.black).toEqual({
      level: 45,
      cartridge: `c${ts}`,
      installedAt: ts,
      replacedAtLevel: 15,
      startLevel: 45,
      startTs: ts,
    })
  })

  it('starts a new cartridge on a rise of more than 30 points', () => {
    const states = tonerWalk([3, 100])
    expect(states[1]?.toner.black?.cartridge).toBe(`c${T0 + MINUTE}`)
  })

  it('keeps the same cartridge on a rise of 29 points (a cartridge taken out and shaken)', () => {
    const states = tonerWalk([15, 44])
    expect(states[1]?.toner.black).toMatchObject({
      level: 44,
      cartridge: INITIAL_EPISODE,
      bumps: 1,
      startLevel: 15,
    })
  })

  it('counts rises of 3 to 29 points as bumps of the same cartridge, and ignores smaller ones as noise', () => {
    const states = tonerWalk([20, 22, 18, 25, 21, 30, 10, 12])
    expect(states.map((s) => s?.toner.black?.bumps ?? 0)).toEqual([0, 0, 0, 1, 1, 2, 2, 2])
    expect(new Set(states.map((s) => s?.toner.black?.cartridge))).toEqual(new Set([INITIAL_EPISODE]))
  })

  it('starts counting bumps again with a new cartridge', () => {
    const states = tonerWalk([20, 25, 95, 90, 96])
    expect(states.map((s) => s?.toner.black?.bumps ?? 0)).toEqual([0, 1, 0, 0, 1])
  })

  it('keeps the same cartridge on a rise of 1 point (sensor noise) and on a fall', () => {
    const states = tonerWalk([50, 51, 20, 19])
    expect(states.map((s) => s.toner.black?.cartridge)).toEqual([
      INITIAL_EPISODE,
      INITIAL_EPISODE,
      INITIAL_EPISODE,
      INITIAL_EPISODE,
    ])
    expect(states.map((s) => s.toner.black?.level)).toEqual([50, 51, 20, 19])
  })

  it('keeps a replaced cartridge and its installation time through later small rises and falls', () => {
    const states = tonerWalk([10, 90, 80, 85, 60])
    const installed = T0 + MINUTE
    for (const s of states.slice(1)) {
      expect(s.toner.black?.cartridge).toBe(`c${installed}`)
      expect(s.toner.black?.installedAt).toBe(installed)
    }
  })

  it('compares a rise with the previous reading, not with the lowest level seen', () => {
    // 10 → 25 → 39: each rise is under 30, so it is the same cartridge although the total is 29 and then more.
    const states = tonerWalk([10, 25, 39, 55])
    expect(states.at(-1)?.toner.black?.cartridge).toBe(INITIAL_EPISODE)
  })

  it('tracks each colour on its own', () => {
    const states = walk([{ toner: { black: 10, cyan: 50 } }, { toner: { black: 95, cyan: 51 } }])
    expect(states[1]?.toner.black?.cartridge).toBe(`c${T0 + MINUTE}`)
    expect(states[1]?.toner.cyan?.cartridge).toBe(INITIAL_EPISODE)
  })

  it('keeps the toner it knows when a reading says nothing about toner', () => {
    const states = walk([{ toner: { black: 10, cyan: 50 } }, { status: 'printing' }, { toner: { cyan: 49 } }])
    expect(states[1]?.toner).toEqual(states[0]?.toner)
    expect(states[2]?.toner.black).toMatchObject({ level: 10, cartridge: INITIAL_EPISODE })
    expect(states[2]?.toner.cyan?.level).toBe(49)
  })

  it('starts a new cartridge on a rise of exactly 30 points between fractional levels (20.3 to 50.3)', () => {
    // CONTRACT.md: toner levels are percentages 0 to 100 (any number), and "a new cartridge is a
    // rise of that colour's level by 30 points or more". In floating point 50.3 - 20.3 is
    // 29.999999999999996, so the rise is taken for a shake.
    expect(nextToner({ level: 20.3, cartridge: INITIAL_EPISODE }, 50.3, T0).cartridge).toBe(`c${T0}`)
  })

  it('gives a colour named like a member of Object.prototype (constructor) the initial episode', () => {
    // `constructor` is a lower camel case colour name, which CONTRACT.md allows.
    const [s] = tonerWalk([15], 'constructor')
    expect(Object.hasOwn(s?.toner ?? {}, 'constructor')).toBe(true)
    expect(s?.toner.constructor).toMatchObject({ level: 15, cartridge: INITIAL_EPISODE })
  })
})

describe('waste toner box', () => {
  it('gives the first box seen the initial episode', () => {
    const [s] = wasteWalk(['ok'])
    expect(s?.wasteBox).toEqual({ report: 'ok', box: INITIAL_EPISODE, needsReplacing: false })
  })

  it.each<[WasteBoxReport, boolean]>([
    ['nearFull', true],
    ['full', true],
    [90, true],
    [100, true],
    [89, false],
    [89.9, false],
    ['ok', false],
    [0, false],
  ])('says a box reporting %s needs replacing: %s', (report, needsReplacing) => {
    const [s] = wasteWalk([report])
    expect(s?.wasteBox?.needsReplacing).toBe(needsReplacing)
  })

  it.each<[WasteBoxReport, WasteBoxReport]>([
    ['nearFull', 'ok'],
    ['full', 'ok'],
    [90, 'ok'],
    ['full', 49],
    [95, 0],
  ])('after %s, sees a report of %s as a new box named b<ts>', (before, after) => {
    const states = wasteWalk(['ok', before, after])
    const ts = T0 + 2 * MINUTE
    expect(states[1]?.wasteBox?.box).toBe(INITIAL_EPISODE)
    expect(states[2]?.wasteBox).toEqual({ report: after, box: `b${ts}`, needsReplacing: false })
  })

  it('after a full box, does not take a fill of 50 for a new box, and the box still needs replacing', () => {
    const states = wasteWalk(['full', 50])
    expect(states[1]?.wasteBox).toEqual({ report: 50, box: INITIAL_EPISODE, needsReplacing: true })
  })

  it('does not take ok for a new box when no full box came before it', () => {
    const states = wasteWalk(['ok', 'ok', 40, 'ok'])
    expect(states.map((s) => s.wasteBox?.box)).toEqual([
      INITIAL_EPISODE,
      INITIAL_EPISODE,
      INITIAL_EPISODE,
      INITIAL_EPISODE,
    ])
    expect(states.every((s) => s.wasteBox?.needsReplacing === false)).toBe(true)
  })

  it('keeps a box needing replacing until a new box is seen, even if the fill reported drops a little', () => {
    const states = wasteWalk(['nearFull', 80, 60])
    expect(states.map((s) => s.wasteBox?.needsReplacing)).toEqual([true, true, true])
    expect(states.map((s) => s.wasteBox?.box)).toEqual([INITIAL_EPISODE, INITIAL_EPISODE, INITIAL_EPISODE])
  })

  it('gives each new box its own episode', () => {
    const states = wasteWalk(['full', 'ok', 'full', 'ok'])
    const boxes = states.map((s) => s.wasteBox?.box)
    expect(boxes).toEqual([INITIAL_EPISODE, `b${T0 + MINUTE}`, `b${T0 + MINUTE}`, `b${T0 + 3 * MINUTE}`])
  })

  it('keeps the box it knows when a reading says nothing about the waste box', () => {
    const states = walk([{ wasteBox: 'full' }, { toner: { black: 50 } }])
    expect(states[1]?.wasteBox).toEqual(states[0]?.wasteBox)
  })
})

describe('active errors', () => {
  it('remembers since when an error is active', () => {
    const [s] = errorWalk([[fuser]])
    expect(s?.errors['C-2557']).toEqual({ ...fuser, since: T0 })
  })

  it('keeps the since of an error while it stays in consecutive errors arrays', () => {
    const states = errorWalk([[fuser], [fuser, paperJam], [paperJam, fuser]])
    expect(states.map((s) => s.errors['C-2557']?.since)).toEqual([T0, T0, T0])
    expect(states[2]?.errors['J-0101']?.since).toBe(T0 + MINUTE)
  })

  it('changes nothing about errors when a reading has no errors field', () => {
    const states = errorWalk([[fuser], undefined, undefined])
    expect(states[2]?.errors).toEqual(states[0]?.errors)
    expect(states[2]?.lastTs).toBe(T0 + 2 * MINUTE)
  })

  it('clears every error when a reading says errors: []', () => {
    const states = errorWalk([[fuser, paperJam], []])
    expect(states[1]?.errors).toEqual({})
  })

  it('drops an error left out of the next errors array and keeps the others', () => {
    const states = errorWalk([[fuser, paperJam], [paperJam]])
    expect(Object.keys(states[1]?.errors ?? {})).toEqual(['J-0101'])
  })

  it('gives an error that comes back after it cleared a new since', () => {
    const states = errorWalk([[fuser], [], [fuser]])
    expect(states[2]?.errors['C-2557']?.since).toBe(T0 + 2 * MINUTE)
  })

  it('tracks an error whose code is __proto__ like any other', () => {
    // CONTRACT.md puts no rule on error codes; the schema allows any 1 to 64 characters.
    const odd: ActiveError = { code: '__proto__', severity: 'critical' }
    const [s] = errorWalk([[odd]])
    expect(Object.keys(s?.errors ?? {})).toEqual(['__proto__'])
    // It survives the round trip through the store's JSON, and a later reading keeps its episode.
    const stored = JSON.parse(JSON.stringify(s)) as DeviceState
    const later = step(stored, { deviceId: 'D-1', siteId: 'S-1', ts: (s?.lastTs ?? 0) + 1, errors: [odd] })
    expect(Object.keys(later.errors)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(later.errors, '__proto__')?.value.since).toBe(s?.lastTs)
  })
})

describe('the device as a whole', () => {
  it('keeps the first and last time, and the latest counters and status', () => {
    const states = walk([
      { counters: { total: 10 }, status: 'ready' },
      { counters: { total: 12, mono: 12 } },
      { status: 'sleep' },
    ])
    const last = states[2]
    expect(last?.firstTs).toBe(T0)
    expect(last?.lastTs).toBe(T0 + 2 * MINUTE)
    expect(last?.counters).toEqual({ total: 12, mono: 12 })
    expect(last?.status).toBe('sleep')
  })

  it('names the current episode of every subject', () => {
    const states = walk([
      { toner: { black: 10 }, wasteBox: 'full', errors: [fuser] },
      { toner: { black: 90 } },
    ])
    const last = states[1] as DeviceState
    // In the month it was read, the device owes no meter reading yet: no billing episode.
    expect(Object.fromEntries(currentEpisodes(last, T0 + 2 * MINUTE))).toEqual({
      'toner:black': `c${T0 + MINUTE}`,
      wasteBox: INITIAL_EPISODE,
      'error:C-2557': `e${T0}`,
      'recurrence:C-2557': `r${T0}`,
      silence: `s${T0 + MINUTE}`,
    })
  })

  it('folds nothing into no state', () => {
    expect(fold([])).toBeUndefined()
  })

  it('folds readings that arrive out of order as if they had arrived in time order', () => {
    const inOrder = [
      reading(T0, { toner: { black: 10 } }),
      reading(T0 + MINUTE, { toner: { black: 90 } }),
      reading(T0 + 2 * MINUTE, { toner: { black: 85 } }),
    ]
    const late = [inOrder[2], inOrder[0], inOrder[1]] as Reading[]
    expect(fold(late)).toEqual(fold(inOrder))
    expect(fold(late)?.toner.black?.cartridge).toBe(`c${T0 + MINUTE}`)
  })
})

// --- properties ---

const COLORS = ['black', 'cyan', 'magenta', 'yellow', 'lightCyan'] as const
const ERROR_CODES = ['C-2557', 'J-0101', 'W-0001'] as const

const activeErrorArb: fc.Arbitrary<ActiveError> = fc.record({
  code: fc.constantFrom(...ERROR_CODES),
  severity: fc.constantFrom('critical', 'warning', 'info'),
})

const fieldsArb = fc.record(
  {
    toner: fc.dictionary(fc.constantFrom(...COLORS), fc.integer({ min: 0, max: 100 }), { minKeys: 1 }),
    wasteBox: fc.oneof(
      fc.constantFrom<WasteBoxReport>('ok', 'nearFull', 'full'),
      fc.integer({ min: 0, max: 100 }),
    ),
    errors: fc.uniqueArray(activeErrorArb, { selector: (e) => e.code, maxLength: 3 }),
    status: fc.constantFrom('ready', 'printing', 'sleep', 'warning', 'stopped', 'error'),
    counters: fc.record({ total: fc.nat() }),
  },
  { requiredKeys: [] },
)

/** Readings with unique timestamps, in time order. */
const readingsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 30 })
  .chain((tss) =>
    fc.tuple(...[...tss].sort((a, b) => a - b).map((ts) => fieldsArb.map((f) => reading(T0 + ts, f)))),
  )

describe('properties', () => {
  it('folds any permutation of the same readings (unique ts) into the same state', () => {
    fc.assert(
      fc.property(
        readingsArb.chain((rs) =>
          fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length })),
        ),
        ([ordered, shuffled]) => {
          expect(shuffled).toHaveLength(ordered.length)
          expect(fold(shuffled)).toEqual(fold(ordered))
        },
      ),
    )
  })

  it('counts one cartridge episode plus one per adjacent rise of 30 points or more, for any levels', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 60 }), (levels) => {
        const episodes = new Set(tonerWalk(levels).map((s) => s.toner.black?.cartridge))
        let rises = 0
        for (let i = 1; i < levels.length; i++)
          if ((levels[i] as number) - (levels[i - 1] as number) >= NEW_CARTRIDGE_RISE) rises++
        expect(episodes.size).toBe(1 + rises)
      }),
    )
  })

  it('keeps one cartridge for any levels whose every rise is under 30 points', () => {
    const walkArb = fc
      .tuple(
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.integer({ min: -100, max: NEW_CARTRIDGE_RISE - 1 }), { maxLength: 60 }),
      )
      .map(([start, deltas]) => {
        const levels = [start]
        for (const d of deltas) levels.push(Math.min(100, Math.max(0, (levels.at(-1) as number) + d)))
        return levels
      })
    fc.assert(
      fc.property(walkArb, (levels) => {
        const states = tonerWalk(levels)
        expect(states.every((s) => s.toner.black?.cartridge === INITIAL_EPISODE)).toBe(true)
        expect(states.at(-1)?.toner.black?.level).toBe(levels.at(-1))
      }),
    )
  })

  it('never changes the waste box episode without a box that needed replacing before it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant<WasteBoxReport>('ok'), fc.integer({ min: 0, max: 89 })), {
          minLength: 1,
        }),
        (reports) => {
          const states = wasteWalk(reports)
          expect(states.every((s) => s.wasteBox?.box === INITIAL_EPISODE && !s.wasteBox.needsReplacing)).toBe(
            true,
          )
        },
      ),
    )
  })
})

describe('recurrences of an error code', () => {
  const HOUR_MS = 3_600_000
  const jam: ActiveError = { code: 'J-1', severity: 'warning' }

  it('counts each time the code becomes active in the last 7 days, and keeps one run while it comes back within 7 days', () => {
    fc.assert(
      fc.property(
        // Hourly gaps and whether the jam is active at each reading; some readings say nothing of errors.
        fc.array(
          fc.record({ gap: fc.integer({ min: 1, max: 24 * 9 }), active: fc.boolean(), silent: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        (steps) => {
          let state: DeviceState | undefined
          let ts = Date.UTC(2026, 0, 5)
          let activeBefore = false
          const starts: number[] = []
          let runStart: number | null = null
          for (const s of steps) {
            ts += s.gap * HOUR_MS
            const reading: Reading = s.silent
              ? { deviceId: 'D', siteId: 'S', ts, status: 'ready' }
              : { deviceId: 'D', siteId: 'S', ts, errors: s.active ? [jam] : [] }
            state = step(state, reading)
            if (!s.silent) {
              if (s.active && !activeBefore) {
                const last = starts[starts.length - 1]
                if (last === undefined || ts - last > RECURRENCE_WINDOW_MS) runStart = ts
                starts.push(ts)
              }
              activeBefore = s.active
            }
            const recent = starts.filter((t) => ts - t <= RECURRENCE_WINDOW_MS)
            const [subject] = subjectsOf('recurrence', state, {}, ts)
            if (recent.length === 0) {
              expect(subject).toBeUndefined()
              continue
            }
            expect(subject?.facts.recurrence).toMatchObject({ timesInLast7Days: recent.length })
            expect(subject?.episode).toBe(`r${runStart}`)
          }
        },
      ),
    )
  })
})
