/**
 * `npm start` as a user runs it in production: the compiled build, rebuilt first when a source is
 * newer, and stopped cleanly by a signal sent to the npm process itself (a service manager or a
 * terminal's Ctrl-C signals npm, not the node process behind it).
 */
import { afterAll, describe, expect, it } from 'vitest'
import {
  getJson,
  kill9,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
} from '../helpers/service-process.ts'

describe('npm start', () => {
  const data = tempDir()
  const started: ServiceProcess[] = []
  afterAll(async () => {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) await kill9(s)
    data.remove()
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`runs the compiled service, and a ${signal} to npm stops it cleanly`, async () => {
      const service = await startServiceProcess({ dataDir: data.path, npmStart: true })
      started.push(service)
      expect((await getJson(`${service.http}/health`)).status).toBe(200)
      expect(service.logs.some((l) => l.msg === 'printwarden is running')).toBe(true)
      service.child.kill(signal)
      expect(await service.exited).toBe(0)
      expect(service.logs.at(-1)?.msg).toBe('printwarden stopped')
      // Nothing is left answering behind npm.
      await expect(fetch(`${service.http}/health`)).rejects.toThrow()
    })
  }
})
