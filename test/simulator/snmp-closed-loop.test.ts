/**
 * The closed loop through SNMP, in event time: 50 simulated printers of one site answer SNMP on
 * their own loopback addresses, a real gateway polls them and publishes to the real service, and
 * the simulator delivers what the service orders and repairs what it tickets.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { configFromFlags } from '../../simulator/options.ts'
import { runSnmp } from '../../simulator/snmp-runner.ts'
import { actions } from '../helpers/fleet.ts'
import { kill9, startServiceProcess, tempDir } from '../helpers/service-process.ts'

const SCENARIO = join(import.meta.dirname, 'scenarios/snmp-closed-loop.json')

describe('the closed loop through SNMP', () => {
  it('tickets every critical fault of 50 printers over 30 days and never orders a cartridge twice', async () => {
    const data = tempDir('printwarden-snmp-loop-')
    const buffers = tempDir('printwarden-snmp-loop-gw-')
    const service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--clock', 'event', '--sweep-interval', '1h'],
    })
    try {
      const cfg = configFromFlags({
        broker: service.mqttUrl,
        api: service.http,
        actions: true,
        lockstep: true,
        scenario: SCENARIO,
        speed: 'max',
        topicRoot: 'fleet/v1',
        window: '32',
        maxPayload: '250000',
        clientPrefix: 'snmp-loop',
        progress: 'none',
        linger: '1s',
      })
      const report = await runSnmp(cfg, { port: 16_161, bufferDir: buffers.path })
      const k = report.kpis
      // Every poll was answered: 50 printers, 3 polls a day, 30 days.
      expect(report.gateways[0]?.polls).toBe(50 * 3 * 30)
      expect(report.gateways[0]?.silent).toBe(0)
      expect(report.gateways[0]?.pending).toBe(0)
      // Every critical fault a printer reported over SNMP got a ticket.
      expect(k.faults.injected).toBeGreaterThanOrEqual(3)
      expect(k.faults.reported).toBe(k.faults.injected)
      expect(k.faults.ticketed).toBe(k.faults.injected)
      expect(k.faults.repaired).toBeGreaterThan(0)
      // No cartridge or waste box ordered twice, and the orders arrived and were fitted.
      expect(k.orders.duplicates).toBe(0)
      expect(k.orders.lateEffects).toBe(0)
      expect(k.supplies.cartridgesFitted).toBeGreaterThan(10)
      const reorders = await actions(service.http, '?type=reorder')
      expect(reorders.length).toBeGreaterThan(20)
      const faults = await actions(service.http, '?type=fault')
      expect(new Set(faults.map((f) => f.deviceId)).size).toBeGreaterThanOrEqual(3)
    } finally {
      await kill9(service)
      data.remove()
      buffers.remove()
    }
  }, 900_000)
})
