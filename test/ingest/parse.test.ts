import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MIN_READING_TS } from '../../src/contract/schemas.ts'
import type { Reading } from '../../src/domain/reading.ts'
import { AccessRejectReasons, RejectReasons } from '../../src/errors.ts'
import { type Parsed, type ParseSettings, parseMessage } from '../../src/ingest/parse.ts'

const settings: ParseSettings = { topicRoot: 'fleet/v1', maxPayloadBytes: 262144, maxFutureSkewMs: 600000 }
const NOW = Date.parse('2026-11-20T08:05:00Z')
const MINUTE = 60_000
const TELEMETRY = 'fleet/v1/milano-hq/SCM-004512/telemetry'
const BIRTH = 'fleet/v1/milano-hq/SCM-004512/birth'

/** The reading of CONTRACT.md, "A reading", as published. */
const CONTRACT_READING = `{
  "ts": "2026-11-20T08:00:00Z",
  "seq": 1017,
  "toner": { "black": 64, "cyan": 41, "magenta": 38, "yellow": 55 },
  "wasteBox": "ok",
  "counters": { "total": 182340, "mono": 150112, "color": 32228 },
  "status": "ready",
  "errors": [ { "code": "C-2557", "severity": "critical", "text": "Fuser error" } ]
}`

/** The device's description of CONTRACT.md, "A device's description (birth)". */
const CONTRACT_BIRTH = `{ "vendor": "Kyocera", "model": "TASKalfa 2554ci", "serial": "W2K1234567",
  "location": "Floor 2, accounting office", "contact": "m.rossi@example.com" }`

const parse = (payload: unknown, topic = TELEMETRY, now = NOW): Parsed =>
  parseMessage(
    settings,
    topic,
    Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    now,
  )

function readingsOf(p: Parsed): Reading[] {
  if (p.kind !== 'telemetry') throw new Error(`expected telemetry, got ${JSON.stringify(p)}`)
  return p.readings
}

function expectRejected(p: Parsed, reason: (typeof RejectReasons)[number], detail = /\S/): void {
  expect(p).toMatchObject({ kind: 'rejected', reason, detail: expect.stringMatching(detail) })
}

const ready = (ts: string | number) => ({ ts, status: 'ready' })

describe('readings that follow the contract', () => {
  it("accepts the contract's example reading with every field", () => {
    const p = parse(CONTRACT_READING)
    expect(p).toEqual({
      kind: 'telemetry',
      siteId: 'milano-hq',
      deviceId: 'SCM-004512',
      readings: [
        {
          deviceId: 'SCM-004512',
          siteId: 'milano-hq',
          ts: Date.parse('2026-11-20T08:00:00Z'),
          seq: 1017,
          toner: { black: 64, cyan: 41, magenta: 38, yellow: 55 },
          wasteBox: 'ok',
          counters: { total: 182340, mono: 150112, color: 32228 },
          status: 'ready',
          errors: [{ code: 'C-2557', severity: 'critical', text: 'Fuser error' }],
        },
      ],
    })
  })

  it('accepts a ts in epoch milliseconds', () => {
    const ts = Date.parse('2026-11-20T07:59:00Z')
    expect(readingsOf(parse(ready(ts)))[0]?.ts).toBe(ts)
  })

  it('accepts an ISO 8601 ts with an offset, and reads it in UTC', () => {
    expect(readingsOf(parse(ready('2026-11-20T09:00:00+01:00')))[0]?.ts).toBe(
      Date.parse('2026-11-20T08:00:00Z'),
    )
  })

  it('accepts a ts with fractional seconds', () => {
    expect(readingsOf(parse(ready('2026-11-20T08:00:00.250Z')))[0]?.ts).toBe(
      Date.parse('2026-11-20T08:00:00Z') + 250,
    )
  })

  it('accepts a batch array and keeps its order', () => {
    const batch = [3, 1, 2].map((m) => ({ ts: NOW - m * MINUTE, toner: { black: m } }))
    const readings = readingsOf(parse(batch))
    expect(readings.map((r) => r.ts)).toEqual([NOW - 3 * MINUTE, NOW - MINUTE, NOW - 2 * MINUTE])
    expect(readings.map((r) => r.toner?.black)).toEqual([3, 1, 2])
    expect(readings.every((r) => r.deviceId === 'SCM-004512' && r.siteId === 'milano-hq')).toBe(true)
  })

  it('accepts a batch of exactly 1000 readings', () => {
    const batch = Array.from({ length: 1000 }, (_, i) => ready(NOW - i * MINUTE))
    expect(readingsOf(parse(batch))).toHaveLength(1000)
  })

  it('accepts a ts 9 minutes ahead of now, and one exactly 10 minutes ahead', () => {
    expect(readingsOf(parse(ready(NOW + 9 * MINUTE)))).toHaveLength(1)
    expect(readingsOf(parse(ready(NOW + 10 * MINUTE)))).toHaveLength(1)
  })

  it('accepts a reading with only ts and errors: [] (no error is active)', () => {
    expect(readingsOf(parse({ ts: NOW, errors: [] }))[0]?.errors).toEqual([])
  })

  it('accepts a toner level of 0 and of 100, and fractional levels', () => {
    const toner = { black: 0, cyan: 100, lightCyan: 37.5 }
    expect(readingsOf(parse({ ts: NOW, toner }))[0]?.toner).toEqual(toner)
  })

  it('accepts a waste box fill percentage', () => {
    expect(readingsOf(parse({ ts: NOW, wasteBox: 91 }))[0]?.wasteBox).toBe(91)
  })

  it('ignores unknown fields, at the top and inside counters and errors', () => {
    const [r] = readingsOf(
      parse({
        ts: NOW,
        firmware: '2.1.0',
        counters: { total: 10, duplex: 4 },
        errors: [{ code: 'W-1', severity: 'warning', vendorCode: 77 }],
      }),
    )
    expect(r).toEqual({
      deviceId: 'SCM-004512',
      siteId: 'milano-hq',
      ts: NOW,
      counters: { total: 10 },
      errors: [{ code: 'W-1', severity: 'warning' }],
    })
    expect(r).not.toHaveProperty('firmware')
  })

  it('accepts a payload of exactly 256 KiB', () => {
    const base = JSON.stringify({ ...ready(NOW), pad: '' })
    const payload = JSON.stringify({ ...ready(NOW), pad: 'x'.repeat(262144 - base.length) })
    expect(Buffer.byteLength(payload)).toBe(262144)
    expect(readingsOf(parse(payload))).toHaveLength(1)
  })
})

describe('readings that break the contract', () => {
  it('rejects a payload that is not JSON', () => {
    expectRejected(parse('{"ts": 1, "status": '), 'not-json')
    expectRejected(parse('hello'), 'not-json')
    expectRejected(parse(''), 'not-json')
  })

  it('rejects a toner level given as a string, and names the field', () => {
    expectRejected(parse({ ts: NOW, toner: { black: '64' } }), 'invalid-payload', /\/toner\/black/)
  })

  it.each([
    ['a seq that is a string', { ts: NOW, seq: '1017' }],
    ['a negative page counter', { ts: NOW, counters: { total: -1 } }],
    ['a fractional page counter', { ts: NOW, counters: { total: 1.5 } }],
    ['counters without total', { ts: NOW, counters: { mono: 4 } }],
    ['an unknown status', { ts: NOW, status: 'burning' }],
    ['an unknown waste box state', { ts: NOW, wasteBox: 'empty' }],
    ['an unknown error severity', { ts: NOW, errors: [{ code: 'C-1', severity: 'fatal' }] }],
    ['an error without a code', { ts: NOW, errors: [{ severity: 'critical' }] }],
    ['errors that are not an array', { ts: NOW, errors: { code: 'C-1', severity: 'critical' } }],
    ['a colour name that is not lower camel case', { ts: NOW, toner: { Black: 50 } }],
    ['a ts that is a fractional number', { ts: 1.5, status: 'ready' }],
    ['a negative epoch ts', { ts: -1, status: 'ready' }],
    ['a payload that is a JSON string', '"not a reading"'],
    ['a payload that is null', null],
  ])('rejects %s as an invalid payload', (_what, payload) => {
    expectRejected(parse(payload), 'invalid-payload')
  })

  it.each([101, -1, 100.01])('rejects a toner level of %s', (level) => {
    expectRejected(parse({ ts: NOW, toner: { black: level } }), 'invalid-payload', /\/toner\/black/)
  })

  it.each([101, -1])('rejects a waste box fill of %s', (fill) => {
    expectRejected(parse({ ts: NOW, wasteBox: fill }), 'invalid-payload')
  })

  it('rejects a ts more than 10 minutes ahead of now', () => {
    expectRejected(parse(ready(NOW + 10 * MINUTE + 1)), 'future-timestamp', /\/ts/)
    expectRejected(parse(ready('2026-11-20T08:30:00Z')), 'future-timestamp')
  })

  it('judges a future ts against the now it is given', () => {
    const ts = NOW + 30 * MINUTE
    expectRejected(parse(ready(ts)), 'future-timestamp')
    expect(readingsOf(parse(ready(ts), TELEMETRY, ts))).toHaveLength(1)
  })

  it('rejects an ISO ts without a zone', () => {
    expectRejected(parse(ready('2026-11-20T08:00:00')), 'invalid-payload', /\/ts/)
  })

  it('rejects a ts that is no date at all', () => {
    expectRejected(parse(ready('yesterday')), 'invalid-payload', /\/ts/)
    expectRejected(parse(ready('2026-11-20T08:60:00Z')), 'invalid-payload', /\/ts/)
  })

  it('rejects a ts that names a day the calendar does not have (30 February)', () => {
    // CONTRACT.md: ts is "ISO 8601 with a zone", and a message that breaks a rule is rejected.
    // Date.parse rolls 2026-02-30 over to 2 March, so the reading is stored two days off.
    expectRejected(parse(ready('2026-02-30T08:00:00Z')), 'invalid-payload', /\/ts/)
  })

  it('rejects a reading with only ts', () => {
    expectRejected(parse({ ts: NOW }), 'invalid-payload', /besides ts/)
  })

  it('rejects a reading without ts', () => {
    expectRejected(parse({ status: 'ready' }), 'invalid-payload', /ts/)
  })

  it('rejects an empty array', () => {
    expectRejected(parse([]), 'invalid-payload', /empty/)
  })

  it('rejects an array of 1001 readings', () => {
    const batch = Array.from({ length: 1001 }, (_, i) => ready(i))
    expectRejected(parse(batch), 'invalid-payload', /1000/)
  })

  it('rejects a whole batch with one bad element, and names its index', () => {
    const batch = [ready(NOW - 2), { ts: NOW - 1, toner: { black: 101 } }, ready(NOW)]
    expectRejected(parse(batch), 'invalid-payload', /^\/1\/toner\/black/)
  })

  it('names the index of a batch element that has only ts', () => {
    expectRejected(parse([ready(NOW - 1), { ts: NOW }]), 'invalid-payload', /^\/1/)
  })

  it('names the index of a batch element too far in the future', () => {
    expectRejected(parse([ready(NOW), ready(NOW), ready(NOW + 11 * MINUTE)]), 'future-timestamp', /^\/2\/ts/)
  })

  it('rejects a payload over 256 KiB without reading it', () => {
    const mib = Buffer.alloc(1024 * 1024, 0x20)
    expectRejected(parseMessage(settings, TELEMETRY, mib, NOW), 'too-large', /1048576/)
  })

  it('rejects a payload one byte over 256 KiB', () => {
    const base = JSON.stringify({ ...ready(NOW), pad: '' })
    const payload = JSON.stringify({ ...ready(NOW), pad: 'x'.repeat(262145 - base.length) })
    expectRejected(parse(payload), 'too-large')
  })
})

describe('topics', () => {
  it.each([
    ['a wrong root', 'fleet/v2/milano-hq/SCM-004512/telemetry'],
    ['a root that only starts like ours', 'fleet/v10/milano-hq/SCM-004512/telemetry'],
    ['no root', 'milano-hq/SCM-004512/telemetry'],
    ['too many levels', 'fleet/v1/milano-hq/floor-2/SCM-004512/telemetry'],
    ['a trailing slash', 'fleet/v1/milano-hq/SCM-004512/telemetry/'],
    ['too few levels', 'fleet/v1/SCM-004512/telemetry'],
    ['an unknown kind', 'fleet/v1/milano-hq/SCM-004512/status'],
    ['an empty site id', 'fleet/v1//SCM-004512/telemetry'],
    ['a space in the site id', 'fleet/v1/milano hq/SCM-004512/telemetry'],
    ['a # in the device id', 'fleet/v1/milano-hq/SCM#004512/telemetry'],
    ['a non-ASCII letter in the device id', 'fleet/v1/milano-hq/SCM-00451é/telemetry'],
    ['a device id of 65 characters', `fleet/v1/milano-hq/${'d'.repeat(65)}/telemetry`],
    ['a site id of 65 characters', `fleet/v1/${'s'.repeat(65)}/SCM-004512/telemetry`],
  ])('rejects a message on a topic with %s as unknown-topic', (_what, topic) => {
    expectRejected(parse(CONTRACT_READING, topic), 'unknown-topic')
  })

  it('accepts ids of 64 characters made of letters, digits, dot, underscore and hyphen', () => {
    const id = `A.b_c-9${'x'.repeat(57)}`
    expect(id).toHaveLength(64)
    const p = parse(CONTRACT_READING, `fleet/v1/${id}/${id}/telemetry`)
    expect(p).toMatchObject({ kind: 'telemetry', siteId: id, deviceId: id })
  })

  it('rejects a publish to the actions topic as read-only', () => {
    expectRejected(parse(CONTRACT_READING, 'fleet/v1/milano-hq/SCM-004512/actions'), 'read-only-topic')
  })

  it('follows the topic root it is given', () => {
    const p = parseMessage(
      { ...settings, topicRoot: 'acme/print' },
      'acme/print/s/d/telemetry',
      Buffer.from(CONTRACT_READING),
      NOW,
    )
    expect(p).toMatchObject({ kind: 'telemetry', siteId: 's', deviceId: 'd' })
    expectRejected(parse(CONTRACT_READING, TELEMETRY.replace('fleet/v1', 'acme/print')), 'unknown-topic')
  })
})

describe('births', () => {
  it("accepts the contract's example birth with every field", () => {
    expect(parse(CONTRACT_BIRTH, BIRTH)).toEqual({
      kind: 'birth',
      siteId: 'milano-hq',
      deviceId: 'SCM-004512',
      birth: {
        vendor: 'Kyocera',
        model: 'TASKalfa 2554ci',
        serial: 'W2K1234567',
        location: 'Floor 2, accounting office',
        contact: 'm.rossi@example.com',
      },
    })
  })

  it('accepts a birth with no field', () => {
    expect(parse({}, BIRTH)).toEqual({
      kind: 'birth',
      siteId: 'milano-hq',
      deviceId: 'SCM-004512',
      birth: {},
    })
  })

  it('ignores unknown fields of a birth', () => {
    // toEqual: the birth holds vendor and nothing else.
    expect(parse({ vendor: 'HP', firmware: '1.0' }, BIRTH)).toEqual({
      kind: 'birth',
      siteId: 'milano-hq',
      deviceId: 'SCM-004512',
      birth: { vendor: 'HP' },
    })
  })

  it('rejects a birth whose fields have the wrong type, or that is not an object', () => {
    expectRejected(parse({ vendor: 42 }, BIRTH), 'invalid-payload', /\/vendor/)
    expectRejected(parse([], BIRTH), 'invalid-payload')
    expectRejected(parse(null, BIRTH), 'invalid-payload')
  })

  it('rejects a birth that is not JSON', () => {
    expectRejected(parse('{vendor: HP}', BIRTH), 'not-json')
  })
})

describe('odd values', () => {
  it('refuses a seq or a page counter beyond 2^53 − 1, which a JSON number no longer holds exactly', () => {
    expectRejected(parse({ ts: NOW, seq: 2 ** 53 }), 'invalid-payload', /\/seq/)
    expectRejected(parse('{"ts": 1795000000000, "seq": 9007199254740993}'), 'invalid-payload', /\/seq/)
    expectRejected(parse({ ts: NOW, counters: { total: 1e300 } }), 'invalid-payload', /\/counters\/total/)
    expectRejected(parse({ ts: NOW, counters: { total: 5, mono: 2 ** 60 } }), 'invalid-payload', /mono/)
    expect(readingsOf(parse({ ts: NOW, seq: Number.MAX_SAFE_INTEGER }))[0]?.seq).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('refuses an epoch in seconds, with a reason that says ts takes milliseconds', () => {
    expectRejected(parse(ready(1_795_000_000)), 'old-timestamp', /milliseconds, not seconds/)
  })

  it('refuses readings dated before 2000, years 0000 and 0001 among them, and takes 2000-01-01 itself', () => {
    expectRejected(parse(ready('0000-01-01T00:00:00Z')), 'old-timestamp', /before 2000-01-01/)
    expectRejected(parse(ready('0001-06-01T00:00:00Z')), 'old-timestamp', /before 2000-01-01/)
    expectRejected(parse(ready('1999-12-31T23:59:59Z')), 'old-timestamp', /before 2000-01-01/)
    expectRejected(parse(ready(0)), 'old-timestamp', /1970-01-01/)
    expect(readingsOf(parse(ready('2000-01-01T00:00:00Z')))[0]?.ts).toBe(Date.UTC(2000, 0, 1))
  })

  it('refuses colour names built into JavaScript objects, and takes the other names of the pattern', () => {
    for (const name of ['constructor', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf'])
      expectRejected(parse({ ts: NOW, toner: { [name]: 10 } }), 'invalid-payload', /\/toner/)
    expectRejected(parse(`{"ts": ${NOW}, "toner": {"__proto__": 10}}`), 'invalid-payload', /\/toner/)
    expect(readingsOf(parse({ ts: NOW, toner: { constructorBlue: 10, lightCyan: 20 } }))[0]?.toner).toEqual({
      constructorBlue: 10,
      lightCyan: 20,
    })
  })

  it('refuses a retained telemetry message, whatever it holds, and takes a retained birth', () => {
    const retained = (payload: string, topic = TELEMETRY) =>
      parseMessage(settings, topic, Buffer.from(payload), NOW, true)
    expectRejected(retained(CONTRACT_READING), 'retained-telemetry', /never retained/)
    expect(retained(CONTRACT_BIRTH, BIRTH).kind).toBe('birth')
  })
})

describe('reasons', () => {
  it('rejects every kind of bad message with one of the RejectReasons, and each reason is reachable', () => {
    const seen = new Set([
      (parse(CONTRACT_READING, 'other/topic') as { reason: string }).reason,
      (parse(CONTRACT_READING, 'fleet/v1/s/d/actions') as { reason: string }).reason,
      (parse('x'.repeat(262145)) as { reason: string }).reason,
      (parse('nope') as { reason: string }).reason,
      (parse({ ts: NOW }) as { reason: string }).reason,
      (parse(ready(NOW + 11 * MINUTE)) as { reason: string }).reason,
      (parse(ready(1_700_000_000)) as { reason: string }).reason,
      (parseMessage(settings, TELEMETRY, Buffer.from(CONTRACT_READING), NOW, true) as { reason: string })
        .reason,
    ])
    // The broker's reasons: aedes refuses a bad topic name before any message reaches parse, and the
    // access reasons are the broker's hooks' (test/access).
    const broker: readonly string[] = [...AccessRejectReasons, 'bad-topic-name']
    expect([...seen].sort()).toEqual(RejectReasons.filter((r) => !broker.includes(r)).sort())
  })
})

// --- properties ---

const ID_CHARS = 'abcXYZ019._-'.split('')
const idArb = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 64 })
const topicArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc
    .tuple(idArb, idArb, fc.constantFrom('telemetry', 'birth', 'actions', 'other'))
    .map(([s, d, k]) => `fleet/v1/${s}/${d}/${k}`),
)

function expectWellFormed(p: Parsed): void {
  expect(['telemetry', 'birth', 'rejected']).toContain(p.kind)
  // Every kind's checks run on every value: a kind's list is empty for the other kinds.
  const reasons = p.kind === 'rejected' ? [p.reason] : []
  expect(RejectReasons).toEqual(expect.arrayContaining(reasons))
  const readings = p.kind === 'telemetry' ? p.readings : []
  expect(p.kind !== 'telemetry' || readings.length > 0).toBe(true)
  for (const r of readings) expect(r.ts - NOW).toBeLessThanOrEqual(settings.maxFutureSkewMs)
}

describe('properties', () => {
  it('never throws, for any bytes as payload and any string as topic', () => {
    fc.assert(
      fc.property(topicArb, fc.uint8Array({ maxLength: 2048 }), (topic, bytes) => {
        expectWellFormed(parseMessage(settings, topic, Buffer.from(bytes), NOW))
      }),
      { numRuns: 500 },
    )
  })

  it('never throws, for any JSON as payload on a telemetry or birth topic', () => {
    fc.assert(
      fc.property(fc.constantFrom(TELEMETRY, BIRTH), fc.jsonValue(), (topic, value) => {
        expectWellFormed(parse(JSON.stringify(value) ?? 'null', topic))
      }),
      { numRuns: 500 },
    )
  })

  it('accepts any reading made of the contract fields, and keeps every one of them', () => {
    const readingArb = fc.record(
      {
        ts: fc.oneof(
          fc.integer({ min: MIN_READING_TS, max: NOW + settings.maxFutureSkewMs }),
          fc.integer({ min: MIN_READING_TS, max: NOW }).map((ms) => new Date(ms).toISOString()),
        ),
        seq: fc.maxSafeNat(),
        toner: fc.dictionary(
          fc.constantFrom('black', 'cyan', 'magenta', 'yellow', 'lightCyan'),
          fc.integer({ min: 0, max: 100 }),
        ),
        wasteBox: fc.oneof(
          fc.constantFrom('ok', 'nearFull', 'full'),
          fc.double({ min: 0, max: 100, noNaN: true }),
        ),
        counters: fc.record(
          { total: fc.maxSafeNat(), mono: fc.maxSafeNat(), color: fc.maxSafeNat() },
          { requiredKeys: ['total'] },
        ),
        status: fc.constantFrom('ready', 'printing', 'sleep', 'warning', 'stopped', 'error'),
        errors: fc.array(
          fc.record(
            {
              code: fc.string({ minLength: 1, maxLength: 64 }),
              severity: fc.constantFrom('critical', 'warning', 'info'),
              text: fc.string(),
            },
            { requiredKeys: ['code', 'severity'] },
          ),
          { maxLength: 4 },
        ),
      },
      { requiredKeys: ['ts', 'status'] },
    )
    fc.assert(
      fc.property(readingArb, (wire) => {
        const [r] = readingsOf(parse(wire))
        const { ts, ...fields } = wire
        expect(r).toEqual({
          deviceId: 'SCM-004512',
          siteId: 'milano-hq',
          ts: typeof ts === 'number' ? ts : Date.parse(ts),
          ...JSON.parse(JSON.stringify(fields)),
        })
      }),
      { numRuns: 300 },
    )
  })
})
