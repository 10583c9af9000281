/**
 * --webhook-url: an ERP or ticketing system gets every action change, signed, from the real service.
 */
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, iso, publishAll, telemetry } from '../helpers/fleet.ts'
import { getJson, kill9, startServiceProcess, tempDir, waitFor } from '../helpers/service-process.ts'

describe('the webhook sink of the running service', () => {
  const data = tempDir()
  const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c.toString()
    })
    req.on('end', () => {
      received.push({ body, headers: req.headers })
      res.writeHead(204).end()
    })
  })
  afterAll(() => {
    server.close()
    data.remove()
  })

  it('POSTs each action change to the webhook, signed with the secret', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`
    const service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--webhook-url', url, '--webhook-secret', 'erp-secret'],
    })
    try {
      const client = await connect(service.mqttUrl)
      await publishAll(client, [
        telemetry('wh', 'WH-1', { ts: iso(Date.now() - 60_000), toner: { yellow: 8 } }),
      ])
      await client.endAsync()
      const got = await waitFor(() => received[0], 10_000, 'the webhook call')
      const action = JSON.parse(got.body)
      expect(action).toMatchObject({
        type: 'reorder',
        deviceId: 'WH-1',
        status: 'open',
        details: { color: 'yellow', level: 8 },
      })
      expect(got.headers['idempotency-key']).toBe(`${action.id}:open:${action.updatedAt}`)
      const signature = `sha256=${createHmac('sha256', 'erp-secret').update(got.body).digest('hex')}`
      expect(got.headers['x-printwarden-signature']).toBe(signature)
    } finally {
      await kill9(service)
    }
  })
})

describe('a webhook that answers 500 for a while, on the running service', () => {
  const data = tempDir()
  let down = true
  const accepted: string[] = []
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (down) return void res.writeHead(500).end('maintenance')
      accepted.push(String(req.headers['idempotency-key']))
      res.writeHead(204).end()
    })
  })
  afterAll(() => {
    server.close()
    data.remove()
  })

  it('says so on /health, /metrics and in the log, retries with backoff, and sends each change once when it recovers', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`
    // The retry schedule scaled down (1 s to 30 s by default), so that a dozen failures take a second.
    const service = await startServiceProcess({
      dataDir: data.path,
      extra: ['--webhook-url', url, '--webhook-retry', '10ms', '--webhook-retry-max', '100ms'],
    })
    type Health = {
      status: string
      failingSinks?: {
        name: string
        pending: number
        failures: number
        failingSince: string
        lastError: string
      }[]
    }
    const sinkLine = (metrics: string, name: string, sink: string) =>
      Number(new RegExp(`^${name}\\{sink="${sink}"\\} (\\d+)$`, 'm').exec(metrics)?.[1])
    try {
      const client = await connect(service.mqttUrl)
      await publishAll(client, [
        telemetry('wh-down', 'WHD-1', { ts: iso(Date.now() - 60_000), toner: { cyan: 7, magenta: 9 } }),
      ])
      await client.endAsync()

      const failing = await waitFor(
        async () => {
          const { body } = await getJson<Health>(`${service.http}/health`)
          const hook = body.failingSinks?.find((s) => s.name === 'webhook')
          return hook && hook.failures >= 10 ? { status: body.status, hook } : undefined
        },
        20_000,
        'the webhook failing ten times in a row',
      )
      expect(failing.status).toBe('ok')
      expect(failing.hook).toMatchObject({
        pending: 2,
        lastError: expect.stringMatching(/500 for .*maintenance/),
      })
      const metrics = await (await fetch(`${service.http}/metrics`)).text()
      expect(sinkLine(metrics, 'printwarden_sink_pending_messages', 'webhook')).toBe(2)
      expect(sinkLine(metrics, 'printwarden_sink_pending_messages', 'mqtt')).toBe(0)
      expect(sinkLine(metrics, 'printwarden_sink_failing', 'webhook')).toBeGreaterThanOrEqual(10)
      expect(sinkLine(metrics, 'printwarden_sink_failures_total', 'webhook')).toBeGreaterThanOrEqual(10)
      const warnings = service.logs.filter((l) => l.msg === 'an action sink failed; it will be retried')
      expect(warnings.length).toBeGreaterThanOrEqual(10)
      expect(warnings.every((l) => l.sink === 'webhook')).toBe(true)
      expect(warnings.slice(0, 5).map((l) => l.retryInMs)).toEqual([10, 20, 40, 80, 100])
      expect(accepted).toEqual([])

      down = false
      await waitFor(() => (accepted.length === 2 ? true : undefined), 20_000, 'both changes accepted')
      const healthy = await waitFor(
        async () => {
          const { body } = await getJson<Health>(`${service.http}/health`)
          return body.failingSinks === undefined ? body : undefined
        },
        10_000,
        'the webhook to leave /health',
      )
      expect(healthy).toEqual({ status: 'ok' })
      expect(new Set(accepted).size).toBe(2)
      const after = await (await fetch(`${service.http}/metrics`)).text()
      expect(sinkLine(after, 'printwarden_sink_pending_messages', 'webhook')).toBe(0)
      expect(sinkLine(after, 'printwarden_sink_failing', 'webhook')).toBe(0)
      await waitFor(
        () =>
          service.logs.find(
            (l) => l.msg === 'an action sink works again; the changes it missed follow in order',
          ),
        10_000,
        'the log line saying the webhook works again',
      )
    } finally {
      await kill9(service)
    }
  })
})
