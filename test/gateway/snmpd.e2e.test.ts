/**
 * The gateway against Debian's real snmpd serving a colour MFP's Printer MIB, publishing to the
 * real service: the readings and the actions they cause appear through the API.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Printer } from '../../gateway/printers.ts'
import type { DeviceView } from '../../src/contract/schemas.ts'
import { actions, settled } from '../helpers/fleet.ts'
import { startGateway } from '../helpers/gateway.ts'
import {
  getJson,
  kill9,
  ROOT,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'
import { type Snmpd, startSnmpd } from '../helpers/snmpd.ts'
import { colourMfp, healthyMfp, SYSTEM } from './faces.ts'

const SITE = 'milano-hq'
const DEVICE = 'SCM-004512'
const START = Date.parse('2026-01-05T08:00:00Z')

type StoredReading = {
  ts: string
  seq?: number
  toner?: Record<string, number>
  wasteBox?: unknown
  errors?: { code: string; severity: string; text?: string }[]
  counters?: unknown
  status?: string
}

async function readings(http: string, device = DEVICE): Promise<StoredReading[]> {
  const { body } = await getJson<{ items: StoredReading[] } | StoredReading[]>(
    `${http}/devices/${device}/readings?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`,
  )
  return Array.isArray(body) ? body : body.items
}

describe('the gateway with the npm run gateway command, over SNMP v2c', () => {
  const data = tempDir('printwarden-gw-svc-')
  const buffer = tempDir('printwarden-gw-buf-')
  let service: ServiceProcess
  let snmpd: Snmpd
  let gateway: ChildProcess
  const gatewayLogs: Record<string, unknown>[] = []

  beforeAll(async () => {
    service = await startServiceProcess({ dataDir: data.path })
    snmpd = await startSnmpd(colourMfp(), { system: SYSTEM })
    const printers = join(buffer.path, 'printers.json')
    writeFileSync(printers, JSON.stringify([{ deviceId: DEVICE, host: '127.0.0.1', port: snmpd.port }]))
    gateway = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'gateway/cli.ts'),
        '--broker',
        service.mqttUrl,
        '--site',
        SITE,
        '--id',
        'gw-milano',
        '--printers',
        printers,
        '--interval',
        '2s',
        '--buffer-dir',
        join(buffer.path, 'data'),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    createInterface({ input: gateway.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        gatewayLogs.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        // not a log line
      }
    })
  }, 60_000)

  afterAll(async () => {
    gateway.kill('SIGKILL')
    await snmpd?.stop()
    if (service) await kill9(service)
    data.remove()
    buffer.remove()
  })

  it('publishes the MFP birth and readings, and the service orders cyan toner, a waste box and a repair', async () => {
    const device = await waitFor(
      async () => {
        const { status, body } = await getJson<DeviceView>(`${service.http}/devices/${DEVICE}`)
        return status === 200 && body.counters !== null && body.model ? body : undefined
      },
      90_000,
      'the device through the API',
    )
    expect(device).toMatchObject({
      siteId: SITE,
      vendor: 'Kyocera',
      model: 'TASKalfa 2554ci',
      serial: 'W2K1234567',
      location: 'Floor 2, accounting office',
      toner: { black: 64, cyan: 15, magenta: 38, yellow: 55 },
      wasteBox: 95,
      counters: { total: 182340 },
      status: 'error',
    })
    expect(device.errors.map((e) => [e.code, e.severity])).toEqual([['C6000', 'critical']])
    const found = await waitFor(
      async () => {
        const all = await actions(service.http, `?deviceId=${DEVICE}`)
        const types = new Set(all.map((a) => a.type))
        return types.has('reorder') && types.has('waste-box') && types.has('fault') ? all : undefined
      },
      20_000,
      'the reorder, waste-box and fault actions',
    )
    expect(found.filter((a) => a.type === 'reorder').map((a) => a.details.color)).toEqual(['cyan'])
    expect(found.find((a) => a.type === 'fault')?.details.code).toBe('C6000')
    expect(found.filter((a) => a.type === 'waste-box')).toHaveLength(1)
  }, 150_000)

  it('sends readings with a seq that grows by one', async () => {
    const stored = await waitFor(
      async () => {
        const list = await readings(service.http)
        return list.length >= 3 ? list : undefined
      },
      20_000,
      'three readings',
    )
    const seqs = stored.map((r) => r.seq as number).sort((a, b) => a - b)
    expect(seqs.slice(0, 3)).toEqual([1, 2, 3])
  }, 40_000)

  it('resolves the fault once the printer no longer lists the alert', async () => {
    snmpd.set(healthyMfp())
    const fault = await waitFor(
      async () => {
        const [a] = await actions(service.http, `?deviceId=${DEVICE}&type=fault`)
        return a?.status === 'resolved' ? a : undefined
      },
      20_000,
      'the fault resolved',
    )
    expect(fault.details.code).toBe('C6000')
  }, 40_000)
})

describe('the gateway over SNMP v3 (authPriv)', () => {
  const data = tempDir('printwarden-gw-v3-')
  let service: ServiceProcess
  let snmpd: Snmpd

  beforeAll(async () => {
    service = await startServiceProcess({ dataDir: data.path, extra: ['--clock', 'event'] })
    snmpd = await startSnmpd(colourMfp(), {
      system: SYSTEM,
      community: 'not-this-one',
      v3: { user: 'pwgateway', auth: 'SHA', authKey: 'auth-secret-1', priv: 'AES', privKey: 'priv-secret-1' },
    })
  }, 60_000)
  afterAll(async () => {
    await snmpd?.stop()
    if (service) await kill9(service)
    data.remove()
  })

  it('reads the MFP with an authenticated and encrypted user and its readings reach the service', async () => {
    const buffer = tempDir('printwarden-gw-v3buf-')
    const printer: Printer = {
      deviceId: 'SCM-V3',
      host: '127.0.0.1',
      port: snmpd.port,
      snmp: 'v3',
      v3: {
        user: 'pwgateway',
        level: 'authPriv',
        authProtocol: 'sha',
        authKey: 'auth-secret-1',
        privProtocol: 'aes',
        privKey: 'priv-secret-1',
      },
    }
    const g = startGateway({
      broker: service.mqttUrl,
      site: SITE,
      printers: [printer],
      bufferDir: buffer.path,
      start: START,
    })
    try {
      await g.gateway.pollAll()
      await g.gateway.flush()
      await settled(service.http)
      const [r] = await readings(service.http, 'SCM-V3')
      expect(r).toMatchObject({
        seq: 1,
        toner: { black: 64, cyan: 15, magenta: 38, yellow: 55 },
        wasteBox: 95,
        status: 'error',
      })
    } finally {
      await g.gateway.stop()
      buffer.remove()
    }
  }, 40_000)
})
