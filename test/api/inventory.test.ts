/**
 * The inventory: sites with their fleet contact, devices with their label, office, contract and
 * vendor facts, managed through the API, kept in the data directory, and named on every action.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConfig } from '../../src/config/config.ts'
import { type Service, startService } from '../../src/main.ts'
import { ROOT, tempDir } from '../helpers/service-process.ts'

describe('the inventory', () => {
  const data = tempDir()
  let service: Service
  const config = () =>
    buildConfig({
      flags: { dataDir: data.path, rulesDir: join(ROOT, 'rules'), mqttPort: '0', wsPort: '0', httpPort: '0' },
    })

  beforeAll(async () => {
    service = await startService(config(), { log: pino({ level: 'silent' }) })
  })
  afterAll(async () => {
    await service?.stop()
    data.remove()
  })

  it('takes a site with its fleet contact, and answers it back', async () => {
    const put = await service.app.inject({
      method: 'PUT',
      url: '/sites/milano-hq',
      payload: {
        name: 'Milano HQ',
        customer: 'Rossi SpA',
        contact: 'm.rossi@example.com',
        stockMode: 'threshold',
      },
    })
    expect(put.statusCode).toBe(200)
    expect((await service.app.inject('/sites/milano-hq')).json()).toEqual({
      siteId: 'milano-hq',
      name: 'Milano HQ',
      customer: 'Rossi SpA',
      contact: 'm.rossi@example.com',
      stockMode: 'threshold',
    })
    expect((await service.app.inject('/sites')).json<{ items: unknown[] }>().items).toHaveLength(1)
  })

  it('refuses a site without a contact, or with a stock mode it does not know, naming the field', async () => {
    const noContact = await service.app.inject({ method: 'PUT', url: '/sites/x', payload: { name: 'X' } })
    expect(noContact.statusCode).toBe(400)
    expect(noContact.json().message).toMatch(/contact/)
    const badMode = await service.app.inject({
      method: 'PUT',
      url: '/sites/x',
      payload: { contact: 'a', stockMode: 'lots' },
    })
    expect(badMode.statusCode).toBe(400)
    expect(badMode.json().message).toMatch(/stockMode/)
    expect((await service.app.inject('/sites/x')).statusCode).toBe(404)
  })

  it('refuses a site whose calendar cannot be, naming the problem, and keeps the site as it was', async () => {
    const put = await service.app.inject({
      method: 'PUT',
      url: '/sites/milano-hq',
      payload: {
        contact: 'other@example.com',
        calendar: {
          zone: 'Europe/Rome',
          workingDays: [1, 2, 3, 4, 5],
          workingHours: { start: '17:00', end: '08:00' },
          holidays: [],
        },
      },
    })
    expect(put.statusCode).toBe(400)
    expect(put.json().message).toMatch(/calendar/)
    expect((await service.app.inject('/sites/milano-hq')).json().contact).toBe('m.rossi@example.com')
  })

  it('lists a device of the inventory before it is heard from, with its label, office and contract', async () => {
    const put = await service.app.inject({
      method: 'PUT',
      url: '/devices/SCM-004512',
      payload: {
        siteId: 'milano-hq',
        label: 'SCM-004512',
        location: 'Floor 2, accounting',
        contract: 'active',
        wasteBoxShipsWithToner: true,
      },
    })
    expect(put.statusCode).toBe(200)
    const device = (await service.app.inject('/devices/SCM-004512')).json()
    expect(device).toMatchObject({
      deviceId: 'SCM-004512',
      siteId: 'milano-hq',
      location: 'Floor 2, accounting',
      lastReadingAt: null,
    })
    expect(
      (await service.app.inject('/devices'))
        .json<{ items: { deviceId: string }[] }>()
        .items.map((d) => d.deviceId),
    ).toContain('SCM-004512')
  })

  it('names the addressee, the label and the office on the actions of the device', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${service.mqttPort}`, { reconnectPeriod: 0 })
    await client.publishAsync(
      'fleet/v1/milano-hq/SCM-004512/telemetry',
      JSON.stringify({ ts: Date.now() - 60_000, toner: { black: 15 } }),
      { qos: 1 },
    )
    await client.endAsync()
    await service.processor.idle()
    const [order] = (await service.app.inject('/actions?deviceId=SCM-004512')).json<{
      items: { details: unknown }[]
    }>().items
    expect(order?.details).toEqual({
      color: 'black',
      level: 15,
      addressee: 'm.rossi@example.com',
      label: 'SCM-004512',
      location: 'Floor 2, accounting',
      expectedDelivery: expect.any(String),
      delivery: { step: 'ordered', ordered: { at: expect.any(String) } },
    })
  })

  it('keeps the inventory in the data directory, across a restart', async () => {
    const file = JSON.parse(readFileSync(join(data.path, 'inventory.json'), 'utf8'))
    expect(file.sites.map((s: { siteId: string }) => s.siteId)).toEqual(['milano-hq'])
    await service.stop()
    service = await startService(config(), { log: pino({ level: 'silent' }) })
    expect((await service.app.inject('/sites/milano-hq')).json().contact).toBe('m.rossi@example.com')
  })

  it('refuses to start on a broken inventory file, naming the file and the place', async () => {
    await service.stop()
    writeFileSync(
      join(data.path, 'inventory.json'),
      JSON.stringify({ sites: [{ siteId: 'a' }], devices: [] }),
    )
    await expect(startService(config(), { log: pino({ level: 'silent' }) })).rejects.toThrow(
      /inventory\.json: at \/sites\/0/,
    )
    writeFileSync(join(data.path, 'inventory.json'), JSON.stringify({ sites: [], devices: [] }))
    service = await startService(config(), { log: pino({ level: 'silent' }) })
  })

  it('fills what a hand-written file leaves out with the defaults the API gives', async () => {
    await service.stop()
    writeFileSync(
      join(data.path, 'inventory.json'),
      JSON.stringify({
        sites: [{ siteId: 'roma', contact: 'it@example.it', calendar: { zone: 'Europe/Rome' } }],
        devices: [],
      }),
    )
    service = await startService(config(), { log: pino({ level: 'silent' }) })
    const viaFile = (await service.app.inject('/sites/roma')).json()
    const viaApi = await service.app.inject({
      method: 'PUT',
      url: '/sites/roma2',
      payload: { contact: 'it@example.it', calendar: { zone: 'Europe/Rome' } },
    })
    expect(viaApi.statusCode).toBe(200)
    expect(viaFile.calendar).toEqual(viaApi.json().calendar)
    expect(viaFile.calendar.workingDays).toEqual([1, 2, 3, 4, 5])
  })
})
