/**
 * A start that fails half way stops again what it had started: here the MQTT-over-TLS port is
 * taken, so the broker cannot listen after the store has opened the data directory. The same data
 * directory then starts in the same process, which it could not while the first store held its lock.
 */
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makePki, type Pki, startWithAccounts } from '../helpers/access.ts'
import { freePort, tempDir } from '../helpers/service-process.ts'

describe('a start that fails after the store opened', () => {
  let pki: Pki
  let busy: Server
  let port: number
  const data = tempDir()

  beforeAll(async () => {
    pki = makePki()
    port = await freePort()
    busy = createServer()
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve))
    pki.remove()
    data.remove()
  })

  it('says why, and leaves the data directory free for the next start', async () => {
    const tls = { tlsCert: pki.serverCert, tlsKey: pki.serverKey, tlsCa: pki.ca, wssPort: '0' }
    await expect(
      startWithAccounts([], { dataDir: data.path, flags: { ...tls, mqttsPort: String(port) } }),
    ).rejects.toThrow(/EADDRINUSE|in use/)
    const again = await startWithAccounts([], { dataDir: data.path, flags: { ...tls, mqttsPort: '0' } })
    try {
      expect(again.service.mqttsPort).toBeGreaterThan(0)
      const health = await again.service.app.inject({ url: '/health' })
      expect(health.statusCode).toBe(200)
    } finally {
      await again.service.stop()
    }
  })
})
