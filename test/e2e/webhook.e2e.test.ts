/**
 * --webhook-url: an ERP or ticketing system gets every action change, signed, from the real service.
 */
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, iso, publishAll, telemetry } from '../helpers/fleet.ts'
import { kill9, startServiceProcess, tempDir, waitFor } from '../helpers/service-process.ts'

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
