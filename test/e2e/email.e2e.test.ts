/**
 * --smtp-url: the fleet contact of each site gets email, in the site's language, through a real
 * SMTP server (aiosmtpd) delivering to a Maildir that the tests parse.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ParsedMail } from 'mailparser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Action, MailMessageView } from '../../src/contract/schemas.ts'
import { actions, connect, HOUR, iso, publishAll, telemetry, watchActions } from '../helpers/fleet.ts'
import {
  getJson,
  kill9,
  postJson,
  ROOT,
  type ServiceProcess,
  startServiceProcess,
  tempDir,
  waitFor,
} from '../helpers/service-process.ts'
import { addresses, type Smtp, startSmtp } from '../helpers/smtp.ts'

/** Monday 16 November 2026, 09:00 UTC: 10:00 in Rome, 11:00 in Kyiv. */
const T0 = Date.parse('2026-11-16T09:00:00Z')
const calendar = (zone: string) => ({ zone })

const INVENTORY = {
  sites: [
    {
      siteId: 'milano-hq',
      name: 'Milano sede',
      contact: 'm.rossi@example.com',
      language: 'it',
      calendar: calendar('Europe/Rome'),
    },
    {
      siteId: 'kyiv',
      name: 'Київ офіс',
      contact: 'o.petrenko@example.com',
      language: 'uk',
      calendar: calendar('Europe/Kyiv'),
    },
    { siteId: 'napoli', contact: 'refuse.me@example.com', language: 'it', calendar: calendar('Europe/Rome') },
    { siteId: 'torino', contact: 'nobody at example', language: 'it' },
  ],
  devices: [
    { deviceId: 'mi-1', siteId: 'milano-hq', label: 'SCM-004512', location: 'Piano 2, contabilità' },
    { deviceId: 'kv-1', siteId: 'kyiv', label: 'KYV-000101', location: 'Бухгалтерія' },
    { deviceId: 'na-1', siteId: 'napoli', label: 'NAP-000007' },
    { deviceId: 'to-1', siteId: 'torino', label: 'TOR-000003' },
  ],
}

const FROM = 'printwarden@provider.example'
const DESK = 'desk@provider.example'

function emailFlags(smtp: Smtp): string[] {
  return [
    '--clock',
    'event',
    '--sweep-interval',
    '1h',
    '--smtp-url',
    smtp.url,
    '--mail-from',
    FROM,
    '--service-desk',
    DESK,
    '--notifications-dir',
    join(ROOT, 'notifications'),
    '--mail-retry',
    '200ms',
    '--mail-retry-max',
    '1s',
  ]
}

async function messagesOf(http: string, id: string): Promise<MailMessageView[]> {
  const { status, body } = await getJson<{ items: MailMessageView[] }>(`${http}/actions/${id}/messages`)
  expect(status).toBe(200)
  return body.items
}

/** Waits until the action's messages of these changes were accepted by the server. */
async function sent(http: string, id: string, changes: string[], what: string): Promise<MailMessageView[]> {
  return waitFor(
    async () => {
      const list = await messagesOf(http, id)
      const done = list.filter((m) => m.status === 'sent').map((m) => m.change)
      return changes.every((c) => done.includes(c)) ? list : undefined
    },
    60_000,
    what,
  )
}

async function mailCount(smtp: Smtp, n: number, what: string): Promise<ParsedMail[]> {
  return waitFor(
    async () => {
      const all = await smtp.messages()
      return all.length >= n ? all : undefined
    },
    60_000,
    what,
  )
}

describe('email to the fleet contact of each site', () => {
  const data = tempDir()
  let smtp: Smtp
  let service: ServiceProcess
  let byId: Map<string, ParsedMail[]>
  let all: ParsedMail[]
  let fault: Action
  let reorder: Action

  beforeAll(async () => {
    smtp = await startSmtp(data.path)
    mkdirSync(join(data.path, 'data'))
    writeFileSync(join(data.path, 'data', 'inventory.json'), JSON.stringify(INVENTORY))
    service = await startServiceProcess({ dataDir: join(data.path, 'data'), extra: emailFlags(smtp) })
  }, 60_000)
  afterAll(async () => {
    await kill9(service)
    await smtp.stop()
    data.remove()
  })

  it('mails each change once, in the site language and zone, with a digest and the breach copied to the service desk', async () => {
    const client = await connect(service.mqttUrl)
    await publishAll(client, [
      // milano: toner low (an order) and a critical fault (a service ticket: remote support within 2 working hours).
      telemetry('milano-hq', 'mi-1', {
        ts: iso(T0),
        toner: { black: 15 },
        errors: [{ code: 'C-2557', severity: 'critical', text: 'Fuser error' }],
      }),
      // kyiv: a cartridge taken out and shaken twice: an advisory, for the daily digest.
      telemetry('kyiv', 'kv-1', { ts: iso(T0), toner: { black: 10 } }),
      telemetry('kyiv', 'kv-1', { ts: iso(T0 + HOUR), toner: { black: 14 } }),
      telemetry('kyiv', 'kv-1', { ts: iso(T0 + 2 * HOUR), toner: { black: 10 } }),
      telemetry('kyiv', 'kv-1', { ts: iso(T0 + 3 * HOUR), toner: { black: 14 } }),
      telemetry('napoli', 'na-1', { ts: iso(T0 + 3 * HOUR), toner: { black: 12 } }),
      telemetry('torino', 'to-1', { ts: iso(T0 + 3 * HOUR), toner: { black: 12 } }),
    ])
    const http = service.http
    fault = await waitFor(async () => (await actions(http, '?type=fault'))[0], 15_000, 'the fault')
    reorder = await waitFor(
      async () => (await actions(http, '?type=reorder&deviceId=mi-1'))[0],
      15_000,
      'the reorder',
    )
    const shake = await waitFor(
      async () => (await actions(http, '?type=toner-shake'))[0],
      15_000,
      'the toner-shake advisory',
    )
    await sent(http, fault.id, ['created'], 'the fault created')
    // Next day: the clock passes the remote-support due time (a breach) and 08:00 in Kyiv (the digest).
    await publishAll(client, [
      telemetry('milano-hq', 'mi-1', {
        ts: iso(T0 + 24 * HOUR),
        toner: { black: 15 },
        errors: [{ code: 'C-2557', severity: 'critical', text: 'Fuser error' }],
      }),
    ])
    await sent(http, fault.id, ['sla-breach'], 'the breaches')
    await sent(http, shake.id, ['digest'], 'the digest')
    expect((await postJson(`${http}/actions/${fault.id}/ack`)).status).toBe(200)
    await sent(http, fault.id, ['acknowledged'], 'the fault acknowledged')
    // The error clears: the fault is resolved.
    await publishAll(client, [
      telemetry('milano-hq', 'mi-1', { ts: iso(T0 + 25 * HOUR), toner: { black: 15 }, errors: [] }),
    ])
    await waitFor(
      async () => ((await actions(http, '?type=fault'))[0]?.status === 'resolved' ? true : undefined),
      15_000,
      'the fault resolved',
    )
    await client.endAsync()
    await sent(http, fault.id, ['resolved'], 'the fault resolved')
    all = await smtp.messages()
    byId = new Map()
    for (const m of all) byId.set(m.messageId ?? '', [...(byId.get(m.messageId ?? '') ?? []), m])

    // Exactly one message per change.
    for (const [id, copies] of byId) expect(copies.length, id).toBe(1)

    const order = byId.get(`<${reorder.id}.created@provider.example>`)?.[0]
    expect(addresses(order?.to)).toEqual(['m.rossi@example.com'])
    expect(order?.subject).toBe('Ordine toner ID SCM-004512: nero')
    expect(order?.text).toContain('Ufficio: Piano 2, contabilità')
    expect(order?.html).toContain('lang="it"')
    expect(order?.from?.value[0]?.address).toBe(FROM)

    const created = byId.get(`<${fault.id}.created@provider.example>`)?.[0]
    expect(created?.subject).toBe('Richiesta di assistenza registrata ID SCM-004512: C-2557')
    // 10:00 in Rome plus 2 working hours: due at 12:00 Rome time (11:00 UTC).
    expect(created?.text).toContain(
      "Richiamata dell'assistenza remota entro lunedì 16 novembre 2026 alle 12:00",
    )
  })

  it('copies a breach to the service desk', () => {
    const breach = byId.get(`<${fault.id}.sla-breach.remoteSupport@provider.example>`)?.[0]
    expect(breach?.subject).toBe('Livello di servizio non rispettato: ID SCM-004512')
    expect(addresses(breach?.to)).toEqual(['m.rossi@example.com'])
    expect(addresses(breach?.cc)).toEqual([DESK])
    expect(breach?.text).toContain('era prevista per lunedì 16 novembre 2026 alle 12:00')
  })

  it('gathers the advisories of a site into one digest a day, in its language', () => {
    const digests = all.filter((m) => m.messageId?.startsWith('<digest.'))
    expect(digests.map((d) => d.messageId)).toEqual(['<digest.kyiv.2026-11-17@provider.example>'])
    const digest = digests[0]
    expect(addresses(digest?.to)).toEqual(['o.petrenko@example.com'])
    expect(digest?.subject).toBe('1 повідомлення для Київ офіс, 17 листопада 2026 р.')
    expect(digest?.text).toContain('Касету струшували ID KYV-000101: чорний')
  })

  it('mails the acknowledgement and the close of a service request', async () => {
    const list = await messagesOf(service.http, fault.id)
    expect(list.map((m) => m.messageId)).toEqual(
      ['created', 'sla-breach.remoteSupport', 'sla-breach.onSite', 'acknowledged', 'resolved'].map(
        (c) => `<${fault.id}.${c}@provider.example>`,
      ),
    )
    expect(list.every((m) => m.status === 'sent')).toBe(true)
    expect(byId.get(`<${fault.id}.resolved@provider.example>`)?.[0]?.subject).toBe(
      'Richiesta di assistenza chiusa ID SCM-004512',
    )
    expect(list[0]?.response).toMatch(/^250/)
    expect(list[0]?.template).toBe('it/_any.created')
  })

  it('records a permanent refusal (550) as failed, visible, and does not retry it', async () => {
    const [napoli] = await actions(service.http, '?deviceId=na-1&type=reorder')
    const list = await waitFor(
      async () => {
        const l = await messagesOf(service.http, napoli?.id ?? '')
        return l[0]?.status === 'failed' ? l : undefined
      },
      15_000,
      'the refused message',
    )
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ status: 'failed', attempts: 1, to: ['refuse.me@example.com'] })
    expect(list[0]?.error).toMatch(/^550/)
    expect(list[0]?.response).toContain('no such mailbox')
    expect(all.some((m) => addresses(m.to).includes('refuse.me@example.com'))).toBe(false)
  })

  it('records an address that does not parse as failed with the reason, and never sends it', async () => {
    const [torino] = await actions(service.http, '?deviceId=to-1&type=reorder')
    const list = await messagesOf(service.http, torino?.id ?? '')
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ status: 'failed', attempts: 0, response: null })
    expect(list[0]?.error).toBe('the address "nobody at example" does not parse')
  })
})

describe('email when the mail server is down, or the service is killed', () => {
  const data = tempDir()
  let smtp: Smtp
  beforeAll(async () => {
    smtp = await startSmtp(data.path)
  })
  afterAll(async () => {
    await smtp.stop()
    data.remove()
  })

  const fleet = (n: number, prefix: string) => ({
    sites: [
      {
        siteId: 'milano-hq',
        contact: 'm.rossi@example.com',
        language: 'it',
        calendar: calendar('Europe/Rome'),
      },
    ],
    devices: Array.from({ length: n }, (_, i) => ({
      deviceId: `${prefix}-${i + 1}`,
      siteId: 'milano-hq',
      label: `${prefix.toUpperCase()}-${String(i + 1).padStart(5, '0')}`,
    })),
  })
  const start = (dir: string) => startServiceProcess({ dataDir: dir, extra: emailFlags(smtp) })
  const dataDir = (name: string, inventory: unknown) => {
    const dir = join(data.path, name)
    mkdirSync(dir)
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(inventory))
    return dir
  }

  it('holds the messages while the mail server is down, and sends each once, in order, when it is back', async () => {
    const service = await start(dataDir('outage', fleet(5, 'out')))
    try {
      const watch = await watchActions(service.mqttUrl)
      await smtp.stop()
      const client = await connect(service.mqttUrl)
      for (let i = 1; i <= 5; i++) {
        await publishAll(client, [
          telemetry('milano-hq', `out-${i}`, { ts: iso(T0 + i * 60_000), toner: { black: 10 } }),
        ])
        // One action at a time, so that the order of creation is known.
        await waitFor(
          async () => ((await actions(service.http, '?type=reorder')).length === i ? true : undefined),
          15_000,
          `order ${i}`,
        )
      }
      await client.endAsync()
      // The mail server being down holds back nothing else: MQTT got every order.
      await waitFor(() => (watch.messages.length >= 5 ? true : undefined), 15_000, 'the orders on MQTT')
      await watch.client.endAsync()
      const orders = (await actions(service.http, '?type=reorder')).reverse()
      // The first is tried again and again with the backoff, and stays pending.
      const waiting = await waitFor(
        async () => {
          const [m] = await messagesOf(service.http, orders[0]?.id ?? '')
          return m && m.attempts >= 3 ? m : undefined
        },
        20_000,
        'retries of the first message',
      )
      expect(waiting.status).toBe('pending')
      expect(waiting.error).toMatch(/ECONNECTION|ECONNREFUSED/)
      expect(await smtp.messages()).toEqual([])

      await smtp.start()
      const got = await mailCount(smtp, 5, 'the five messages')
      expect(got.map((m) => m.subject)).toEqual(
        [1, 2, 3, 4, 5].map((i) => `Ordine toner ID OUT-${String(i).padStart(5, '0')}: nero`),
      )
      expect(got.map((m) => m.messageId)).toEqual(orders.map((o) => `<${o.id}.created@provider.example>`))
      for (const o of orders) {
        const [m] = await messagesOf(service.http, o.id)
        expect(m?.status).toBe('sent')
      }
    } finally {
      await kill9(service)
    }
  }, 180_000)

  it('sends no message that differs from its first version when the service is killed while mail goes out', async () => {
    const before = (await smtp.messages()).length
    const N = 80
    const dir = dataDir('killed', fleet(N, 'kil'))
    const first = await start(dir)
    const client = await connect(first.mqttUrl)
    await publishAll(
      client,
      Array.from({ length: N }, (_, i) =>
        telemetry('milano-hq', `kil-${i + 1}`, { ts: iso(T0 + i * 1000), toner: { black: 10 } }),
      ),
    )
    await client.endAsync()
    await mailCount(smtp, before + 1, 'the first message')
    await kill9(first)
    const atKill = (await smtp.messages()).length - before
    expect(atKill).toBeLessThan(N)

    const second = await start(dir)
    try {
      const orders = await waitFor(
        async () => {
          const list = await actions(second.http, '?type=reorder')
          return list.length === N ? list : undefined
        },
        60_000,
        'every order',
      )
      for (const o of orders) await sent(second.http, o.id, ['created'], `the message of ${o.deviceId}`)
      const got = (await smtp.messages()).slice(before)
      const byId = new Map<string, ParsedMail[]>()
      for (const m of got) byId.set(m.messageId ?? '', [...(byId.get(m.messageId ?? '') ?? []), m])
      expect([...byId.keys()].sort()).toEqual(orders.map((o) => `<${o.id}.created@provider.example>`).sort())
      const shape = (m: ParsedMail) => ({
        subject: m.subject,
        text: m.text,
        html: m.html,
        to: addresses(m.to),
        cc: addresses(m.cc),
        date: m.date?.toISOString(),
      })
      for (const copies of byId.values()) {
        for (const copy of copies) expect(shape(copy)).toEqual(shape(copies[0] as ParsedMail))
      }
      // At least once: a message may be repeated (a crash after the server's answer), never lost.
      expect(got.length).toBeGreaterThanOrEqual(N)
    } finally {
      await kill9(second)
    }
  }, 240_000)
})
