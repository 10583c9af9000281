/**
 * A start that fails stops again what it had started, and says why in the one line a port in use
 * gets (CONTRACT: "A port already in use … stops the start with one line that names it, and leaves
 * nothing behind"), the TLS listeners' ports too.
 */
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConfig } from '../../src/config/config.ts'
import { startService } from '../../src/main.ts'
import { makePki, type Pki, startWithAccounts } from '../helpers/access.ts'
import { freePort, ROOT, tempDir } from '../helpers/service-process.ts'

let pki: Pki
beforeAll(() => {
  pki = makePki()
})
afterAll(() => pki.remove())
const tlsFlags = () => ({ tlsCert: pki.serverCert, tlsKey: pki.serverKey, tlsCa: pki.ca })

describe('a start that fails after the store opened', () => {
  const data = tempDir()
  afterAll(() => data.remove())

  it('stops the half-started broker and the store, so the same port and data directory start again', async () => {
    // Two listeners given one port: each is free when the start checks it, and the second listen
    // fails after the store has opened the data directory and the broker has bound the first.
    const port = await freePort()
    const flags = { ...tlsFlags(), mqttPort: String(port), wssPort: '0' }
    await expect(
      startWithAccounts([], { dataDir: data.path, flags: { ...flags, mqttsPort: String(port) } }),
    ).rejects.toThrow(`port ${port} on 127.0.0.1 (--mqtts-port) is already in use`)
    // Before, the first start's store kept the directory's lock, and its broker the port.
    const again = await startWithAccounts([], { dataDir: data.path, flags: { ...flags, mqttsPort: '0' } })
    try {
      expect(again.service.mqttPort).toBe(port)
      expect(again.service.mqttsPort).toBeGreaterThan(0)
      expect((await again.service.app.inject({ url: '/health' })).statusCode).toBe(200)
    } finally {
      await again.service.stop()
    }
  })
})

describe('a TLS port already in use', () => {
  let busy: Server
  let port: number
  beforeAll(async () => {
    port = await freePort()
    busy = createServer()
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve))
  })

  it.each(['mqtts-port', 'wss-port'] as const)(
    'stops the start with one line naming the port and --%s, and creates no data directory',
    async (flag) => {
      const parent = tempDir()
      const dataDir = join(parent.path, 'data')
      try {
        const config = buildConfig({
          flags: {
            ...tlsFlags(),
            dataDir,
            init: 'true',
            rulesDir: join(ROOT, 'rules'),
            mqttPort: '0',
            wsPort: '0',
            httpPort: '0',
            mqttsPort: flag === 'mqtts-port' ? String(port) : '0',
            wssPort: flag === 'wss-port' ? String(port) : '0',
          },
        })
        await expect(startService(config, { log: pino({ level: 'silent' }) })).rejects.toMatchObject({
          code: 'PW_ERR_PORT_IN_USE',
          message: `port ${port} on 127.0.0.1 (--${flag}) is already in use: stop what listens there, or give another port (0 = any free port)`,
        })
        expect(existsSync(dataDir)).toBe(false)
      } finally {
        parent.remove()
      }
    },
  )
})
