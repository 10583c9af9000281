import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  buildConfig,
  type ConfigSources,
  envName,
  readConfigFile,
  supportCalendar,
} from '../../src/config/config.ts'
import { OPTIONS } from '../../src/config/options.ts'
import { PrintwardenError } from '../../src/errors.ts'

/** The error buildConfig throws for these sources; fails the test if it does not throw. */
function configErrorOf(sources: ConfigSources): PrintwardenError {
  try {
    buildConfig(sources)
  } catch (err) {
    expect(err).toBeInstanceOf(PrintwardenError)
    expect((err as PrintwardenError).code).toBe('PW_ERR_CONFIG')
    return err as PrintwardenError
  }
  throw new Error(`buildConfig accepted ${JSON.stringify(sources)}`)
}

describe('defaults', () => {
  it('uses the defaults of the contract when nothing is given', () => {
    const config = buildConfig({})
    expect(config).toMatchObject({
      mqttPort: 1883,
      httpPort: 3000,
      dataDir: './data',
      rulesDir: './rules',
      sweepIntervalMs: 60000,
      topicRoot: 'fleet/v1',
      maxPayloadBytes: 262144,
      maxFutureSkewMs: 600000,
      clock: 'wall',
      store: 'sqlite',
    })
  })

  it('takes --clock, --store and --influx-url from their PRINTWARDEN_ variables too', () => {
    expect(
      buildConfig({
        env: {
          PRINTWARDEN_CLOCK: 'event',
          PRINTWARDEN_STORE: 'influx',
          PRINTWARDEN_INFLUX_URL: 'http://127.0.0.1:8086/fleet',
        },
      }),
    ).toMatchObject({ clock: 'event', store: 'influx', influxUrl: 'http://127.0.0.1:8086/fleet' })
  })

  it('refuses a clock or a store it does not know, and --store influx without a usable --influx-url', () => {
    expect(configErrorOf({ flags: { clock: 'lunar' } }).message).toMatch(/--clock/)
    expect(configErrorOf({ env: { PRINTWARDEN_STORE: 'mongo' } }).message).toMatch(
      /--store|PRINTWARDEN_STORE/,
    )
    expect(configErrorOf({ flags: { store: 'influx' } }).message).toMatch(/--influx-url/)
    expect(configErrorOf({ flags: { store: 'influx', influxUrl: 'http://127.0.0.1:8086' } }).message).toMatch(
      /--influx-url/,
    )
  })

  it('refuses an --smtp-url that is not smtp:// or smtps://, and one without --mail-from', () => {
    expect(configErrorOf({ flags: { smtpUrl: 'http://mail.example.com' } }).message).toMatch(/--smtp-url/)
    expect(configErrorOf({ flags: { smtpUrl: 'smtp://user:pass@mail.example.com:587' } }).message).toMatch(
      /--mail-from/,
    )
    const ok = buildConfig({
      env: { PRINTWARDEN_SMTP_URL: 'smtps://mail.example.com', PRINTWARDEN_MAIL_FROM: 'pw@example.com' },
      flags: { mailRetryMs: '250ms' },
    })
    expect(ok).toMatchObject({
      smtpUrl: 'smtps://mail.example.com',
      mailFrom: 'pw@example.com',
      mailRetryMs: 250,
    })
  })

  it('treats an environment variable set to the empty string as not set', () => {
    expect(buildConfig({ env: { PRINTWARDEN_MQTT_PORT: '' } }).mqttPort).toBe(1883)
  })

  it('takes no notice of environment variables that are not its own', () => {
    expect(buildConfig({ env: { MQTT_PORT: '1', PORT: '2', HTTP_PORT: '3' } })).toEqual(buildConfig({}))
  })
})

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1000],
    ['5m', 300000],
    ['60s', 60000],
    ['1h', 3600000],
    [' 2s ', 2000],
    ['250', 250],
  ])('reads a sweep interval of %j as %d ms', (raw, expected) => {
    expect(buildConfig({ flags: { sweepIntervalMs: raw } }).sweepIntervalMs).toBe(expected)
  })

  it('reads a duration from the environment and from the file', () => {
    expect(buildConfig({ env: { PRINTWARDEN_SWEEP_INTERVAL: '5m' } }).sweepIntervalMs).toBe(300000)
    expect(buildConfig({ file: { 'sweep-interval': '1s' } }).sweepIntervalMs).toBe(1000)
    expect(buildConfig({ file: { sweepIntervalMs: 750 } }).sweepIntervalMs).toBe(750)
  })

  it('refuses a duration that is no duration, naming the flag', () => {
    expect(configErrorOf({ flags: { sweepIntervalMs: 'soon' } }).message).toMatch(
      /--sweep-interval.*"soon".*the flag --sweep-interval/,
    )
  })

  it('refuses a sweep interval under 10 ms', () => {
    expect(configErrorOf({ flags: { sweepIntervalMs: '5ms' } }).message).toMatch(/--sweep-interval/)
  })
})

describe('precedence: defaults < file < environment < flags', () => {
  const file = { 'mqtt-port': 1884 }
  const env = { PRINTWARDEN_MQTT_PORT: '1885' }
  const flags = { mqttPort: '1886' }

  it('takes the file over the default', () => {
    expect(buildConfig({ file }).mqttPort).toBe(1884)
  })

  it('takes the environment over the file', () => {
    expect(buildConfig({ file, env }).mqttPort).toBe(1885)
  })

  it('takes the flags over the environment and the file', () => {
    expect(buildConfig({ file, env, flags }).mqttPort).toBe(1886)
    expect(buildConfig({ env, flags }).mqttPort).toBe(1886)
  })

  it('decides each option on its own', () => {
    const config = buildConfig({
      file: { 'http-port': 8080, 'data-dir': '/var/lib/pw' },
      env,
      flags: { rulesDir: '/etc/pw' },
    })
    expect(config).toMatchObject({
      mqttPort: 1885,
      httpPort: 8080,
      dataDir: '/var/lib/pw',
      rulesDir: '/etc/pw',
    })
  })

  it('accepts file keys spelled as flags or as config keys', () => {
    expect(buildConfig({ file: { 'http-port': 1 } }).httpPort).toBe(1)
    expect(buildConfig({ file: { httpPort: 2 } }).httpPort).toBe(2)
    expect(buildConfig({ file: { httpPort: '3' } }).httpPort).toBe(3)
  })

  it('names each environment variable PRINTWARDEN_ + the flag in upper snake case', () => {
    expect(envName('mqtt-port')).toBe('PRINTWARDEN_MQTT_PORT')
    expect(envName('sweep-interval')).toBe('PRINTWARDEN_SWEEP_INTERVAL')
    for (const o of OPTIONS) expect(envName(o.flag)).toMatch(/^PRINTWARDEN_[A-Z_]+$/)
  })

  it('reads every option from its environment variable', () => {
    const config = buildConfig({
      env: {
        PRINTWARDEN_HTTP_PORT: '0',
        PRINTWARDEN_DATA_DIR: '/data',
        PRINTWARDEN_RULES_DIR: '/rules',
        PRINTWARDEN_TOPIC_ROOT: 'acme/print',
      },
    })
    expect(config).toMatchObject({
      httpPort: 0,
      dataDir: '/data',
      rulesDir: '/rules',
      topicRoot: 'acme/print',
    })
  })
})

describe('bad values', () => {
  it('says a bad port came from the environment variable, and names the flag', () => {
    const message = configErrorOf({ env: { PRINTWARDEN_HTTP_PORT: 'abc' } }).message
    expect(message).toContain('--http-port')
    expect(message).toContain('"abc"')
    expect(message).toContain('the environment (PRINTWARDEN_HTTP_PORT)')
  })

  it('says a bad value came from the flag', () => {
    expect(configErrorOf({ flags: { mqttPort: '70000' } }).message).toMatch(
      /--mqtt-port = 70000 from the flag --mqtt-port/,
    )
  })

  it('says a bad value came from the config file, by its name and key', () => {
    const message = configErrorOf({ file: { 'http-port': -1 }, fileName: 'printwarden.json' }).message
    expect(message).toMatch(/--http-port = -1 from printwarden\.json \(http-port\)/)
  })

  it('refuses a port that is not a whole number', () => {
    expect(configErrorOf({ flags: { httpPort: '3000.5' } }).message).toContain('--http-port')
    expect(configErrorOf({ flags: { httpPort: '' } }).message).toContain('--http-port')
  })

  it('refuses unknown keys in the file, naming them', () => {
    const message = configErrorOf({
      file: { 'mqtt-port': 1884, mqttport: 1, colour: 'red' },
      fileName: 'pw.json',
    }).message
    expect(message).toMatch(/^pw\.json has unknown options: /)
    expect(message).toContain('mqttport')
    expect(message).toContain('colour')
  })

  it('refuses a topic root with a wildcard or a trailing slash', () => {
    expect(configErrorOf({ flags: { topicRoot: 'fleet/#' } }).message).toContain('--topic-root')
    expect(configErrorOf({ flags: { topicRoot: 'fleet/v1/' } }).message).toContain('--topic-root')
  })
})

describe('the result', () => {
  it('is frozen', () => {
    const config = buildConfig({})
    expect(Object.isFrozen(config)).toBe(true)
    expect(() => {
      ;(config as { mqttPort: number }).mqttPort = 1
    }).toThrow(TypeError)
    expect(config.mqttPort).toBe(1883)
  })

  it('takes any port from 0 to 65535 from a flag or the environment', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.boolean(), (port, fromFlag) => {
        const sources: ConfigSources = fromFlag
          ? { flags: { httpPort: String(port) } }
          : { env: { PRINTWARDEN_HTTP_PORT: String(port) } }
        expect(buildConfig(sources).httpPort).toBe(port)
      }),
    )
  })

  it('refuses any port above 65535', () => {
    fc.assert(
      fc.property(fc.integer({ min: 65536, max: 2 ** 40 }), (port) => {
        expect(configErrorOf({ flags: { mqttPort: String(port) } }).message).toContain('--mqtt-port')
      }),
      { numRuns: 50 },
    )
  })
})

describe('readConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'printwarden-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reads a JSON object that buildConfig then takes', () => {
    const path = join(dir, 'good.json')
    writeFileSync(path, JSON.stringify({ 'mqtt-port': 1999, 'sweep-interval': '5m' }))
    const config = buildConfig({ file: readConfigFile(path), fileName: path })
    expect(config).toMatchObject({ mqttPort: 1999, sweepIntervalMs: 300000 })
  })

  it('refuses a file that is missing, not JSON, or not an object, naming it', () => {
    const notJson = join(dir, 'bad.json')
    writeFileSync(notJson, '{ mqtt-port: 1 }')
    const array = join(dir, 'array.json')
    writeFileSync(array, '[1, 2]')
    for (const path of [join(dir, 'missing.json'), notJson, array]) {
      expect(() => readConfigFile(path)).toThrow(PrintwardenError)
      expect(() => readConfigFile(path)).toThrow(path)
    }
  })
})

describe('the support calendar', () => {
  it('is Monday to Friday, 09:00 to 18:00, UTC, with no holidays, unless configured', () => {
    expect(supportCalendar(buildConfig({}))).toEqual({
      zone: 'UTC',
      workingDays: [1, 2, 3, 4, 5],
      workingHours: { start: '09:00', end: '18:00' },
      holidays: [],
    })
  })

  it('takes the zone, days, hours and holidays from flags, the environment or the file', () => {
    const config = buildConfig({
      file: { supportHolidays: ['2026-12-25'] },
      env: { PRINTWARDEN_SUPPORT_ZONE: 'Europe/Rome' },
      flags: { supportDays: '1,2,3,4,5,6', supportHours: '08:30-17:30' },
    })
    expect(supportCalendar(config)).toEqual({
      zone: 'Europe/Rome',
      workingDays: [1, 2, 3, 4, 5, 6],
      workingHours: { start: '08:30', end: '17:30' },
      holidays: ['2026-12-25'],
    })
    expect(
      supportCalendar(buildConfig({ flags: { supportHolidays: '2026-12-24, 2026-12-31' } })).holidays,
    ).toEqual(['2026-12-24', '2026-12-31'])
  })

  it('refuses a zone that does not exist, hours that end before they start, and a holiday that is no date', () => {
    expect(configErrorOf({ flags: { supportZone: 'Mars/Olympus' } }).message).toMatch(
      /support calendar.*IANA/,
    )
    expect(configErrorOf({ flags: { supportHours: '18:00-09:00' } }).message).toMatch(/support calendar/)
    expect(configErrorOf({ flags: { supportHours: 'nine to six' } }).message).toMatch(/--support-hours/)
    expect(configErrorOf({ flags: { supportHolidays: '2026-02-30' } }).message).toMatch(/not a date/)
    expect(configErrorOf({ flags: { supportDays: '0,8' } }).message).toMatch(/--support-days/)
  })
})
