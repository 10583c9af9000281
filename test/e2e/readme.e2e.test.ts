/**
 * The README's walkthrough, run as written: every `mosquitto_pub` command of its "Five minutes"
 * section against the real service, with only the port changed. Keeps the README true.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action } from '../../src/contract/schemas.ts'
import { actions, settled } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  ROOT,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
} from '../helpers/service-process.ts'

const hasMosquitto = (() => {
  try {
    execFileSync('mosquitto_pub', ['--help'], { stdio: 'ignore' })
    return true
  } catch (err) {
    // mosquitto_pub --help exits 1 after printing its usage: it is there.
    return (err as { status?: number }).status === 1
  }
})()
if (!hasMosquitto && process.env.CI)
  throw new Error('CI must have mosquitto_pub: .ci/run installs mosquitto-clients')

/** The walkthrough's mosquitto_pub commands, continuation lines joined. */
function walkthrough(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.split('## Five minutes with printwarden')[1]?.split('\n## ')[0] ?? ''
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
  return blocks
    .flatMap((b) => b.replace(/\\\n\s*/g, '').split('\n'))
    .filter((line) => line.startsWith('mosquitto_pub '))
}

describe.skipIf(!hasMosquitto)('the README walkthrough (needs mosquitto_pub from mosquitto-clients)', () => {
  const data = tempDir()
  let service: ServiceProcess
  const commands = walkthrough()
  const run = (command: string) => {
    const port = new URL(service.mqttUrl).port
    execFileSync('sh', ['-c', command.replace('-p 1883', `-p ${port}`)], { stdio: 'pipe' })
  }

  beforeAll(async () => {
    service = await startServiceProcess({ dataDir: data.path })
  })
  afterAll(async () => {
    if (service) await kill9(service)
    data.remove()
  })

  it('has the commands the walkthrough describes', () => {
    expect(commands).toHaveLength(6)
  })

  it('orders black toner at 19%, and names the device and the colour', async () => {
    for (const c of commands.slice(0, 3)) run(c)
    await settled(service.http)
    const [order] = await actions(service.http, '?type=reorder')
    expect(order).toMatchObject({
      deviceId: 'SCM-004512',
      siteId: 'milano-hq',
      status: 'open',
      details: { color: 'black', level: 19 },
    })
    const { body } = await getJson<Record<string, unknown>>(`${service.http}/devices/SCM-004512`)
    expect(body).toMatchObject({ vendor: 'Kyocera', location: 'Floor 2, accounting office' })
  })

  it('does not order again after a shake, resolves the order at the new cartridge and opens a fault', async () => {
    run(commands[3] as string)
    run(commands[4] as string)
    await settled(service.http)
    const all: Action[] = await actions(service.http)
    expect(all.map((a) => `${a.type}:${a.status}`).sort()).toEqual([
      'early-replacement:open',
      'fault:open',
      'reorder:resolved',
    ])
  })

  it('counts the broken reading as rejected', async () => {
    run(commands[5] as string)
    const { body } = await getJson<{ ingest: { rejected: Record<string, number> } }>(`${service.http}/stats`)
    expect(body.ingest.rejected['invalid-payload']).toBe(1)
  })
})
