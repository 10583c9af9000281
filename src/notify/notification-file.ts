import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { MAIL_CHANGES } from '../domain/mail-changes.ts'

/**
 * Who gets a message: `site-contact` (the action's addressee, the site's fleet contact from the
 * inventory), `service-desk` (the provider's, `--service-desk`), or an address written out.
 */
const Addressee = Type.String({ minLength: 1, maxLength: 256 })

export const NotificationRoute = Type.Object(
  {
    /** Action types, or `*` for any. */
    types: Type.Array(Type.String({ pattern: '^(\\*|[a-z][a-z0-9-]{0,63})$' }), { minItems: 1 }),
    changes: Type.Array(Type.Union(MAIL_CHANGES.map((c) => Type.Literal(c))), { minItems: 1 }),
    to: Type.Array(Addressee, { minItems: 1, default: ['site-contact'] }),
    cc: Type.Array(Addressee, { default: [] }),
    /** `immediate`: a message per change. `digest`: one message per site and day with all of them. */
    delivery: Type.Union([Type.Literal('immediate'), Type.Literal('digest')], { default: 'immediate' }),
  },
  { additionalProperties: false },
)
export type NotificationRoute = Static<typeof NotificationRoute>

/** `notifications.json`: which change of which action mails whom, and when the daily digest goes out. */
export const NotificationsFile = Type.Object(
  {
    description: Type.Optional(Type.String()),
    digest: Type.Object(
      {
        /** Local time in each site's zone (its calendar's; UTC without one), HH:mm. */
        at: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', default: '08:00' }),
      },
      { additionalProperties: false, default: { at: '08:00' } },
    ),
    /** The first route that names an action's type (or `*`) and the change decides; none: no message. */
    routes: Type.Array(NotificationRoute),
  },
  { additionalProperties: false },
)
export type NotificationsFile = Static<typeof NotificationsFile>

const check = TypeCompiler.Compile(NotificationsFile)

/** Parses and checks the text of a notifications file: the file and JSON path of the problem, or the file. */
export function parseNotificationsFile(
  file: string,
  text: string,
): { ok: true; value: NotificationsFile } | { ok: false; reason: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { ok: false, reason: `${file}: not valid JSON: ${(err as Error).message}` }
  }
  json = Value.Default(NotificationsFile, json)
  if (!check.Check(json)) {
    const e = check.Errors(json).First()
    return { ok: false, reason: `${file}: at ${e?.path || '/'}: ${e?.message ?? 'not a notifications file'}` }
  }
  return { ok: true, value: json }
}

/** The route for a change of an action of this type, or null when nobody is mailed about it. */
export function routeFor(file: NotificationsFile, type: string, change: string): NotificationRoute | null {
  return (
    file.routes.find(
      (r) => (r.types.includes(type) || r.types.includes('*')) && (r.changes as string[]).includes(change),
    ) ?? null
  )
}
