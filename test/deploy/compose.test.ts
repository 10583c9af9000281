/**
 * The compose stack and the Dockerfile, checked as far as a machine without a Docker engine allows:
 * their shape, parsed (docker compose config would do the same), and the ports, volumes, variables
 * and files they name, against each other and the repository. scripts/check-dockerfile.ts runs the
 * image's build steps.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { OPTIONS } from '../../src/config/options.ts'
import { ROOT } from '../helpers/service-process.ts'

interface Service {
  image?: string
  build?: string | { context: string }
  restart?: string
  command?: unknown
  environment?: Record<string, string>
  volumes?: string[]
  ports?: string[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
}
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')
const compose = parse(composeText) as { services: Record<string, Service>; volumes: Record<string, unknown> }
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
const envExample = readFileSync(join(ROOT, '.env.example'), 'utf8')

/** The Dockerfile's instructions, continuation lines joined, by stage. */
function stages(text: string): { name: string; lines: string[] }[] {
  const joined = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
  const out: { name: string; lines: string[] }[] = []
  for (const line of joined) {
    if (line === '' || line.startsWith('#')) continue
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line)
    if (from) out.push({ name: from[1] ?? '', lines: [] })
    else out.at(-1)?.lines.push(line)
  }
  return out
}

describe('docker-compose.yml', () => {
  const services = Object.entries(compose.services)
  // The accounts service runs once, before printwarden, and ends.
  const lasting = services.filter(([name]) => name !== 'accounts')

  it('runs printwarden, InfluxDB, Prometheus and Grafana, and makes the accounts first', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'accounts',
      'grafana',
      'influxdb',
      'printwarden',
      'prometheus',
    ])
  })

  it('makes the accounts once, from the same image, before printwarden starts', () => {
    const accounts = compose.services.accounts as Service
    expect(accounts.image).toBe((compose.services.printwarden as Service).image)
    expect(accounts.restart).toBe('no')
    expect(accounts.command).toEqual(['sh', 'deploy/init-accounts.sh'])
    expect((compose.services.printwarden as Service).depends_on?.accounts?.condition).toBe(
      'service_completed_successfully',
    )
    expect((compose.services.prometheus as Service).volumes).toContain('secrets:/secrets:ro')
  })

  it.each(lasting)('gives %s a restart policy and a healthcheck', (_name, service) => {
    expect(service.restart).toBe('unless-stopped')
    expect(service.healthcheck?.test[0]).toMatch(/^CMD(-SHELL)?$/)
  })

  it('builds printwarden from the Dockerfile, with no source mounted over the image and no npm at start', () => {
    const pw = compose.services.printwarden as Service
    expect(pw.build).toBe('.')
    expect(pw.command).toBeUndefined()
    expect(pw.volumes?.some((v) => v.startsWith('.:'))).toBe(false)
    expect(composeText).not.toMatch(/npm (ci|install)/)
  })

  it("checks printwarden's health on GET /health", () => {
    expect((compose.services.printwarden as Service).healthcheck?.test.join(' ')).toContain('/health')
  })

  it('waits for each dependency to be healthy, and names only services that exist', () => {
    for (const [, service] of services)
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(compose.services)).toContain(dep)
        expect(condition).toBe(dep === 'accounts' ? 'service_completed_successfully' : 'service_healthy')
      }
  })

  it('keeps its state in named volumes, each declared', () => {
    const named = services.flatMap(([, s]) =>
      (s.volumes ?? []).map((v) => v.split(':')[0] ?? '').filter((src) => !src.startsWith('.')),
    )
    expect([...new Set(named)].sort()).toEqual([
      'grafana-data',
      'influxdb-data',
      'printwarden-data',
      'prometheus-data',
      'secrets',
    ])
    expect(Object.keys(compose.volumes).sort()).toEqual([...new Set(named)].sort())
  })

  it('mounts only files and folders that are in the repository', () => {
    const mounted = services.flatMap(([, s]) =>
      (s.volumes ?? []).map((v) => v.split(':')[0] ?? '').filter((src) => src.startsWith('.')),
    )
    expect(mounted.length).toBeGreaterThan(0)
    for (const path of mounted) expect(existsSync(join(ROOT, path)), path).toBe(true)
  })

  it('gives every variable it uses a line in .env.example, and .env.example nothing it does not use', () => {
    const used = new Set([...composeText.matchAll(/\$\{([A-Z_]+)(?::-[^}]*)?\}/g)].map((m) => m[1]))
    const listed = new Set([...envExample.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]))
    expect([...used].sort()).toEqual([...listed].sort())
  })

  it("sets printwarden's options only through variables the service knows", () => {
    const known = new Set(OPTIONS.map((o) => `PRINTWARDEN_${o.flag.replace(/-/g, '_').toUpperCase()}`))
    for (const key of Object.keys((compose.services.printwarden as Service).environment ?? {}))
      expect(known.has(key), key).toBe(true)
  })

  it('has Prometheus scrape GET /metrics of the printwarden service', () => {
    const prometheus = parse(readFileSync(join(ROOT, 'deploy/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[]
    }
    const job = prometheus.scrape_configs.find((j) => j.job_name === 'printwarden')
    expect(job?.metrics_path).toBe('/metrics')
    // Signed in as the monitor account the accounts service made.
    expect((job as { authorization?: unknown } | undefined)?.authorization).toEqual({
      type: 'Bearer',
      credentials_file: '/secrets/monitor.token',
    })
    expect(job?.static_configs[0]?.targets).toEqual(['printwarden:3000'])
  })
})

describe('the Dockerfile', () => {
  const [build, runtime] = stages(dockerfile)

  it('builds in one stage and runs from a second', () => {
    expect(stages(dockerfile).map((s) => s.name)).toEqual(['build', 'runtime'])
    expect(build?.lines).toContain('RUN npm prune --omit=dev --no-audit --no-fund')
    expect(runtime?.lines.filter((l) => l.startsWith('COPY')).every((l) => l.includes('--from=build'))).toBe(
      true,
    )
  })

  it('runs as the unprivileged node user under tini', () => {
    expect(runtime?.lines).toContain('USER node')
    expect(runtime?.lines).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]')
    expect(runtime?.lines.at(-1)).toMatch(/^CMD \["node",/)
  })

  it('checks its health on GET /health', () => {
    expect(runtime?.lines.find((l) => l.startsWith('HEALTHCHECK'))).toContain('/health')
  })

  it('exposes the ports compose publishes', () => {
    const exposed = runtime?.lines
      .find((l) => l.startsWith('EXPOSE'))
      ?.split(/\s+/)
      .slice(1)
      .sort()
    const published = ((compose.services.printwarden as Service).ports ?? [])
      .map((p) => p.split(':').at(-1))
      .sort()
    expect(exposed).toEqual(published)
  })

  it('copies into the image only what exists after the build', () => {
    for (const line of runtime?.lines.filter((l) => l.startsWith('COPY --from=build')) ?? []) {
      const source = line.split(/\s+/)[2] ?? ''
      // console/dist is made by the build (npm run build:console); the rest is in the repository.
      if (source !== '/app/console/dist')
        expect(existsSync(join(ROOT, source.replace(/^\/app\//, ''))), source).toBe(true)
    }
  })
})
