/**
 * What a person at a terminal meets: one clear line for a port in use (and nothing left on disk),
 * --version and --help on every command, log lines for people on a terminal and JSON in a pipe,
 * HTTP requests logged at debug only.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConfig } from '../../src/config/config.ts'
import { startService } from '../../src/main.ts'
import { getJson, kill9, ROOT, startServiceProcess, tempDir, waitFor } from '../helpers/service-process.ts'

const run = promisify(execFile)
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
const tsx = (script: string, args: string[], cwd = ROOT) =>
  run(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], { cwd, timeout: 60_000 })

/** Runs a command to its end and gives its exit code and output, failing or not. */
function outcome(script: string, args: string[], cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // tsx by its path: the command runs in a folder of its own, where no node_modules is.
    const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
    const child = spawn(process.execPath, ['--import', loader, join(ROOT, script), ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('a port already in use', () => {
  let taken: Server
  let port: number
  const cwd = tempDir()
  beforeAll(async () => {
    taken = createServer()
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r))
    port = (taken.address() as import('node:net').AddressInfo).port
  })
  afterAll(async () => {
    await new Promise((r) => taken.close(r))
    cwd.remove()
  })

  it.each([
    ['http-port', ['--mqtt-port', '0', '--ws-port', '0']],
    ['mqtt-port', ['--http-port', '0', '--ws-port', '0']],
    ['ws-port', ['--http-port', '0', '--mqtt-port', '0']],
  ])(
    'stops the start with one line naming the port and --%s, and creates no ./data',
    async (flag, others) => {
      const result = await outcome(
        'src/cli.ts',
        [`--${flag}`, String(port), ...others, '--rules-dir', join(ROOT, 'rules')],
        cwd.path,
      )
      expect(result.code).toBe(1)
      const lines = result.stderr.trim().split('\n')
      expect(lines).toEqual([
        `printwarden: PW_ERR_PORT_IN_USE: port ${port} on 127.0.0.1 (--${flag}) is already in use: stop what listens there, or give another port (0 = any free port)`,
      ])
      expect(existsSync(join(cwd.path, 'data'))).toBe(false)
    },
  )
})

describe('a listener set to off', () => {
  it('starts without it and answers on the others (the port check passes over it)', async () => {
    const data = tempDir()
    const service = await startServiceProcess({
      dataDir: data.path,
      portsFromEnv: true,
      extra: ['--mqtt-port', '0', '--ws-port', 'off', '--http-port', '0'],
    })
    try {
      const running = await waitFor(() => service.logs.find((l) => l.msg === 'printwarden is running'))
      expect(running.wsPort).toBe(0)
      expect((await getJson(`${service.http}/health`)).status).toBe(200)
    } finally {
      await kill9(service)
      data.remove()
    }
  })
})

describe('--version and --help', () => {
  it.each([
    ['the service', 'src/cli.ts'],
    ['rules', 'src/rules/cli.ts'],
    ['simulate', 'simulator/cli.ts'],
    ['the ingest bench', 'bench/ingest.ts'],
    ['the load bench', 'bench/load.ts'],
    ['the soak bench', 'bench/soak.ts'],
  ])('%s prints the package version with --version', async (_name, script) => {
    const { stdout } = await tsx(script, ['--version'])
    expect(stdout.trim()).toBe(VERSION)
  })

  it.each([
    ['the ingest bench', 'bench/ingest.ts', '--readings N'],
    ['the load bench', 'bench/load.ts', '--lockstep'],
    ['the soak bench', 'bench/soak.ts', '--kills K'],
    ['the event-time sweeps bench', 'bench/event-sweeps.ts', '--intervals LIST'],
    ['the gateway bench', 'bench/gateway.ts', '--printers N'],
    ['the access bench', 'bench/access.ts', '--attempts N'],
    ["the access bench's attackers", 'bench/storm.ts', 'flood HOST PORT N'],
    ["the ingest bench's bare broker", 'bench/bare-broker.ts', 'SIGTERM'],
  ])('%s explains its flags with --help, and starts nothing', async (_name, script, flag) => {
    const { stdout } = await tsx(script, ['--help'])
    expect(stdout).toContain(flag)
    expect(stdout).toContain('--help')
  })
})

describe('logs', () => {
  it('are JSON lines when stdout is a pipe', async () => {
    const data = tempDir()
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli.ts'),
        '--data-dir',
        data.path,
        '--mqtt-port',
        '0',
        '--ws-port',
        '0',
        '--http-port',
        '0',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const first = await new Promise<string>((resolve) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('printwarden is running')) resolve(out)
      })
    })
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
    data.remove()
    const running = first.split('\n').find((l) => l.includes('printwarden is running')) ?? ''
    expect(JSON.parse(running)).toEqual(expect.objectContaining({ msg: 'printwarden is running', level: 30 }))
  })

  it('are lines for people when stdout is a terminal', async () => {
    const data = tempDir()
    // script(1) gives the service a real pseudo-terminal; it exits once the service is stopped.
    const command = [
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'src/cli.ts'),
      '--data-dir',
      data.path,
      '--mqtt-port',
      '0',
      '--ws-port',
      '0',
      '--http-port',
      '0',
    ].join(' ')
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out = await new Promise<string>((resolve) => {
      let text = ''
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString()
        if (text.includes('printwarden is running')) resolve(text)
      })
    })
    const exited = new Promise((r) => child.once('exit', r))
    // Ctrl-C on the terminal: the service stops as on SIGINT.
    child.stdin.write('\x03')
    await exited
    data.remove()
    const line = out.split('\n').find((l) => l.includes('printwarden is running')) ?? ''
    expect(line).toMatch(/\d{2}:\d{2}:\d{2}\.\d{3}/)
    expect(line).toContain('INFO')
    expect(line.trimStart().startsWith('{')).toBe(false)
  })

  it('give HTTP requests at debug, and not at info', async () => {
    const logged = async (level: 'info' | 'debug') => {
      const data = tempDir()
      const lines: Record<string, unknown>[] = []
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l))
          done()
        },
      })
      const config = buildConfig({
        flags: {
          dataDir: data.path,
          rulesDir: join(ROOT, 'rules'),
          mqttPort: '0',
          wsPort: '0',
          httpPort: '0',
        },
      })
      const service = await startService(config, { log: pino({ level }, sink) })
      await service.app.inject('/health')
      await service.stop()
      data.remove()
      return lines.filter((l) => l.msg === 'request' || l.msg === 'incoming request')
    }
    expect(await logged('info')).toEqual([])
    expect(await logged('debug')).toEqual([
      expect.objectContaining({ level: 20, method: 'GET', url: '/health', status: 200 }),
    ])
  })
})
