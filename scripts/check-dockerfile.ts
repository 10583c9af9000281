/**
 * Runs the Dockerfile's steps where no Docker engine is at hand: each stage in a temporary folder,
 * its COPY as a copy and its RUN as the same shell command, then the runtime stage's CMD with its
 * ENV, until GET /health answers 200 and SIGTERM stops it. The steps that need the image's root
 * (apt-get, chown) are named and left out.
 *
 *   npm run check:dockerfile [-- --keep]
 */
import { execSync, spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')
const keep = process.argv.includes('--keep')

interface Stage {
  name: string
  steps: { op: string; args: string }[]
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = []
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const [op = '', ...rest] = line.split(/\s+/)
    const args = rest.join(' ')
    if (op.toUpperCase() === 'FROM') stages.push({ name: /AS\s+(\S+)/i.exec(args)?.[1] ?? '', steps: [] })
    else stages.at(-1)?.steps.push({ op: op.toUpperCase(), args })
  }
  return stages
}

/** The files `COPY . .` sends: what git knows of (tracked, or new and not ignored), less .dockerignore. */
function contextFiles(): string[] {
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  const files = execSync('git ls-files -co --exclude-standard', { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
  const glob = (p: string) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}(/|$)`)
  return files.filter((f) => !ignore.some((p) => glob(p).test(f)))
}

const say = (text: string) => process.stderr.write(`check-dockerfile: ${text}\n`)

async function main(): Promise<void> {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  const work = mkdtempSync(join(tmpdir(), 'printwarden-image-'))
  const dirs = new Map<string, string>()
  let env: Record<string, string> = {}
  let cmd: string[] = []
  try {
    for (const stage of stages) {
      const root = join(work, stage.name)
      mkdirSync(root, { recursive: true })
      dirs.set(stage.name, root)
      let cwd = root
      for (const { op, args } of stage.steps) {
        if (op === 'WORKDIR') {
          cwd = join(root, args)
          mkdirSync(cwd, { recursive: true })
        } else if (op === 'COPY') {
          const from = /--from=(\S+)/.exec(args)?.[1]
          const parts = args.split(/\s+/).filter((a) => !a.startsWith('--'))
          const target = parts.pop() ?? '.'
          for (const source of parts) {
            if (from) {
              const src = join(dirs.get(from) ?? '', source)
              const dst =
                target.endsWith('/') || target === '.'
                  ? join(cwd, target, source.split('/').pop() ?? '')
                  : join(cwd, target)
              cpSync(src, dst, { recursive: true })
            } else if (source === '.') {
              for (const f of contextFiles()) {
                mkdirSync(dirname(join(cwd, f)), { recursive: true })
                cpSync(join(ROOT, f), join(cwd, f))
              }
            } else cpSync(join(ROOT, source), join(cwd, target, source))
          }
          say(`${stage.name}: COPY ${args}`)
        } else if (op === 'RUN') {
          if (/apt-get|chown|^mkdir -p \//.test(args)) {
            say(`${stage.name}: left out (needs the image's root): RUN ${args}`)
            continue
          }
          say(`${stage.name}: RUN ${args}`)
          execSync(args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], shell: '/bin/sh' })
        } else if (op === 'ENV') {
          for (const m of args.matchAll(/(\w+)=(\S+)/g)) env[m[1] as string] = m[2] as string
        } else if (op === 'CMD') {
          cmd = JSON.parse(args) as string[]
        }
      }
      if (stage.name !== 'runtime') env = {}
    }
    await runImage(join(work, 'runtime', 'app'), env, cmd)
    say('the image builds, starts, answers GET /health and stops on SIGTERM')
  } finally {
    if (keep) say(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

/** The runtime stage's CMD, as the container runs it, on free ports and a temporary data folder. */
async function runImage(app: string, env: Record<string, string>, cmd: string[]): Promise<void> {
  const data = join(app, '..', 'data')
  mkdirSync(data)
  const [command = 'node', ...args] = cmd
  const child = spawn(command, args, {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      PRINTWARDEN_HOST: '127.0.0.1',
      PRINTWARDEN_DATA_DIR: data,
      PRINTWARDEN_RULES_DIR: join(app, 'rules'),
      PRINTWARDEN_MQTT_PORT: '0',
      PRINTWARDEN_WS_PORT: '0',
      PRINTWARDEN_HTTP_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolvePort, reject) => {
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /"httpPort":(\d+)/.exec(out)
      if (m) resolvePort(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`the service exited (${code}) before it ran:\n${out}`)))
  })
  const health = await fetch(`http://127.0.0.1:${port}/health`)
  if (health.status !== 200) throw new Error(`GET /health answered ${health.status}`)
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  child.kill('SIGTERM')
  const code = await exited
  if (code !== 0) throw new Error(`the service exited with ${code} after SIGTERM`)
}

main().catch((err: unknown) => {
  say(`FAILED: ${(err as Error).message}`)
  process.exit(1)
})
