/**
 * The behaviours of issue 5, each shown in the stream the generator publishes (no broker needed):
 * what a gateway would send is what these tests read.
 */
import { describe, expect, it } from 'vitest'
import { localTime } from '../../simulator/calendar.ts'
import { type DeviceState, step } from '../../src/domain/device-state.ts'
import { normalizeReading } from '../../src/domain/reading.ts'
import {
  action,
  checkBirth,
  checkTelemetry,
  DAY,
  deviceIdOf,
  generate,
  HOUR,
  MINUTE,
  MONDAY,
  plan,
  readingsOf,
  scenario,
  topicOf,
} from './helpers.ts'

const steady = { initialToner: { min: 90, max: 100 }, initialWasteBox: { min: 0, max: 10 } }

describe('what gateways publish', () => {
  it('sends each device its retained birth before its first reading, and only contract-valid payloads', () => {
    const p = plan(
      scenario({
        devices: 6,
        sites: 2,
        incidents: { gatewayOutages: { perGatewayMonth: 4, minHours: 2, maxHours: 30 } },
      }),
      { days: 7 },
    )
    const run = generate(p)
    const seen = new Set<string>()
    for (const m of run.publishes) {
      const t = topicOf(m)
      expect(t).not.toBeNull()
      const json = JSON.parse(m.payload)
      if (t?.kind === 'birth') {
        expect(m.retain).toBe(true)
        expect(checkBirth.Check(json)).toBe(true)
        expect(json.vendor).toBe('Kyocera')
        seen.add(t.deviceId)
      } else {
        expect(m.retain).toBe(false)
        expect(seen.has(t?.deviceId ?? '')).toBe(true)
        expect(checkTelemetry.Check(json)).toBe(true)
      }
    }
    expect(seen.size).toBe(6)
    // Each reading has its gateway's seq, one more than the last, and the reading's own time.
    const r = readingsOf(run, deviceIdOf(p, 0))
    expect(r.map((x) => x.reading.seq)).toEqual(r.map((_, i) => i + 1))
  })
})

describe('office hours, weekends, holidays and busy periods', () => {
  const s = scenario({
    devices: 12,
    sites: 2,
    timeZones: ['UTC', 'Asia/Tokyo'],
    calendar: {
      holidays: ['2026-01-07'],
      busyPeriods: [{ from: '2026-01-12', to: '2026-01-16', factor: 2 }],
    },
    usage: steady,
    behaviour: { faultRateFactor: 0 },
  })
  const p = plan(s, { days: 14 })
  const run = generate(p)
  /** Pages printed in each interval, with the local time at which they were read. */
  const pages = p.devices.flatMap((d) => {
    const zone = p.sites[d.site]?.calendar.zone as string
    const r = readingsOf(run, d.deviceId)
    return r.slice(1).map((x, i) => ({
      zone,
      local: localTime(x.ts - 1, zone),
      pages: (x.reading.counters?.total ?? 0) - ((r[i] as typeof x).reading.counters?.total ?? 0),
    }))
  })
  const sum = (f: (x: (typeof pages)[number]) => boolean) => pages.filter(f).reduce((a, x) => a + x.pages, 0)
  const office = (x: (typeof pages)[number]) =>
    x.local.weekday <= 5 && x.local.minutes >= 8 * 60 && x.local.minutes < 18 * 60

  it('prints in office hours on working days, in the site’s own zone', () => {
    const total = sum(() => true)
    expect(total).toBeGreaterThan(10_000)
    expect(sum(office) / total).toBeGreaterThan(0.9)
    // Tokyo's office day is 23:00 to 09:00 UTC: its pages follow its own clock.
    const tokyo = pages.filter((x) => x.zone === 'Asia/Tokyo')
    expect(tokyo.length).toBeGreaterThan(0)
    expect(sum((x) => x.zone === 'Asia/Tokyo' && office(x))).toBeGreaterThan(
      0.9 * sum((x) => x.zone === 'Asia/Tokyo'),
    )
  })

  it('hardly prints at weekends and on holidays, and prints about twice as much in a busy period', () => {
    const perDay = (date: string) => sum((x) => x.local.date === date)
    const ordinary = (perDay('2026-01-05') + perDay('2026-01-06') + perDay('2026-01-08')) / 3
    expect(perDay('2026-01-10')).toBeLessThan(ordinary / 10) // Saturday
    expect(perDay('2026-01-11')).toBeLessThan(ordinary / 10) // Sunday
    expect(perDay('2026-01-07')).toBeLessThan(ordinary / 10) // the holiday
    const busy = ['2026-01-12', '2026-01-13', '2026-01-14', '2026-01-15', '2026-01-16'].map(perDay)
    const busyAverage = busy.reduce((a, b) => a + b, 0) / busy.length
    expect(busyAverage / ordinary).toBeGreaterThan(1.5)
    expect(busyAverage / ordinary).toBeLessThan(2.6)
  })
})

describe('toner', () => {
  it('drains with pages, twice as fast at twice the coverage', () => {
    const p = plan(
      scenario({ devices: 2, usage: steady, behaviour: { faultRateFactor: 0, shakerSites: 0 } }),
      {
        days: 30,
      },
    )
    // Two printers with the same users (same seed, same volume), one printing pages twice as dark.
    const twin = { ...(p.devices[0] as (typeof p.devices)[number]) }
    p.devices[1] = {
      ...twin,
      index: 1,
      deviceId: 'SIM-DARK',
      coverage: { ...twin.coverage, black: 2 * (twin.coverage.black as number) },
      slotMs: 0,
    }
    p.sites[0] = { ...(p.sites[0] as (typeof p.sites)[number]), devices: [0, 1] }
    const run = generate(p)
    const drop = (id: string) => {
      const r = readingsOf(run, id)
      const first = r[0]?.reading
      const last = r[r.length - 1]?.reading
      return {
        pages: (last?.counters?.total ?? 0) - (first?.counters?.total ?? 0),
        level: (first?.toner?.black ?? 0) - (last?.toner?.black ?? 0),
      }
    }
    const light = drop(twin.deviceId)
    const dark = drop('SIM-DARK')
    expect(light.pages).toBeGreaterThan(3000)
    expect(dark.pages).toBe(light.pages)
    // The level falls by pages × coverage / (5% × yield), within the sensor's 10% steps.
    const expected = ((light.pages * (twin.coverage.black as number)) / 5 / 25_000) * 100
    expect(Math.abs(light.level - expected)).toBeLessThanOrEqual(10)
    expect(Math.abs(dark.level - 2 * expected)).toBeLessThanOrEqual(10)
    expect(dark.level).toBeGreaterThan(light.level)
  })

  it('shows a shake as a small rise of the level that the service does not take for a new cartridge', () => {
    const p = plan(
      scenario({
        devices: 8,
        sites: 1,
        usage: { initialToner: { min: 6, max: 14 } },
        behaviour: { shakerSites: 1, faultRateFactor: 0 },
      }),
      { days: 21 },
    )
    const run = generate(p)
    const shakes = run.events.filter((e) => e.type === 'shake')
    expect(shakes.length).toBeGreaterThan(3)
    let visible = 0
    for (const shake of shakes) {
      if (shake.type !== 'shake') continue
      const id = deviceIdOf(p, shake.device)
      const r = readingsOf(run, id)
      const at = r.findIndex((x) => x.ts === shake.ts)
      const before = r[at - 1]?.reading.toner?.[shake.color] as number
      const after = r[at]?.reading.toner?.[shake.color] as number
      expect(after - before).toBeGreaterThanOrEqual(0)
      expect(after - before).toBeLessThan(30)
      if (after > before) visible++
      // Folded by the service's own domain code, the shaken cartridge stays the same cartridge.
      let state: DeviceState | undefined
      const episodes: string[] = []
      for (const x of r.slice(0, at + 1)) {
        state = step(state, normalizeReading('site-001', id, x.reading, x.ts))
        episodes.push(state.toner[shake.color]?.cartridge as string)
      }
      expect(episodes[at]).toBe(episodes[at - 1])
    }
    expect(visible).toBeGreaterThan(0)
    // No new cartridge was ever fitted here: every rise in the stream is a shake.
    expect(run.events.some((e) => e.type === 'fit-toner')).toBe(false)
  })

  it('stops a printer whose colour reaches 0, and keeps it stopped when nothing is delivered', () => {
    const p = plan(
      scenario({
        devices: 3,
        usage: { initialToner: { min: 1, max: 3 } },
        behaviour: { shakerSites: 0, faultRateFactor: 0 },
      }),
      {
        days: 10,
      },
    )
    const run = generate(p)
    for (const d of p.devices) {
      const r = readingsOf(run, d.deviceId)
      const stop = r.findIndex((x) => x.reading.status === 'stopped')
      expect(stop).toBeGreaterThan(0)
      const after = r.slice(stop)
      expect(after.every((x) => x.reading.status === 'stopped')).toBe(true)
      expect(new Set(after.map((x) => x.reading.counters?.total)).size).toBe(1)
      expect(after[0]?.reading.errors?.some((e) => e.code.startsWith('TONER-EMPTY-'))).toBe(true)
    }
    expect(run.sim.kpis.report().stockout.hours).toBeGreaterThan(3 * 24)
  })

  it('fits a delivered cartridge at once for early replacers, throwing toner away, and at the stop for the others', () => {
    const p = plan(scenario({ devices: 2, behaviour: { shakerSites: 0, faultRateFactor: 0 } }), { days: 10 })
    for (const d of p.devices) d.monthlyPages = 8000
    ;(p.devices[0] as (typeof p.devices)[number]).earlyReplacer = true
    ;(p.devices[1] as (typeof p.devices)[number]).earlyReplacer = false
    p.tonerSets = [
      { device: 0, at: MONDAY, color: 'black', level: 15 },
      { device: 1, at: MONDAY, color: 'black', level: 1.5 },
    ]
    // The service orders black for both on Monday at 01:00, before noon: delivered Wednesday 10:00.
    const ordered = MONDAY + HOUR
    const wednesday10 = MONDAY + 2 * DAY + 10 * HOUR
    let sent = false
    const run = generate(p, (sim) => {
      if (sent || sim.now <= ordered) return
      sent = true
      for (const d of p.devices)
        sim.applyAction(
          action({
            type: 'reorder',
            deviceId: d.deviceId,
            siteId: 'site-001',
            createdAt: ordered,
            details: { color: 'black', level: 10 },
          }),
        )
    })
    const fits = run.events.filter((e) => e.type === 'fit-toner')
    expect(fits.map((f) => f.device).sort()).toEqual([0, 1])
    const early = fits.find((f) => f.device === 0)
    expect(early?.ts).toBe(wednesday10 + (p.devices[0]?.slotMs ?? 0))
    expect(early?.type === 'fit-toner' && early.early).toBe(true)
    const r0 = readingsOf(run, deviceIdOf(p, 0))
    const at0 = r0.findIndex((x) => x.ts === early?.ts)
    // Fitted at 10:00 and printing straight away: the sensor's 10% steps show 90 or 100.
    expect(r0[at0]?.reading.toner?.black).toBeGreaterThanOrEqual(90)
    expect(r0[at0 - 1]?.reading.toner?.black).toBeGreaterThan(0)
    // The other site waits for the printer to stop, and fits it then.
    const late = fits.find((f) => f.device === 1)
    const r1 = readingsOf(run, deviceIdOf(p, 1))
    const at1 = r1.findIndex((x) => x.ts === late?.ts)
    expect(late?.ts).toBeGreaterThan(wednesday10)
    expect(r1[at1 - 1]?.reading.status).toBe('stopped')
    expect(r1[at1]?.reading.toner?.black).toBeGreaterThanOrEqual(90)
    const k = run.sim.kpis.report()
    expect(k.tonerThrownAway.earlyReplacements).toBe(1)
    expect(k.tonerThrownAway.percentPoints).toBeGreaterThan(0)
    expect(k.stockout.hours).toBeGreaterThan(0)
  })
})

describe('waste toner boxes', () => {
  it('fills with printing and reports nearFull, then full, and the printer stops', () => {
    const p = plan(
      scenario({
        devices: 2,
        usage: { initialToner: { min: 95, max: 100 }, initialWasteBox: { min: 86, max: 89 } },
        behaviour: { faultRateFactor: 0 },
      }),
      { days: 30 },
    )
    for (const d of p.devices) d.monthlyPages = 12_000
    const run = generate(p)
    for (const d of p.devices) {
      const states = readingsOf(run, d.deviceId).map((x) => x.reading.wasteBox)
      const firstNear = states.indexOf('nearFull')
      const firstFull = states.indexOf('full')
      expect(states[0]).toBe('ok')
      expect(firstNear).toBeGreaterThan(0)
      expect(firstFull).toBeGreaterThan(firstNear)
      expect(states.slice(firstFull).every((s) => s === 'full')).toBe(true)
    }
  })

  it('reports a rising fill percentage on models that report one', () => {
    const p = plan(
      scenario({ devices: 2, models: [{ id: 'konica-minolta-bizhub-c300i', weight: 1 }], usage: steady }),
      { days: 14 },
    )
    const run = generate(p)
    const fills = readingsOf(run, deviceIdOf(p, 0)).map((x) => x.reading.wasteBox as number)
    expect(fills.every((f) => typeof f === 'number')).toBe(true)
    expect(fills[fills.length - 1]).toBeGreaterThan(fills[0] as number)
    expect(fills.every((f, i) => i === 0 || f >= (fills[i - 1] as number))).toBe(true)
  })

  it('changes the waste box with the black cartridge when the box ships with the toner', () => {
    const p = plan(
      scenario({
        devices: 1,
        models: [{ id: 'kyocera-ecosys-m3145dn', weight: 1 }],
        usage: { initialWasteBox: { min: 95, max: 96 } },
        behaviour: { shakerSites: 0, faultRateFactor: 0 },
      }),
      { days: 7 },
    )
    p.tonerSets = [{ device: 0, at: MONDAY, color: 'black', level: 1 }]
    let sent = false
    const run = generate(p, (sim) => {
      if (sent) return
      sent = true
      sim.applyAction(
        action({
          type: 'reorder',
          deviceId: deviceIdOf(p, 0),
          siteId: 'site-001',
          createdAt: MONDAY,
          details: { color: 'black', level: 0 },
        }),
      )
    })
    const r = readingsOf(run, deviceIdOf(p, 0))
    const fit = r.findIndex(
      (x, i) => i > 0 && (x.reading.toner?.black ?? 0) - (r[i - 1]?.reading.toner?.black ?? 0) >= 30,
    )
    expect(fit).toBeGreaterThan(0)
    expect(r[fit - 1]?.reading.wasteBox).toBe('nearFull')
    expect(r[fit]?.reading.wasteBox).toBe('ok')
  })
})

describe('faults', () => {
  it('keeps a critical fault active until a technician repairs it, after the drawn service time', () => {
    const p = plan(
      scenario({ devices: 2, usage: steady, behaviour: { faultRateFactor: 0 }, service: { minHours: 4 } }),
      {
        days: 10,
      },
    )
    const faultAt = MONDAY + 9 * HOUR
    p.faults = [
      { device: 0, at: faultAt, code: 'C6000' },
      { device: 1, at: faultAt, code: 'C6000' },
    ]
    let ticketed = false
    const run = generate(p, (sim) => {
      if (ticketed || sim.now <= faultAt) return
      ticketed = true
      // Only device 1 gets a ticket.
      sim.applyAction(
        action({
          type: 'fault',
          deviceId: deviceIdOf(p, 1),
          siteId: 'site-001',
          createdAt: faultAt,
          details: { code: 'C6000', severity: 'critical' },
        }),
      )
    })
    const active = (x: { reading: { errors?: { code: string }[] } }) =>
      x.reading.errors?.some((e) => e.code === 'C6000')
    const r0 = readingsOf(run, deviceIdOf(p, 0)).filter((x) => x.ts >= faultAt)
    expect(r0.every(active)).toBe(true)
    expect(r0.every((x) => x.reading.status === 'error')).toBe(true)
    expect(new Set(r0.map((x) => x.reading.counters?.total)).size).toBe(1)
    const r1 = readingsOf(run, deviceIdOf(p, 1)).filter((x) => x.ts >= faultAt)
    const repaired = r1.findIndex((x) => !active(x))
    expect(repaired).toBeGreaterThan(0)
    const repairedAt = r1[repaired]?.ts as number
    expect(repairedAt - faultAt).toBeGreaterThanOrEqual(4 * HOUR)
    const local = localTime(repairedAt, 'UTC')
    expect(local.weekday).toBeLessThanOrEqual(5)
    expect(local.minutes).toBeGreaterThanOrEqual(8 * 60)
    expect(r1.slice(repaired).every((x) => !active(x))).toBe(true)
    expect(run.events.filter((e) => e.type === 'repaired').map((e) => e.device)).toEqual([1])
  })

  it('draws jams and covers at their models’ rates, and users clear them within the hour', () => {
    const p = plan(scenario({ devices: 40, sites: 4, usage: steady, behaviour: { shakerSites: 0 } }), {
      days: 60,
    })
    const run = generate(p)
    const model = p.models['kyocera-taskalfa-2554ci']
    const pages = p.devices.reduce((sum, d) => {
      const r = readingsOf(run, d.deviceId)
      return sum + ((r[r.length - 1]?.reading.counters?.total ?? 0) - (r[0]?.reading.counters?.total ?? 0))
    }, 0)
    for (const kind of ['jam', 'cover'] as const) {
      const expected = (model?.errors ?? [])
        .filter((e) => e.kind === kind)
        .reduce((n, e) => n + (pages * e.per100kPages) / 100_000, 0)
      const seen = run.events.filter((e) => e.type === 'fault' && e.kind === kind).length
      expect(expected).toBeGreaterThan(20)
      expect(seen / expected).toBeGreaterThan(0.6)
      expect(seen / expected).toBeLessThan(1.4)
    }
    const cleared = run.events.filter((e) => e.type === 'cleared')
    expect(cleared.length).toBeGreaterThan(0)
    for (const c of cleared) {
      if (c.type !== 'cleared') continue
      const raised = run.events.filter(
        (e) => e.type === 'fault' && e.device === c.device && e.code === c.code && e.ts < c.ts,
      )
      expect(c.ts - (raised[raised.length - 1]?.ts ?? 0)).toBeLessThanOrEqual(2 * HOUR)
    }
  })
})

describe('gateways and devices that go quiet', () => {
  it('publishes nothing for an offline gateway, then replays its buffer as arrays of at most 1000 in time order before live readings', () => {
    const p = plan(scenario({ devices: 4, sites: 2, usage: steady }), { days: 20 })
    const from = MONDAY + 3 * DAY + 5 * HOUR
    const to = from + 12 * DAY
    p.outages = [{ site: 0, from, to }]
    const run = generate(p)
    const drop = run.ops.findIndex((o) => o.op === 'disconnect')
    const back = run.ops.findIndex((o, i) => i > drop && o.op === 'connect' && o.gateway === 0)
    expect(drop).toBeGreaterThan(0)
    expect(back).toBeGreaterThan(drop)
    const during = run.ops.slice(drop + 1, back)
    expect(during.some((o) => o.op === 'publish' && o.gateway === 0)).toBe(false)
    expect(during.some((o) => o.op === 'publish' && o.gateway === 1)).toBe(true)
    for (const d of p.sites[0]?.devices ?? []) {
      const id = deviceIdOf(p, d)
      const r = readingsOf(run, id)
      // Every reading is there, in time order, one interval apart: the buffer lost nothing.
      expect(r.every((x, i) => i === 0 || x.ts - (r[i - 1] as typeof x).ts === 15 * MINUTE)).toBe(true)
      const replayed = r.filter((x) => x.replay)
      expect(replayed.length).toBe((to - from) / (15 * MINUTE))
      const arrays = [...new Set(replayed.map((x) => x.message))].map((m) => run.publishes[m])
      expect(arrays.length).toBe(2)
      for (const a of arrays) expect(JSON.parse(a?.payload ?? '[]').length).toBeLessThanOrEqual(1000)
      // The replay comes after the births of the reconnection, and before any live reading resumes.
      const firstLive = r.find((x) => x.ts >= to)
      expect(firstLive && !firstLive.replay).toBe(true)
      expect(Math.max(...replayed.map((x) => x.message))).toBeLessThan(firstLive?.message ?? 0)
      const rebirth = run.ops.findIndex(
        (o, i) => i > back && o.op === 'publish' && o.kind === 'birth' && o.deviceId === id,
      )
      expect(rebirth).toBeGreaterThan(back)
    }
  })

  it('keeps replay messages under the size limit', () => {
    const p = plan(scenario({ devices: 2, sites: 1, usage: steady }), { days: 6 })
    p.outages = [{ site: 0, from: MONDAY + DAY, to: MONDAY + 4 * DAY }]
    const run = generate(p, undefined, { maxPayloadBytes: 20_000 })
    const arrays = run.publishes.filter((m) => m.kind === 'replay')
    expect(arrays.length).toBeGreaterThan(2)
    for (const a of arrays) expect(a.payload.length).toBeLessThanOrEqual(20_000)
    expect(arrays.reduce((n, a) => n + a.readings, 0)).toBe(2 * 3 * 96)
  })

  it('lets a silent device publish nothing for the silence, then resume where its gateway left off', () => {
    const p = plan(scenario({ devices: 3, sites: 1, usage: steady }), { days: 14 })
    const from = MONDAY + 2 * DAY
    const to = from + 7 * DAY
    p.silences = [{ device: 1, from, to }]
    const run = generate(p)
    const r = readingsOf(run, deviceIdOf(p, 1))
    expect(r.some((x) => x.ts >= from && x.ts < to)).toBe(false)
    const lastBefore = r.filter((x) => x.ts < from).pop()
    const firstAfter = r.find((x) => x.ts >= to)
    expect(firstAfter?.reading.seq).toBe((lastBefore?.reading.seq ?? 0) + 1)
    // It went on printing while nobody could read it.
    expect(firstAfter?.reading.counters?.total).toBeGreaterThan(lastBefore?.reading.counters?.total ?? 0)
    const other = readingsOf(run, deviceIdOf(p, 0))
    expect(other.filter((x) => x.ts >= from && x.ts < to).length).toBe(7 * 96)
  })

  it('resets the page counters after a board swap', () => {
    const p = plan(scenario({ devices: 1, usage: steady, behaviour: { faultRateFactor: 0 } }), { days: 5 })
    const swap = MONDAY + 2 * DAY + 11 * HOUR
    p.boardSwaps = [{ device: 0, at: swap }]
    const run = generate(p)
    const r = readingsOf(run, deviceIdOf(p, 0))
    const at = r.findIndex((x) => x.ts >= swap)
    const before = r[at - 1]?.reading.counters?.total as number
    const after = r[at]?.reading.counters?.total as number
    expect(before).toBeGreaterThan(5000)
    expect(after).toBeLessThan(100)
    expect(r[r.length - 1]?.reading.counters?.total).toBeGreaterThan(after)
  })
})
