import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type AsyncAPIDocumentInterface, type Diagnostic, Parser } from '@asyncapi/parser'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildAsyncApi } from '../../src/contract/asyncapi.ts'
import { ROOT } from '../helpers/service-process.ts'

const committed = readFileSync(join(ROOT, 'docs/asyncapi.json'), 'utf8')

describe('the AsyncAPI document of the MQTT contract', () => {
  let document: AsyncAPIDocumentInterface | undefined
  let diagnostics: Diagnostic[] = []
  beforeAll(async () => {
    ;({ document, diagnostics } = await new Parser().parse(committed))
  })

  it('is what the contract schemas build today (npm run docs:asyncapi writes it)', () => {
    expect(JSON.parse(committed)).toEqual(buildAsyncApi())
  })

  it('validates as AsyncAPI 3 with no error or warning', () => {
    // Severity 0 is an error, 1 a warning.
    expect(
      diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.path.join('.')}: ${d.message}`),
    ).toEqual([])
    expect(document?.version()).toBe('3.0.0')
  })

  it('names every topic of the contract with its QoS and retain flag', () => {
    const topics = Object.fromEntries(
      (document?.operations().all() ?? []).map((op) => {
        const mqtt = op.bindings().get('mqtt')?.value() as { qos: number; retain: boolean }
        return [
          op.channels().all()[0]?.address(),
          { action: op.action(), qos: mqtt.qos, retain: mqtt.retain },
        ]
      }),
    )
    expect(topics).toEqual({
      'fleet/v1/{siteId}/{deviceId}/telemetry': { action: 'receive', qos: 1, retain: false },
      'fleet/v1/{siteId}/{deviceId}/birth': { action: 'receive', qos: 1, retain: true },
      'fleet/v1/{siteId}/gateways/{gatewayId}/status': { action: 'receive', qos: 1, retain: true },
      'fleet/v1/{siteId}/{deviceId}/actions': { action: 'send', qos: 1, retain: false },
      'fleet/v1/{siteId}/actions': { action: 'send', qos: 1, retain: false },
    })
  })

  it("declares a gateway's last will: offline, retained, on its status topic", () => {
    const binding = document?.servers().get('embedded')?.bindings().get('mqtt')?.value() as {
      lastWill: { topic: string; retain: boolean; message: string }
    }
    expect(binding.lastWill).toEqual(
      expect.objectContaining({ topic: 'fleet/v1/{siteId}/gateways/{gatewayId}/status', retain: true }),
    )
    expect(JSON.parse(binding.lastWill.message)).toEqual({ state: 'offline' })
  })

  it('carries the reading schema ingest validates with, toner levels capped at 100 included', () => {
    const payload = document?.components().messages().get('telemetry')?.payload()?.json() as {
      anyOf: {
        properties: {
          toner: { additionalProperties: unknown; patternProperties: Record<string, { maximum: number }> }
        }
      }[]
    }
    const toner = payload.anyOf[0]?.properties.toner
    expect(Object.values(toner?.patternProperties ?? {})[0]?.maximum).toBe(100)
  })
})
