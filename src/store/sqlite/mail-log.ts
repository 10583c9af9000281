import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Action } from '../../contract/schemas.ts'
import { DB_FILE } from './sqlite-store.ts'

export type MailStatus = 'pending' | 'sent' | 'failed'

export interface Recipients {
  to: string[]
  cc: string[]
}

export interface NewMail {
  messageId: string
  actionId: string | null
  siteId: string
  change: string
  template: string
  recipients: Recipients
  subject: string
  text: string
  html: string
  /** `failed` (with `error`) for a message that must never be sent: an address that does not parse. */
  status: 'pending' | 'failed'
  error?: string
}

export interface MailRecord extends Omit<NewMail, 'status'> {
  seq: number
  status: MailStatus
  attempts: number
  createdAt: number
  sentAt: number | null
  response: string | null
  error?: string
}

export interface DigestItem {
  actionId: string
  changeKey: string
  siteId: string
  day: string
  dueAt: number
  recipients: Recipients
  subject: string
  text: string
  html: string
}

interface MailRow {
  seq: number
  message_id: string
  action_id: string | null
  site_id: string
  change: string
  template: string
  recipients: string
  subject: string
  text: string
  html: string
  status: MailStatus
  attempts: number
  created_at: number
  sent_at: number | null
  response: string | null
  error: string | null
}

const toRecord = (r: MailRow): MailRecord => ({
  seq: r.seq,
  messageId: r.message_id,
  actionId: r.action_id,
  siteId: r.site_id,
  change: r.change,
  template: r.template,
  recipients: JSON.parse(r.recipients) as Recipients,
  subject: r.subject,
  text: r.text,
  html: r.html,
  status: r.status,
  attempts: r.attempts,
  createdAt: r.created_at,
  sentAt: r.sent_at,
  response: r.response,
  ...(r.error === null ? {} : { error: r.error }),
})

/**
 * The email sink's book, in the service's SQLite file (its own connection; the tables are the
 * store's migration): each message as it was first rendered, so that a retry or a restart sends
 * exactly that message again, and what the mail server answered. Open it after the store started.
 */
export class MailLog {
  private db: Database.Database | null = null

  constructor(
    private readonly dataDir: string,
    private readonly readonly = false,
  ) {}

  start(): void {
    const db = new Database(join(this.dataDir, DB_FILE), { readonly: this.readonly, fileMustExist: true })
    if (!this.readonly) db.pragma('synchronous = FULL')
    db.pragma('busy_timeout = 5000')
    this.db = db
  }

  stop(): void {
    this.db?.close()
    this.db = null
  }

  private get open(): Database.Database {
    if (!this.db) throw new Error('the mail log is not started')
    return this.db
  }

  seen(actionId: string): { position: number; snapshot: Action } | null {
    const row = this.open
      .prepare('SELECT position, snapshot FROM mail_seen WHERE action_id = ?')
      .get(actionId) as { position: number; snapshot: string } | undefined
    return row ? { position: row.position, snapshot: JSON.parse(row.snapshot) as Action } : null
  }

  /**
   * Records, in one transaction, the messages and digest items planned for an action's change and
   * the snapshot they were planned from. A message or item planned before (same Message-ID) is kept
   * as it was.
   */
  plan(
    action: Action,
    position: number,
    mails: readonly NewMail[],
    items: readonly DigestItem[],
    at: number,
  ): void {
    const db = this.open
    const insertMail = db.prepare(
      `INSERT OR IGNORE INTO mail_messages
         (message_id, action_id, site_id, change, template, recipients, subject, text, html, status, created_at, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const insertItem = db.prepare(
      `INSERT OR IGNORE INTO mail_digest_items
         (action_id, change_key, site_id, day, due_at, recipients, subject, text, html)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const seen = db.prepare(
      `INSERT INTO mail_seen (action_id, position, snapshot) VALUES (?, ?, ?)
       ON CONFLICT (action_id) DO UPDATE SET position = excluded.position, snapshot = excluded.snapshot`,
    )
    db.transaction(() => {
      for (const m of mails) {
        insertMail.run(
          m.messageId,
          m.actionId,
          m.siteId,
          m.change,
          m.template,
          JSON.stringify(m.recipients),
          m.subject,
          m.text,
          m.html,
          m.status,
          at,
          m.error ?? null,
        )
      }
      for (const i of items) {
        insertItem.run(
          i.actionId,
          i.changeKey,
          i.siteId,
          i.day,
          i.dueAt,
          JSON.stringify(i.recipients),
          i.subject,
          i.text,
          i.html,
        )
      }
      seen.run(action.id, position, JSON.stringify(action))
    })()
  }

  /** Whether the digest of a site and day was composed already (an advisory that comes later goes into the next). */
  digestComposed(siteId: string, day: string): boolean {
    return (
      this.open
        .prepare(
          'SELECT 1 FROM mail_digest_items WHERE site_id = ? AND day = ? AND message_id IS NOT NULL LIMIT 1',
        )
        .get(siteId, day) !== undefined
    )
  }

  pending(actionId: string | null): MailRecord[] {
    const rows =
      actionId === null
        ? this.open
            .prepare(
              "SELECT * FROM mail_messages WHERE status = 'pending' AND action_id IS NULL ORDER BY seq",
            )
            .all()
        : this.open
            .prepare("SELECT * FROM mail_messages WHERE status = 'pending' AND action_id = ? ORDER BY seq")
            .all(actionId)
    return (rows as MailRow[]).map(toRecord)
  }

  markSent(messageId: string, at: number, response: string): void {
    this.open
      .prepare(
        "UPDATE mail_messages SET status = 'sent', attempts = attempts + 1, sent_at = ?, response = ?, error = NULL WHERE message_id = ?",
      )
      .run(at, response, messageId)
  }

  markFailed(messageId: string, at: number, error: string, response: string | null): void {
    this.open
      .prepare(
        "UPDATE mail_messages SET status = 'failed', attempts = attempts + 1, sent_at = ?, response = ?, error = ? WHERE message_id = ?",
      )
      .run(at, response, error, messageId)
  }

  /** A temporary failure: counted, its reason kept, the message stays pending. */
  noteAttempt(messageId: string, error: string, response: string | null): void {
    this.open
      .prepare(
        'UPDATE mail_messages SET attempts = attempts + 1, response = ?, error = ? WHERE message_id = ?',
      )
      .run(response, error, messageId)
  }

  /** The earliest due time of an advisory not in a digest yet, or null. */
  nextDigestDue(): number | null {
    return (
      (this.open
        .prepare('SELECT min(due_at) FROM mail_digest_items WHERE message_id IS NULL')
        .pluck()
        .get() as number | null) ?? null
    )
  }

  /** The digests due by `now` and not composed yet: their advisories, by site and day. */
  dueDigests(now: number): { siteId: string; day: string; items: DigestItem[] }[] {
    const rows = this.open
      .prepare(
        'SELECT * FROM mail_digest_items WHERE message_id IS NULL AND due_at <= ? ORDER BY site_id, day, due_at, rowid',
      )
      .all(now) as {
      action_id: string
      change_key: string
      site_id: string
      day: string
      due_at: number
      recipients: string
      subject: string
      text: string
      html: string
    }[]
    const out = new Map<string, { siteId: string; day: string; items: DigestItem[] }>()
    for (const r of rows) {
      const key = `${r.site_id}\u0000${r.day}`
      let slot = out.get(key)
      if (!slot) {
        slot = { siteId: r.site_id, day: r.day, items: [] }
        out.set(key, slot)
      }
      slot.items.push({
        actionId: r.action_id,
        changeKey: r.change_key,
        siteId: r.site_id,
        day: r.day,
        dueAt: r.due_at,
        recipients: JSON.parse(r.recipients) as Recipients,
        subject: r.subject,
        text: r.text,
        html: r.html,
      })
    }
    return [...out.values()]
  }

  /** Writes a digest and ties its advisories to it, in one transaction. */
  composeDigest(mail: NewMail, siteId: string, day: string, at: number): void {
    const db = this.open
    db.transaction(() => {
      this.plan0(mail, at)
      db.prepare(
        'UPDATE mail_digest_items SET message_id = ? WHERE site_id = ? AND day = ? AND message_id IS NULL',
      ).run(mail.messageId, siteId, day)
    })()
  }

  private plan0(m: NewMail, at: number): void {
    this.open
      .prepare(
        `INSERT OR IGNORE INTO mail_messages
           (message_id, action_id, site_id, change, template, recipients, subject, text, html, status, created_at, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        m.messageId,
        m.actionId,
        m.siteId,
        m.change,
        m.template,
        JSON.stringify(m.recipients),
        m.subject,
        m.text,
        m.html,
        m.status,
        at,
        m.error ?? null,
      )
  }

  /** The messages about an action, its own and the digests it went into, in the order they were written. */
  messagesOf(actionId: string): MailRecord[] {
    return (
      this.open
        .prepare(
          `SELECT * FROM mail_messages WHERE action_id = ?
             OR message_id IN (SELECT message_id FROM mail_digest_items WHERE action_id = ? AND message_id IS NOT NULL)
           ORDER BY seq`,
        )
        .all(actionId, actionId) as MailRow[]
    ).map(toRecord)
  }

  /** Advisories of an action waiting for their digest. */
  waitingOf(actionId: string): DigestItem[] {
    return (
      this.open
        .prepare('SELECT * FROM mail_digest_items WHERE action_id = ? AND message_id IS NULL')
        .all(actionId) as {
        change_key: string
        site_id: string
        day: string
        due_at: number
        recipients: string
        subject: string
        text: string
        html: string
      }[]
    ).map((r) => ({
      actionId,
      changeKey: r.change_key,
      siteId: r.site_id,
      day: r.day,
      dueAt: r.due_at,
      recipients: JSON.parse(r.recipients) as Recipients,
      subject: r.subject,
      text: r.text,
      html: r.html,
    }))
  }
}
