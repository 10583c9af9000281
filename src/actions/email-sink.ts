import nodemailer, { type Transporter } from 'nodemailer'
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js'
import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import type { Action } from '../contract/schemas.ts'
import {
  type DerivedChange,
  deriveChanges,
  digestMessageId,
  digestSlot,
  messageId,
  nextDigestSlot,
} from '../domain/mail-changes.ts'
import { type InventoryLookup, renderInputFor, siteOf as siteOfSite } from '../notify/context.ts'
import type { NotificationLibrary } from '../notify/library.ts'
import { routeFor } from '../notify/notification-file.ts'
import type { Rendered, RenderInput } from '../notify/templates.ts'
import { Rerun } from '../rerun.ts'
import type { DigestItem, MailLog, MailRecord, NewMail, Recipients } from '../store/sqlite/mail-log.ts'
import { type ActionSink, DEFAULT_RETRY, type RetryPolicy, retryDelay } from './outbox-relay.ts'

export interface EmailOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when the server offers it) or `smtps://user:pass@host:465`. */
  smtpUrl: string
  from: string
  /** The provider's service desk: the `service-desk` addressee of the notification routes (copied on a breach). */
  serviceDesk?: string
  library: NotificationLibrary
  inventory: InventoryLookup
  mailLog: MailLog
  /** The decision clock: digests fall due in it (event time too). */
  clock: Clock
  /** The wall clock: when a message was written and accepted. */
  wall: Clock
  log: Logger
  retry?: RetryPolicy
  /** How long connecting, the greeting and each answer may take. */
  timeoutMs?: number
  /** How often due digests are looked for. */
  digestCheckMs?: number
}

export const DEFAULT_SMTP_TIMEOUT_MS = 30_000

/** A plain address, `local@domain.tld`: anything else is refused before it reaches the server. */
const ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/
export const parsesAsAddress = (a: string): boolean => ADDRESS.test(a) && !a.includes('..') && a.length <= 254

/** What one attempt to send came to. */
type Outcome =
  | { sent: string }
  | { refused: string; response: string }
  | { later: string; response: string | null }

interface SmtpError extends Error {
  code?: string
  responseCode?: number
  response?: string
  command?: string
}

/**
 * The server's answer decides: accepted; refused for good (a 5xx to the envelope or the message:
 * an unknown mailbox, a message it will not take), recorded as failed and not tried again; or
 * anything else (a 4xx, no connection, a timeout, and a refused login, which is the configuration's
 * fault and not the message's) tried again after the backoff.
 */
function classify(err: SmtpError): Outcome {
  const response = err.response ?? null
  const code = err.responseCode
  const login = err.code === 'EAUTH' || (err.command ?? '').toUpperCase().startsWith('AUTH')
  if (code !== undefined && code >= 500 && code < 600 && !login) {
    return {
      refused: `${code} ${err.command ?? ''}: ${err.message}`.replace(/\s+/g, ' '),
      response: response ?? '',
    }
  }
  return { later: `${err.code ?? 'error'}: ${err.message}`, response }
}

/**
 * Transport options from `--smtp-url`: smtps:// is TLS from the start (port 465 by default);
 * smtp:// upgrades with STARTTLS when the server offers it (port 587 by default). The user and
 * password of the URL log in.
 */
export function smtpOptions(raw: string, timeoutMs: number): SMTPTransport.Options {
  const url = new URL(raw)
  const secure = url.protocol === 'smtps:'
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  }
}

export interface EmailSink extends ActionSink {
  start(): void
  stop(): Promise<void>
  /** Looks for due digests now (the clock moved). */
  poke(): void
}

/**
 * Emails the people an action names, on the outbox like every sink: for each change of an action
 * (derived from the snapshot it saw last), the first route of `notifications.json` that names it
 * decides who gets a message, and whether now or in the site's daily digest. Each message is
 * rendered once, written to the mail log with its Message-ID, then sent, so that a retry or a
 * restart sends that same message again. `send` returns once the server accepted (or refused for
 * good) every message of the change: only then does the relay move this sink's cursor, and a mail
 * server that is down holds back this sink alone.
 */
export function emailSink(options: EmailOptions): EmailSink {
  const { library, inventory, mailLog, clock, wall, log } = options
  const timeoutMs = options.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS
  const policy = options.retry ?? DEFAULT_RETRY
  const domain = options.from.split('@')[1]?.replace(/[>\s]/g, '') || 'printwarden'
  let transport: Transporter | null = null

  const smtp = (): Transporter => {
    transport ??= nodemailer.createTransport(smtpOptions(options.smtpUrl, timeoutMs))
    return transport
  }

  const siteOf = (siteId: string) => siteOfSite(inventory, siteId)

  const resolve = (
    who: readonly string[],
    action: Action | null,
    siteId: string,
    problems: string[],
  ): string[] => {
    const out: string[] = []
    for (const w of who) {
      if (w === 'site-contact') {
        const contact = (action?.details.addressee as string | undefined) ?? inventory.site(siteId)?.contact
        if (contact) out.push(contact)
        else problems.push(`site ${siteId} has no fleet contact in the inventory`)
      } else if (w === 'service-desk') {
        if (options.serviceDesk) out.push(options.serviceDesk)
      } else out.push(w)
    }
    for (const a of out)
      if (!parsesAsAddress(a)) problems.push(`the address ${JSON.stringify(a)} does not parse`)
    return [...new Set(out)]
  }

  const renderInput = (action: Action, change: DerivedChange): RenderInput =>
    renderInputFor(inventory, action, change)

  const tryRender = (input: RenderInput): Rendered | { error: string } => {
    try {
      return library.render(input)
    } catch (err) {
      return { error: `the message could not be rendered: ${(err as Error).message}` }
    }
  }

  /** The messages and digest items of one action's new snapshot. */
  const plan = (action: Action, previous: Action | null): { mails: NewMail[]; items: DigestItem[] } => {
    const mails: NewMail[] = []
    const items: DigestItem[] = []
    const file = library.file
    for (const change of deriveChanges(previous, action)) {
      const route = routeFor(file, action.type, change.change)
      if (!route) continue
      const problems: string[] = []
      const recipients: Recipients = {
        to: resolve(route.to, action, action.siteId, problems),
        cc: resolve(route.cc, action, action.siteId, problems),
      }
      if (recipients.to.length === 0 && problems.length === 0)
        problems.push('the route names nobody to send to')
      const rendered = tryRender(renderInput(action, change))
      if (route.delivery === 'digest' && problems.length === 0 && !('error' in rendered)) {
        const { zone } = siteOf(action.siteId)
        let slot = digestSlot(Date.parse(action.updatedAt), zone, file.digest.at)
        while (mailLog.digestComposed(action.siteId, slot.day))
          slot = nextDigestSlot(slot, zone, file.digest.at)
        items.push({
          actionId: action.id,
          changeKey: change.key,
          siteId: action.siteId,
          ...slot,
          recipients,
          ...rendered,
        })
        continue
      }
      const error = problems[0] ?? ('error' in rendered ? rendered.error : undefined)
      mails.push({
        messageId: messageId(action.id, change.key, domain),
        actionId: action.id,
        siteId: action.siteId,
        change: change.change,
        template: 'error' in rendered ? '(none)' : rendered.template,
        recipients,
        subject: 'error' in rendered ? '' : rendered.subject,
        text: 'error' in rendered ? '' : rendered.text,
        html: 'error' in rendered ? '' : rendered.html,
        status: error === undefined ? 'pending' : 'failed',
        ...(error === undefined ? {} : { error }),
      })
      if (error !== undefined) {
        log.error(
          { code: 'PW_ERR_MAIL', action: action.id, change: change.key },
          `a message is not sent: ${error}`,
        )
      }
    }
    return { mails, items }
  }

  const attempt = async (m: MailRecord): Promise<Outcome> => {
    try {
      const info = (await smtp().sendMail({
        from: options.from,
        to: m.recipients.to,
        cc: m.recipients.cc,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: m.messageId,
        // The message as it was first written, on every attempt: the same Date too.
        date: new Date(m.createdAt),
        headers: m.actionId ? { 'X-Printwarden-Action': m.actionId } : {},
      })) as { response?: string; rejected?: unknown[] }
      const rejected = (info.rejected ?? []).map(String)
      return { sent: `${info.response ?? ''}${rejected.length ? ` (refused: ${rejected.join(', ')})` : ''}` }
    } catch (err) {
      return classify(err as SmtpError)
    }
  }

  /** Sends pending messages in order; throws at the first that must be tried again later. */
  const deliver = async (pending: readonly MailRecord[]): Promise<void> => {
    for (const m of pending) {
      const outcome = await attempt(m)
      if ('sent' in outcome) {
        mailLog.markSent(m.messageId, wall.now(), outcome.sent)
      } else if ('refused' in outcome) {
        mailLog.markFailed(m.messageId, wall.now(), outcome.refused, outcome.response)
        log.error(
          { code: 'PW_ERR_MAIL', messageId: m.messageId, action: m.actionId, response: outcome.response },
          'the mail server refused a message for good; it is not sent again',
        )
      } else {
        mailLog.noteAttempt(m.messageId, outcome.later, outcome.response)
        throw new Error(`email: ${m.messageId} not sent, tried again later: ${outcome.later}`)
      }
    }
  }

  // Digests: composed when due in the decision clock, then sent, with a backoff of their own.
  let stopped = true
  let digestFailures = 0
  let digestRetry: NodeJS.Timeout | null = null
  let ticker: NodeJS.Timeout | null = null
  const flushDigests = async (): Promise<void> => {
    const now = clock.now()
    const next = mailLog.nextDigestDue()
    if (next !== null && next <= now) {
      for (const due of mailLog.dueDigests(now)) composeDigest(due.siteId, due.day, due.items)
    }
    try {
      await deliver(mailLog.pending(null))
      digestFailures = 0
    } catch (err) {
      digestFailures++
      const retryInMs = retryDelay(digestFailures, policy)
      log.warn(
        { err, sink: 'email', failures: digestFailures, retryInMs },
        'a digest was not sent; it will be retried',
      )
      digestRetry ??= setTimeout(() => {
        digestRetry = null
        digests.request()
      }, retryInMs)
    }
  }
  const digests = new Rerun(
    flushDigests,
    (err) => log.error({ err, sink: 'email' }, 'could not send the digests'),
    () => !stopped && !digestRetry,
  )

  const composeDigest = (siteId: string, day: string, items: readonly DigestItem[]): void => {
    const { lang, zone, name } = siteOf(siteId)
    const problems: string[] = []
    const to = new Set<string>()
    const cc = new Set<string>()
    for (const i of items) {
      for (const a of i.recipients.to) to.add(a)
      for (const a of i.recipients.cc) cc.add(a)
    }
    if (to.size === 0) for (const a of resolve(['site-contact'], null, siteId, problems)) to.add(a)
    const rendered = tryRender({
      lang,
      type: 'digest',
      change: 'digest',
      device: { id: null, label: name, office: null },
      site: { id: siteId, name, zone },
      about: { day: `${day}T12:00:00Z` },
      items: items.map((i) => ({ subject: i.subject, text: i.text, html: i.html })),
    })
    const error = problems[0] ?? ('error' in rendered ? rendered.error : undefined)
    mailLog.composeDigest(
      {
        messageId: digestMessageId(siteId, day, domain),
        actionId: null,
        siteId,
        change: 'digest',
        template: 'error' in rendered ? '(none)' : rendered.template,
        recipients: { to: [...to], cc: [...cc] },
        subject: 'error' in rendered ? '' : rendered.subject,
        text: 'error' in rendered ? '' : rendered.text,
        html: 'error' in rendered ? '' : rendered.html,
        status: error === undefined ? 'pending' : 'failed',
        ...(error === undefined ? {} : { error }),
      },
      siteId,
      day,
      wall.now(),
    )
  }

  return {
    name: 'email',
    retry: policy,
    start() {
      stopped = false
      ticker = setInterval(() => digests.request(), options.digestCheckMs ?? 1000)
      digests.request()
    },
    poke() {
      digests.request()
    },
    async send(action: Action, position: number): Promise<void> {
      const seen = mailLog.seen(action.id)
      // A replay of the outbox (after a crash) brings changes already planned: their messages are
      // in the log as they were first written, and only the pending ones are sent.
      if (!seen || position > seen.position) {
        const { mails, items } = plan(action, seen?.snapshot ?? null)
        mailLog.plan(action, position, mails, items, wall.now())
        if (items.length > 0) digests.request()
      }
      await deliver(mailLog.pending(action.id))
    },
    async stop() {
      stopped = true
      if (ticker) clearInterval(ticker)
      if (digestRetry) clearTimeout(digestRetry)
      await digests.settled()
      transport?.close()
    },
  }
}
