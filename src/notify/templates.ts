/**
 * Message templates: one file per language, action type and change (`templates/it/meter-request.created.hbs`),
 * or per language and change for every type (`templates/it/_any.created.hbs`), and one digest per
 * language (`templates/it/digest.hbs`). A file has three parts, each a Handlebars template, marked by
 * the comments `{{!-- subject --}}`, `{{!-- text --}}` and `{{!-- html --}}`. The HTML part escapes
 * every value (Handlebars' `{{…}}`); the subject and text parts are plain text and do not.
 *
 * Words, plurals, numbers and dates come from the language's ICU messages (`messages/it.json`,
 * formatted by intl-messageformat), through the `t` helper: `{{t "due" due=action.details.dueAt}}`.
 * Dates and times are formatted in the site's zone.
 */
import Handlebars from 'handlebars'
import { IntlMessageFormat } from 'intl-messageformat'

export type Part = 'subject' | 'text' | 'html'
const PARTS: readonly Part[] = ['subject', 'text', 'html']
const MARK = /^\{\{!-- (subject|text|html) --\}\}[ \t]*$/gm

export interface CompiledTemplate {
  /** `it/meter-request.created`: the language and the file's name without `.hbs`. */
  name: string
  render: Record<Part, Handlebars.TemplateDelegate>
}

/** What a message is about, for its template and messages. */
export interface RenderInput {
  lang: string
  type: string
  change: string
  /** The action as the API shows it (a digest: none). */
  action?: Record<string, unknown>
  /** What the change says more: the breached clock, the delivery. */
  about?: Record<string, unknown>
  device: { id: string | null; label: string; office: string | null }
  site: { id: string; name: string; zone: string }
  /** A digest's advisories, each already rendered. */
  items?: { subject: string; text: string; html: string }[]
}

export interface Rendered {
  template: string
  subject: string
  text: string
  html: string
}

const hb = Handlebars.create()

/** Compiles a template file's text; throws with the reason when it is not one. */
export function compileTemplate(name: string, source: string): CompiledTemplate {
  const parts: Partial<Record<Part, string>> = {}
  const marks = [...source.matchAll(MARK)]
  if (marks.length === 0)
    throw new Error(`${name}: no {{!-- subject --}}, {{!-- text --}} or {{!-- html --}} part`)
  for (const [i, m] of marks.entries()) {
    const part = m[1] as Part
    if (parts[part] !== undefined) throw new Error(`${name}: the ${part} part is given twice`)
    const end = marks[i + 1]?.index ?? source.length
    parts[part] = source.slice((m.index ?? 0) + m[0].length, end).replace(/^\n/, '')
  }
  const render = {} as Record<Part, Handlebars.TemplateDelegate>
  for (const part of PARTS) {
    const text = parts[part]
    if (text === undefined) throw new Error(`${name}: the ${part} part is missing`)
    try {
      // compile() parses lazily: parse now, so a broken file is found when it loads.
      hb.parse(text)
    } catch (err) {
      throw new Error(`${name}: the ${part} part: ${(err as Error).message}`)
    }
    render[part] = hb.compile(text, { noEscape: part !== 'html', strict: false })
  }
  return { name, render }
}

export type Messages = ReadonlyMap<string, Readonly<Record<string, string>>>

/** Checks that every message of a language's file is ICU: the reasons of those that are not. */
export function messageProblems(lang: string, messages: Record<string, unknown>): string[] {
  const problems: string[] = []
  for (const [key, value] of Object.entries(messages)) {
    if (typeof value !== 'string') {
      problems.push(`${key}: not a string`)
      continue
    }
    try {
      new IntlMessageFormat(value, lang)
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`)
    }
  }
  return problems
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** ICU values: an ISO time becomes a Date (so `{x, date, long}` works); other values stay. */
function icuValue(v: unknown): unknown {
  if (typeof v === 'string' && ISO.test(v)) return new Date(v)
  return v
}

function formats(zone: string) {
  return {
    date: {
      short: { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: zone },
      medium: { year: 'numeric', month: 'short', day: 'numeric', timeZone: zone },
      long: { year: 'numeric', month: 'long', day: 'numeric', timeZone: zone },
      full: { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: zone },
    },
    time: {
      short: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone },
      medium: {
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        second: undefined,
        timeZone: zone,
        timeZoneName: 'short',
      },
      long: {
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        second: undefined,
        timeZone: zone,
        timeZoneName: 'short',
      },
      full: {
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        second: undefined,
        timeZone: zone,
        timeZoneName: 'long',
      },
    },
  } as const
}

/** Parsed messages, by language, zone and pattern: parsing is most of the cost of formatting one. */
const formatters = new Map<string, IntlMessageFormat>()
const MAX_FORMATTERS = 10_000

function formatter(
  pattern: string,
  lang: string,
  zone: string,
  fmt: ReturnType<typeof formats>,
): IntlMessageFormat {
  const key = `${lang}\u0000${zone}\u0000${pattern}`
  let f = formatters.get(key)
  if (!f) {
    if (formatters.size >= MAX_FORMATTERS) formatters.clear()
    f = new IntlMessageFormat(pattern, lang, fmt as never)
    formatters.set(key, f)
  }
  return f
}

/** The flat values every message may name: the device, the site, and the action's details and change. */
export function messageValues(input: RenderInput): Record<string, unknown> {
  const details = (input.action?.details ?? {}) as Record<string, unknown>
  const flat: Record<string, unknown> = {}
  for (const source of [details, input.about ?? {}]) {
    for (const [k, v] of Object.entries(source))
      if (v === null || typeof v !== 'object') flat[k] = icuValue(v)
  }
  const ticket = details.ticket as { dueDates?: Record<string, string> } | undefined
  for (const [clock, at] of Object.entries(ticket?.dueDates ?? {})) flat[`${clock}Due`] = icuValue(at)
  const about = input.about ?? {}
  const pick = (...keys: string[]) => {
    for (const k of keys) if (typeof about[k] === 'string' || typeof about[k] === 'number') return about[k]
    return ''
  }
  return {
    ...flat,
    actionId: input.action?.id ?? '',
    tracking: pick('trackingNumber', 'tracking', 'trackingId'),
    carrier: pick('carrier'),
    label: input.device.label,
    office: input.device.office ?? '',
    device: input.device.id ?? '',
    site: input.site.name,
    type: input.type,
    change: input.change,
    // An order or a call a person made (it names who), or one a rule made: messages say which.
    origin: typeof details.requestedBy === 'string' ? 'person' : 'rule',
    count: input.items?.length ?? 0,
    createdAt: icuValue(input.action?.createdAt),
    updatedAt: icuValue(input.action?.updatedAt),
  }
}

/**
 * Renders one message with a template, the language's messages and the site's zone. Throws when a
 * part does not render (a message it names is missing or lacks a value, a helper fails).
 */
export function renderWith(template: CompiledTemplate, messages: Messages, input: RenderInput): Rendered {
  const own = messages.get(input.lang) ?? {}
  const values = messageValues(input)
  const fmt = formats(input.site.zone)
  const format = (key: string, extra: Record<string, unknown>): string => {
    const pattern = own[key]
    if (pattern === undefined) throw new Error(`no message "${key}" in messages/${input.lang}.json`)
    const all = { ...values }
    for (const [k, v] of Object.entries(extra)) all[k] = icuValue(v)
    return String(formatter(pattern, input.lang, input.site.zone, fmt).format(all as Record<string, never>))
  }
  /** The first of these keys the language has: a type's own wording, or the change's. */
  const first = (...keys: string[]): string | undefined => keys.find((k) => own[k] !== undefined)
  const title = first(`${input.type}.${input.change}.subject`, `${input.change}.subject`)
  const summary = first(`${input.type}.${input.change}.body`, `${input.change}.body`)
  const typeName = first(`type.${input.type}`)
  const due = (input.action?.details as { ticket?: { dueDates?: Record<string, string> } } | undefined)
    ?.ticket?.dueDates
  const about = input.about ?? {}
  const context = {
    ...input,
    dues: Object.entries(due ?? {}).map(([clock, at]) => ({ clock, at })),
    tracking: values.tracking,
    carrier: values.carrier,
    expected: typeof about.expectedDelivery === 'string' ? about.expectedDelivery : null,
    title: title === undefined ? '' : format(title, {}),
    summary: summary === undefined ? '' : format(summary, {}),
    typeName: typeName === undefined ? input.type : format(typeName, {}),
    items: input.items?.map((i) => ({ ...i, html: new hb.SafeString(i.html) })),
  }
  const helpers = {
    t: (key: unknown, options: { hash?: Record<string, unknown> }) =>
      format(String(key), options?.hash ?? {}),
  }
  const out = {} as Record<Part, string>
  for (const part of PARTS) {
    try {
      out[part] = template.render[part](context, { helpers })
    } catch (err) {
      throw new Error(`${template.name}: the ${part} part does not render: ${(err as Error).message}`)
    }
  }
  const subject = out.subject.replace(/\s+/g, ' ').trim()
  if (subject === '') throw new Error(`${template.name}: the subject is empty`)
  return { template: template.name, subject, text: `${out.text.trim()}\n`, html: out.html.trim() }
}
