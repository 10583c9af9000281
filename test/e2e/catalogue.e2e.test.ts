/**
 * Printer models as data: a device known only from its birth message gets its vendor's and model's
 * waste-box facts from the catalogue, and the inventory still overrides them. Through MQTT and the
 * API of the real service, in event time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action, DeviceView } from '../../src/contract/schemas.ts'
import { actions, connect, HOUR, iso, publishAll, settled, telemetry } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
} from '../helpers/service-process.ts'

const T0 = Date.UTC(2026, 2, 10, 9)
const birth = (site: string, device: string, b: object) => ({
  topic: `fleet/v1/${site}/${device}/birth`,
  payload: JSON.stringify(b),
})

describe('vendor and model profiles from the catalogue', () => {
  const data = tempDir()
  let service: ServiceProcess
  const byDevice = new Map<string, Action[]>()

  beforeAll(async () => {
    service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--clock', 'event', '--sweep-interval', '1h'],
    })
    // The inventory says the Konica ECO-OVERRIDE's box ships with its toner, against the catalogue.
    const put = await fetch(`${service.http}/devices/KM-OVERRIDE`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ siteId: 'hq', wasteBoxShipsWithToner: true }),
    })
    expect(put.status).toBe(200)
    const client = await connect(service.mqttUrl)
    await publishAll(
      client,
      [
        birth('hq', 'KY-ECOSYS', { vendor: 'Kyocera', model: 'ECOSYS M3145dn' }),
        // A Kyocera model the catalogue does not list: the vendor's way holds.
        birth('hq', 'KY-OTHER', { vendor: 'KYOCERA Document Solutions Inc.', model: 'ECOSYS P9999x' }),
        birth('hq', 'KM-C300I', { vendor: 'Konica Minolta', model: 'bizhub C300i' }),
        birth('hq', 'KM-OVERRIDE', { vendor: 'Konica Minolta', model: 'bizhub C300i' }),
      ],
      true,
    )
    const devices = ['KY-ECOSYS', 'KY-OTHER', 'KM-C300I', 'KM-OVERRIDE']
    await publishAll(client, [
      ...devices.map((d) => telemetry('hq', d, { ts: iso(T0), wasteBox: 'ok' })),
      ...devices.map((d) => telemetry('hq', d, { ts: iso(T0 + HOUR), wasteBox: 'nearFull' })),
    ])
    await client.endAsync()
    await settled(service.http)
    for (const d of devices) byDevice.set(d, await actions(service.http, `?deviceId=${d}`))
  })

  afterAll(async () => {
    await kill9(service)
    data.remove()
  })

  it('tells the site of a Kyocera known only from its birth to fit the box that came with the toner', () => {
    expect(byDevice.get('KY-ECOSYS')?.map((a) => a.type)).toEqual(['waste-box-advisory'])
    expect(byDevice.get('KY-OTHER')?.map((a) => a.type)).toEqual(['waste-box-advisory'])
  })

  it('orders a waste box for a Konica Minolta known only from its birth', () => {
    expect(byDevice.get('KM-C300I')?.map((a) => a.type)).toEqual(['waste-box'])
    expect(byDevice.get('KM-C300I')?.[0]?.createdAt).toBe(iso(T0 + HOUR))
  })

  it('lets the inventory override what the catalogue says of the model', () => {
    expect(byDevice.get('KM-OVERRIDE')?.map((a) => a.type)).toEqual(['waste-box-advisory'])
  })

  it("shows a device's vendor facts in the API as the rules see them", async () => {
    const { body } = await getJson<DeviceView>(`${service.http}/devices/KY-ECOSYS`)
    expect(body).toMatchObject({ vendor: 'Kyocera', model: 'ECOSYS M3145dn', wasteBoxShipsWithToner: true })
    const konica = await getJson<DeviceView>(`${service.http}/devices/KM-C300I`)
    expect(konica.body.wasteBoxShipsWithToner).toBe(false)
  })
})
