/**
 * The service's one lifecycle: components start in order and stop in reverse; a start that fails
 * stops again what had started, and a stop that fails does not keep the others running.
 */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { type Component, Components } from '../src/lifecycle.ts'

const log = pino({ level: 'silent' })

function recorder(calls: string[], name: string, fail?: 'start' | 'stop'): Component {
  return {
    async start() {
      calls.push(`start ${name}`)
      if (fail === 'start') throw new Error(`${name} cannot start`)
    },
    stop() {
      calls.push(`stop ${name}`)
      if (fail === 'stop') throw new Error(`${name} cannot stop`)
    },
  }
}

describe('Components', () => {
  it('starts in the order added and stops in reverse', async () => {
    const calls: string[] = []
    const c = new Components(log)
      .add('store', recorder(calls, 'store'))
      .add('broker', recorder(calls, 'broker'))
    await c.start()
    await c.stop()
    expect(calls).toEqual(['start store', 'start broker', 'stop broker', 'stop store'])
  })

  it('stops the one whose start failed (it may be half started) and those before it, and throws that start’s error', async () => {
    const calls: string[] = []
    const c = new Components(log)
      .add('store', recorder(calls, 'store'))
      .add('broker', recorder(calls, 'broker', 'start'))
      .add('api', recorder(calls, 'api'))
    await expect(c.start()).rejects.toThrow('broker cannot start')
    expect(calls).toEqual(['start store', 'start broker', 'stop broker', 'stop store'])
  })

  it('throws the start’s error when a stop on the way back fails too', async () => {
    const calls: string[] = []
    const c = new Components(log)
      .add('store', recorder(calls, 'store', 'stop'))
      .add('broker', recorder(calls, 'broker', 'start'))
    await expect(c.start()).rejects.toThrow('broker cannot start')
    expect(calls).toEqual(['start store', 'start broker', 'stop broker', 'stop store'])
  })

  it('stops the others when one stop fails, and throws the first failure at the end', async () => {
    const calls: string[] = []
    const c = new Components(log)
      .add('store', recorder(calls, 'store'))
      .add('relay', recorder(calls, 'relay', 'stop'))
      .add('api', recorder(calls, 'api'))
    await c.start()
    await expect(c.stop()).rejects.toThrow('relay cannot stop')
    expect(calls.slice(3)).toEqual(['stop api', 'stop relay', 'stop store'])
    // Stopped is stopped: a second stop has nothing left to do.
    await c.stop()
    expect(calls).toHaveLength(6)
  })
})
