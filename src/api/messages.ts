import { Type } from '@sinclair/typebox'
import { ROLES_OF } from '../access/http.ts'
import { MailMessageView } from '../contract/schemas.ts'
import { notFound } from '../errors.ts'
import type { MailRecord } from '../store/sqlite/mail-log.ts'
import type { App, AppDeps } from './app.ts'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function mailView(m: MailRecord): MailMessageView {
  return {
    messageId: m.messageId,
    change: m.change,
    template: m.template,
    to: m.recipients.to,
    cc: m.recipients.cc,
    subject: m.subject,
    status: m.status,
    attempts: m.attempts,
    createdAt: iso(m.createdAt) as string,
    sentAt: iso(m.sentAt),
    response: m.response,
    ...(m.error === undefined ? {} : { error: m.error }),
  }
}

/** The emails sent (or trying to be) about an action: its own, and the digests it went into. */
export const messageRoutes = (deps: AppDeps) => async (app: App) => {
  app.get(
    '/actions/:id/messages',
    {
      config: { roles: ROLES_OF.read },
      schema: {
        params: Type.Object({ id: Type.String({ minLength: 1 }) }),
        response: { 200: Type.Object({ items: Type.Array(MailMessageView) }) },
      },
    },
    async (request) => {
      const action = await deps.store.action(request.params.id, request.scope)
      if (!action) throw notFound(`action ${request.params.id}`)
      return { items: (deps.mailMessages?.(action.id) ?? []).map(mailView) }
    },
  )
}
