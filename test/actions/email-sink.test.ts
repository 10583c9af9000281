/**
 * The email sink on a real outbox (SQLite) and a real mail server (aiosmtpd): order delivery steps
 * written into an action's details (shipped with the carrier's tracking number, delivered) each
 * mail the fleet contact once, whatever shape `details.delivery` takes, and a replay of the outbox
 * sends nothing again.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emailSink, smtpOptions } from '../../src/actions/email-sink.ts'
import { OutboxRelay } from '../../src/actions/outbox-relay.ts'
import { ManualClock } from '../../src/clock.ts'
import type { Action } from '../../src/contract/schemas.ts'
import { NotificationLibrary } from '../../src/notify/library.ts'
import { MailLog } from '../../src/store/sqlite/mail-log.ts'
import { DB_FILE, SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { ROOT, tempDir, waitFor } from '../helpers/service-process.ts'
import { type Smtp, startSmtp } from '../helpers/smtp.ts'

const log = pino({ level: 'silent' })
const T0 = Date.parse('2026-11-20T08:00:00Z')

describe('the email sink on the outbox', () => {
  const dir = tempDir()
  let smtp: Smtp
  let store: SqliteStore
  let mailLog: MailLog
  let library: NotificationLibrary
  let db: Database.Database
  beforeAll(async () => {
    smtp = await startSmtp(dir.path)
    store = new SqliteStore(join(dir.path, 'data'))
    await store.start()
    mailLog = new MailLog(join(dir.path, 'data'))
    mailLog.start()
    library = new NotificationLibrary(join(ROOT, 'notifications'), log)
    await library.reload()
    db = new Database(join(dir.path, 'data', DB_FILE))
  })
  afterAll(async () => {
    db.close()
    mailLog.stop()
    await store.stop()
    await smtp.stop()
    dir.remove()
  })

  const relayWith = (contact = 'm.rossi@example.com') => {
    const clock = new ManualClock(T0)
    const sink = emailSink({
      smtpUrl: smtp.url,
      from: 'printwarden@provider.example',
      library,
      inventory: {
        site: (siteId) => ({
          siteId,
          contact,
          language: 'it',
          calendar: {
            zone: 'Europe/Rome',
            workingDays: [1, 2, 3, 4, 5],
            workingHours: { start: '08:00', end: '17:00' },
            holidays: [],
          },
        }),
        device: () => undefined,
      },
      mailLog,
      clock,
      wall: clock,
      log,
      retry: { initialMs: 50, maxMs: 200 },
    })
    return { sink, relay: new OutboxRelay(store, [sink], log) }
  }
  const write = (action: Action) =>
    db.prepare('INSERT INTO outbox (action) VALUES (?)').run(JSON.stringify(action))

  it('mails shipped with the tracking number and delivered once each, and nothing again on a replay', async () => {
    const order: Action = {
      id: 'order-1',
      type: 'reorder',
      deviceId: 'mi-1',
      siteId: 'milano-hq',
      status: 'open',
      rule: 'toner-reorder',
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
      details: { color: 'black', level: 12, label: 'SCM-004512', location: 'Piano 2' },
    }
    const ordered = {
      ...order,
      details: { ...order.details, delivery: { status: 'ordered', orderedAt: order.createdAt } },
    }
    const shipped = {
      ...order,
      updatedAt: '2026-11-20T15:00:00.000Z',
      details: {
        ...order.details,
        delivery: {
          status: 'shipped',
          orderedAt: order.createdAt,
          shippedAt: '2026-11-20T15:00:00.000Z',
          carrier: 'BRT',
          trackingNumber: 'BRT-0123456789',
          expectedDelivery: '2026-11-23T11:00:00.000Z',
        },
      },
    }
    // Another shape of the same steps: a list of them.
    const delivered = {
      ...order,
      status: 'resolved' as const,
      updatedAt: '2026-11-23T10:00:00.000Z',
      details: {
        ...order.details,
        delivery: {
          steps: [
            { step: 'ordered' },
            { step: 'shipped' },
            { step: 'delivered', at: '2026-11-23T10:00:00.000Z' },
          ],
        },
      },
    }
    for (const a of [order, ordered, shipped, delivered]) write(a)
    const { sink, relay } = relayWith()
    await relay.start()
    sink.start()
    const got = await waitFor(
      async () => {
        const m = await smtp.messages()
        return m.length >= 3 ? m : undefined
      },
      15_000,
      'three messages',
    )
    await relay.stop()
    await sink.stop()
    expect(got.map((m) => m.messageId)).toEqual([
      '<order-1.created@provider.example>',
      '<order-1.shipped@provider.example>',
      '<order-1.delivered@provider.example>',
    ])
    expect(got[1]?.subject).toBe('Avviso di spedizione ID SCM-004512')
    expect(got[1]?.text).toContain('Numero di tracciamento: BRT-0123456789')
    expect(got[1]?.text).toContain('Corriere: BRT')
    // 11:00 UTC on Monday 23 November is 12:00 in Rome; the date is the site's.
    expect(got[1]?.text).toContain('Consegna prevista: lunedì 23 novembre 2026')
    expect(got[2]?.subject).toBe('Consegnato: ID SCM-004512')
    expect(mailLog.messagesOf('order-1').map((m) => [m.change, m.status])).toEqual([
      ['created', 'sent'],
      ['shipped', 'sent'],
      ['delivered', 'sent'],
    ])

    // The same changes once more (a replay of the outbox after a crash): nothing is sent again.
    for (const a of [order, ordered, shipped, delivered]) write(a)
    const again = relayWith()
    await again.relay.start()
    again.sink.start()
    await waitFor(
      async () => ((await store.cursor('sink:email')) >= 8 ? true : undefined),
      15_000,
      'the replay',
    )
    await again.relay.stop()
    await again.sink.stop()
    expect(await smtp.messages()).toHaveLength(3)
  })

  it('tries a temporary refusal (451) again with the backoff, and holds the later messages behind it', async () => {
    const base: Action = {
      id: 'busy-1',
      type: 'missed-reading',
      deviceId: 'mi-2',
      siteId: 'busy-site',
      status: 'open',
      rule: 'missed-reading',
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
      details: { lastReadingAt: '2026-11-15T07:45:00.000Z', hoursSinceLastReading: 121, label: 'SCM-000002' },
    }
    write(base)
    write({ ...base, id: 'busy-2' })
    const before = (await smtp.messages()).length
    const { sink, relay } = relayWith('busy.desk@example.com')
    await relay.start()
    sink.start()
    const [first] = await waitFor(
      () => {
        const list = mailLog.messagesOf('busy-1')
        return (list[0]?.attempts ?? 0) >= 3 ? list : undefined
      },
      15_000,
      'three attempts',
    )
    await relay.stop()
    await sink.stop()
    expect(first).toMatchObject({ status: 'pending', response: '451 4.3.2 try again later' })
    expect(first?.error).toMatch(/451/)
    // In order: the second waits behind the first, unplanned.
    expect(mailLog.messagesOf('busy-2')).toEqual([])
    expect(await smtp.messages()).toHaveLength(before)
  })

  it('reads the host, port, TLS and login from --smtp-url', () => {
    expect(smtpOptions('smtp://pw%40provider:s%3Acret@mail.example.com:587', 1000)).toMatchObject({
      host: 'mail.example.com',
      port: 587,
      secure: false,
      auth: { user: 'pw@provider', pass: 's:cret' },
      connectionTimeout: 1000,
    })
    expect(smtpOptions('smtps://mail.example.com', 1000)).toMatchObject({ port: 465, secure: true })
    expect(smtpOptions('smtps://mail.example.com', 1000)).not.toHaveProperty('auth')
  })
})
