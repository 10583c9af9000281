/**
 * --store influx end to end: the real service, a real influxd, and influxd killed in the middle of
 * a stream of readings. Ingest goes on, readings wait in the spool, and once influxd is back every
 * acknowledged reading is in InfluxDB exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InfluxStore } from '../../src/store/influx/influx-store.ts'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import { hasInfluxd, type Influxd, influxSkipReason, startInfluxd } from '../helpers/influxd.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'

interface Health {
  status: string
  spool?: { pending: number; max: number; influx: 'up' | 'down' }
}

describe.skipIf(!hasInfluxd)(`the service on InfluxDB ${influxSkipReason}`, () => {
  const data = tempDir()
  let influxd: Influxd
  let service: ServiceProcess
  let influx: InfluxStore
  const health = async () => (await getJson<Health>(`${service.http}/health`)).body

  beforeAll(async () => {
    influxd = await startInfluxd()
    service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--store', 'influx', '--influx-url', `${influxd.url}/printwarden`, '--sweep-interval', '1s'],
    })
    influx = new InfluxStore({ url: influxd.url, database: 'printwarden' })
  })
  afterAll(async () => {
    if (service) await kill9(service)
    await influxd?.remove()
    data.remove()
  })

  const start = Date.now() - 3 * 24 * HOUR
  const reading = (device: number, i: number) =>
    telemetry('influx-site', `IFX-${device}`, {
      ts: iso(start + i * 15 * 60_000),
      seq: i,
      toner: { black: 100 - i },
      counters: { total: i * 10 },
    })

  it('serves readings from InfluxDB and writes action events there', async () => {
    const client = await connect(service.mqttUrl)
    await publishAll(client, [
      {
        topic: 'fleet/v1/influx-site/IFX-0/birth',
        payload: JSON.stringify({ vendor: 'Kyocera', model: 'ECOSYS M5526cdw' }),
      },
      ...Array.from({ length: 85 }, (_, i) => reading(0, i)),
    ])
    await client.endAsync()
    await settled(service.http)
    await waitFor(
      async () => ((await health()).spool?.pending === 0 ? true : undefined),
      60_000,
      'the spool to drain',
    )
    const { body } = await getJson<{ items: { seq: number }[] }>(`${service.http}/devices/IFX-0/readings`)
    expect(body.items.map((r) => r.seq)).toEqual(Array.from({ length: 85 }, (_, i) => i))
    const [reorder] = await actions(service.http, '?type=reorder')
    expect(reorder?.details).toMatchObject({
      color: 'black',
      level: 20,
      model: 'ECOSYS M5526cdw',
      delivery: { step: 'ordered' },
    })
    const events = await waitFor(async () => {
      const rows = await influx.query(`SELECT * FROM "action_event" WHERE "device" = 'IFX-0'`)
      return rows.length > 0 ? rows : undefined
    })
    expect(events[0]).toMatchObject({
      type: 'reorder',
      status: 'open',
      id: reorder?.id,
      device: 'IFX-0',
      site: 'influx-site',
    })
    const tagged = await influx.query(
      `SELECT count("seq") FROM "reading" WHERE "vendor" = 'Kyocera' AND "device" = 'IFX-0'`,
    )
    expect(tagged[0]?.count).toBe(85)
  })

  it('tags the readings after a new birth message with what it says', async () => {
    const client = await connect(service.mqttUrl)
    await publishAll(client, [
      {
        topic: 'fleet/v1/influx-site/IFX-0/birth',
        payload: JSON.stringify({ vendor: 'Kyocera', model: 'TASKalfa 2554ci' }),
      },
      reading(0, 85),
    ])
    await client.endAsync()
    await settled(service.http)
    await waitFor(
      async () => ((await health()).spool?.pending === 0 ? true : undefined),
      60_000,
      'the spool to drain',
    )
    const rows = await influx.query(
      `SELECT count("seq") FROM "reading" WHERE "device" = 'IFX-0' GROUP BY "model"`,
    )
    expect(rows.map((r) => [r.model, r.count]).sort()).toEqual([
      ['ECOSYS M5526cdw', 85],
      ['TASKalfa 2554ci', 1],
    ])
  })

  it('passes over a reading InfluxDB refuses, and writes the ones around it', async () => {
    const client = await connect(service.mqttUrl)
    await publishAll(client, [
      { topic: 'fleet/v1/influx-site/IFX-ODD/birth', payload: JSON.stringify({ vendor: 'Acme\nCorp' }) },
      telemetry('influx-site', 'IFX-ODD', { ts: iso(Date.now() - 2 * HOUR), seq: 1, status: 'ready' }),
      // 1970: older than the raw retention policy, so InfluxDB refuses it; the journal keeps it.
      telemetry('influx-site', 'IFX-ODD', { ts: 0, seq: 2, status: 'ready' }),
      telemetry('influx-site', 'IFX-ODD', { ts: iso(Date.now() - HOUR), seq: 3, toner: {} }),
    ])
    await client.endAsync()
    await waitFor(
      async () => ((await health()).spool?.pending === 0 ? true : undefined),
      60_000,
      'the spool to drain',
    )
    const rows = await influx.query(`SELECT * FROM "reading" WHERE "device" = 'IFX-ODD'`)
    expect(rows.map((r) => [r.seq, r.vendor])).toEqual([
      [1, 'Acme Corp'],
      [3, 'Acme Corp'],
    ])
  })

  it('goes on taking readings while influxd is down, and writes every acknowledged one exactly once when it returns', async () => {
    const client = await connect(service.mqttUrl)
    const devices = 10
    const per = 60
    const stream = Array.from({ length: per }, (_, i) =>
      Array.from({ length: devices }, (_, d) => reading(d + 1, i)),
    ).flat()
    const third = stream.length / 3
    await publishAll(client, stream.slice(0, third))
    await influxd.kill()
    await publishAll(client, stream.slice(third, 2 * third))
    const down = await waitFor(
      async () => {
        const h = await health()
        return h.spool?.influx === 'down' && h.spool.pending > 0 ? h : undefined
      },
      60_000,
      'the spool to report InfluxDB down',
    )
    expect(down.status).toBe('ok')
    expect(service.logs.some((l) => l.msg === 'cannot write to InfluxDB; readings wait in the spool')).toBe(
      true,
    )
    await influxd.start()
    await publishAll(client, stream.slice(2 * third))
    // A gateway that sends some again changes nothing.
    await publishAll(client, stream.slice(0, devices * 5))
    await client.endAsync()
    await waitFor(
      async () => {
        const h = await health()
        return h.spool?.pending === 0 && h.spool.influx === 'up' ? true : undefined
      },
      60_000,
      'the spool to drain into influxd',
    )
    const counts = await influx.query(
      `SELECT count("seq") FROM "reading" WHERE "site" = 'influx-site' AND "device" != 'IFX-0' AND "device" != 'IFX-ODD' GROUP BY "device"`,
    )
    expect(counts).toHaveLength(devices)
    for (const c of counts) expect(c.count).toBe(per)
  })
})

describe.skipIf(!hasInfluxd)(`a full spool ${influxSkipReason}`, () => {
  it('stops acknowledging readings once the spool is full, answers 503 on /health, and takes them again once InfluxDB drains it', async () => {
    const data = tempDir()
    const influxd = await startInfluxd()
    const service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--store', 'influx', '--influx-url', `${influxd.url}/small`, '--spool-max', '20'],
    })
    try {
      await influxd.kill()
      const client = await connect(service.mqttUrl)
      client.on('error', () => {})
      const at = (i: number) =>
        telemetry('spool', 'SPOOL-1', { ts: iso(Date.now() - HOUR + i * 1000), seq: i, status: 'ready' })
      await publishAll(
        client,
        Array.from({ length: 20 }, (_, i) => at(i)),
      )
      // The 21st gets no PUBACK: the broker drops the connection, and the gateway keeps the reading.
      const refused = await Promise.race([
        client.publishAsync(at(20).topic, at(20).payload, { qos: 1 }).then(
          () => 'acknowledged',
          () => 'refused',
        ),
        new Promise((resolve) => client.once('close', () => resolve('refused'))),
      ])
      expect(refused).toBe('refused')
      client.end(true)
      const full = await getJson<{ status: string; problems: string[] }>(`${service.http}/health`)
      expect(full.status).toBe(503)
      expect(full.body.problems.join()).toMatch(/spool is full/)
      await influxd.start()
      await waitFor(
        async () => ((await getJson(`${service.http}/health`)).status === 200 ? true : undefined),
        60_000,
        'the spool to drain',
      )
      const again = await connect(service.mqttUrl)
      await publishAll(again, [at(20)])
      await again.endAsync()
      await waitFor(
        async () => {
          const rows = await new InfluxStore({ url: influxd.url, database: 'small' }).query(
            'SELECT count("seq") FROM "reading"',
          )
          return rows[0]?.count === 21 ? true : undefined
        },
        60_000,
        'all 21 readings in InfluxDB',
      )
    } finally {
      await kill9(service)
      await influxd.remove()
      data.remove()
    }
  })
})

describe.skipIf(!hasInfluxd)(`influxd killed in the middle of draining the spool ${influxSkipReason}`, () => {
  it('writes every acknowledged reading once when it is back, none lost and none twice', async () => {
    const data = tempDir()
    const influxd = await startInfluxd()
    const service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--store', 'influx', '--influx-url', `${influxd.url}/drain`],
    })
    const pending = async () =>
      (await getJson<Health>(`${service.http}/health`)).body.spool?.pending ?? Number.NaN
    try {
      await influxd.kill()
      // A spool of 24 of the forwarder's batches (5,000 readings each: a drain long enough to be
      // seen under way at a poll every 50 ms), gateways replaying their buffers in arrays of 1,000.
      const devices = 24
      const per = 5000
      const start = Date.now() - 60 * 24 * HOUR
      const messages = Array.from({ length: devices }, (_, d) =>
        Array.from({ length: per / 1000 }, (_, chunk) =>
          telemetry(
            'drain',
            `DRAIN-${d}`,
            Array.from({ length: 1000 }, (_, k) => {
              const i = chunk * 1000 + k
              return { ts: iso(start + i * 60_000), seq: i, counters: { total: i } }
            }),
          ),
        ),
      ).flat()
      const client = await connect(service.mqttUrl)
      await publishAll(client, messages)
      await client.endAsync()
      const total = devices * per
      await waitFor(async () => ((await pending()) === total ? true : undefined), 60_000, 'the whole spool')

      await influxd.start()
      // Killed once some of the spool is written and more of it waits.
      const atKill = await waitFor(
        async () => {
          const n = await pending()
          return n < total && n > 0 ? n : undefined
        },
        60_000,
        'the drain to be under way',
      )
      await influxd.kill()
      expect(atKill).toBeLessThan(total)
      expect(atKill).toBeGreaterThan(0)
      await waitFor(
        async () =>
          (await getJson<Health>(`${service.http}/health`)).body.spool?.influx === 'down' ? true : undefined,
        60_000,
        'the spool to say InfluxDB is down',
      )

      await influxd.start()
      await waitFor(async () => ((await pending()) === 0 ? true : undefined), 120_000, 'the spool to drain')
      const counts = await new InfluxStore({ url: influxd.url, database: 'drain' }).query(
        'SELECT count("seq") FROM "reading" GROUP BY "device"',
      )
      expect(counts.map((c) => c.count)).toEqual(Array(devices).fill(per))
      expect(service.logs.some((l) => l.msg === 'InfluxDB answers again; the spool is being written')).toBe(
        true,
      )
    } finally {
      await kill9(service)
      await influxd.remove()
      data.remove()
    }
  }, 240_000)
})
