/**
 * A connection to InfluxDB that drops once the response has begun (influxd killed mid-answer) must
 * fail the request, not leave it waiting forever: the forwarder would never retry, and a full spool
 * would never drain. The server here is a plain HTTP server that does just that.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InfluxStore } from '../../src/store/influx/influx-store.ts'

let server: Server
let url: string

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
    res.write('{"results":[')
    // The body promised 1000 bytes; the server goes away after 13.
    setTimeout(() => req.socket.destroy(), 50)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('an InfluxDB request whose connection drops mid-answer', () => {
  it.each([
    ['a query', (s: InfluxStore) => s.query('SELECT * FROM "reading"')],
    ['preparing the database', (s: InfluxStore) => s.prepare()],
    ['a write', (s: InfluxStore) => s.write([{ measurement: 'reading', fields: { seq: 1 } }])],
  ])('fails %s within its deadline', async (_what, call) => {
    const store = new InfluxStore({ url, database: 'db', requestTimeout: 300 })
    const started = Date.now()
    await expect(call(store)).rejects.toThrow('InfluxDB did not finish answering within 0.45 s')
    expect(Date.now() - started).toBeLessThan(3000)
  })
})
