/**
 * Starts the real service as a child process (`node --import tsx src/cli.ts`), the way a user does,
 * and reads the ports it took from its log.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

export const ROOT = resolve(import.meta.dirname, '../..')
/** tsx by its path, so that a service started in another working directory finds it. */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href

export interface ServiceProcess {
  child: ChildProcess
  mqttUrl: string
  http: string
  logs: Record<string, unknown>[]
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>
}

export function tempDir(prefix = 'printwarden-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export async function startServiceProcess(args: {
  dataDir: string
  rulesDir?: string
  extra?: string[]
  env?: Record<string, string>
  /** Leave the port flags out, for a test that sets them through the environment. */
  portsFromEnv?: boolean
  /** Start it as a user does in production, `npm start` (the compiled build), not from the sources. */
  npmStart?: boolean
  /** Options for node itself (`--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[]
  /** The working directory (the repository by default), against which a relative --data-dir is read. */
  cwd?: string
}): Promise<ServiceProcess> {
  const [command, ...launcher] = args.npmStart
    ? ['npm', 'start', '--silent', '--']
    : [process.execPath, ...(args.nodeArgs ?? []), '--import', TSX, join(ROOT, 'src/cli.ts')]
  const child = spawn(
    command as string,
    [
      ...launcher,
      '--data-dir',
      args.dataDir,
      '--rules-dir',
      args.rulesDir ?? join(ROOT, 'rules'),
      ...(args.portsFromEnv ? [] : ['--mqtt-port', '0', '--ws-port', '0', '--http-port', '0']),
      ...(args.extra ?? []),
    ],
    { cwd: args.cwd ?? ROOT, env: { ...process.env, ...args.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const logs: Record<string, unknown>[] = []
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  // 'close', not 'exit': the log lines still in the pipe are read by then.
  const exited = new Promise<number | null>((resolveExit) => child.once('close', (code) => resolveExit(code)))
  let isReady = false
  // `npm start` may compile first.
  const readyMs = args.npmStart ? 90_000 : 30_000
  const ready = new Promise<Record<string, unknown>>((resolveReady, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>
        logs.push(entry)
        if (entry.msg === 'printwarden is running') {
          isReady = true
          resolveReady(entry)
        }
      } catch {
        // not a log line
      }
    })
    void exited.then((code) =>
      reject(new Error(`the service exited (${code}) before it was ready: ${stderr}`)),
    )
    setTimeout(() => {
      if (isReady) return
      child.kill('SIGKILL') // a service that never got ready is not left behind
      reject(new Error(`the service was not ready in ${readyMs / 1000} s: ${stderr}`))
    }, readyMs).unref()
  })
  const entry = await ready
  return {
    child,
    mqttUrl: `mqtt://127.0.0.1:${entry.mqttPort}`,
    http: `http://127.0.0.1:${entry.httpPort}`,
    logs,
    exited,
  }
}

export async function stopGracefully(s: ServiceProcess): Promise<number | null> {
  s.child.kill('SIGTERM')
  return s.exited
}

export async function kill9(s: ServiceProcess): Promise<void> {
  s.child.kill('SIGKILL')
  await s.exited
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as T }
}

export async function postJson<T = unknown>(
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
  return { status: res.status, body: (await res.json()) as T }
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on now, for a server that must come back on the same
 * one. Drawn below Linux's ephemeral range (32768–60999), where the ports the other tests' servers
 * bind with port 0 come from: one of those could take a port freed between two starts (seen in CI).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (await canListen(port)) return port
  }
  throw new Error('no free port below the ephemeral range after 50 tries')
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer()
    server.once('error', () => resolveFree(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)))
  })
}

/** Polls until `check` returns a value that is not undefined, or fails after `ms`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
  what = 'a condition',
): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A process's memory in MiB, from /proc (Linux): its resident set now, or its peak (VmHWM). */
export function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Math.round(Number(match[1]) / 1024) : Number.NaN
}

/**
 * Runs `npm start` (src/cli.ts) with these arguments and no port flags of its own, for a start that
 * must be refused: resolves with its exit code and what it wrote to stderr. Kills it after `ms`.
 */
export function runUntilExit(
  args: string[],
  options: { cwd?: string; ms?: number } = {},
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli.ts'), ...args], {
      cwd: options.cwd ?? ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    let stdout = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.ms ?? 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolveRun({ code, stderr, stdout })
    })
  })
}
