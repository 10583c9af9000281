import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { configError } from '../errors.ts'
import { FolderWatch } from '../rules/folder-watch.ts'
import { type NotificationsFile, parseNotificationsFile } from './notification-file.ts'
import {
  type CompiledTemplate,
  compileTemplate,
  type Messages,
  messageProblems,
  type Rendered,
  type RenderInput,
  renderWith,
} from './templates.ts'

export const NOTIFICATIONS_FILE = 'notifications.json'
/** The language of a site whose inventory record names none, and of one whose templates are missing. */
export const DEFAULT_LANGUAGE = 'en'

export interface NotificationFailure {
  file: string
  code: 'PW_ERR_NOTIFICATION_FILE' | 'PW_ERR_TEMPLATE'
  reason: string
  /** Set when an earlier version of the file loaded and keeps being used. */
  running?: string
}

interface TemplateSlot {
  current: CompiledTemplate
  /** The last version that rendered a message: used while the current one does not render. */
  lastRendered: CompiledTemplate | null
}

/**
 * The notification files of a folder, kept current like the rule files: `notifications.json` (who
 * is mailed about what), `messages/<lang>.json` (ICU messages) and `templates/<lang>/*.hbs`. Loaded
 * at start and whenever a file changes; a file whose new version is broken is reported, and its last
 * good version stays in use. A template that loads but does not render a message is reported too,
 * and the version of it that last rendered one is used.
 */
export class NotificationLibrary {
  private routes: NotificationsFile | null = null
  private messages = new Map<string, Record<string, string>>()
  private templates = new Map<string, TemplateSlot>()
  private loadFailures: NotificationFailure[] = []
  private renderFailures = new Map<string, NotificationFailure>()
  private readonly watch: FolderWatch

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {
    this.watch = new FolderWatch(dir, () => this.reload(), log, 'notification files', true)
  }

  async start(): Promise<void> {
    const found = await stat(this.dir).catch(() => null)
    if (!found?.isDirectory()) {
      throw configError(
        `--notifications-dir ${this.dir} is not a folder; copy the shipped notifications/ there`,
      )
    }
    await this.reload()
    this.watch.start()
  }

  stop(): void {
    this.watch.stop()
  }

  settled(): Promise<void> {
    return this.watch.settled()
  }

  get file(): NotificationsFile {
    return this.routes ?? { digest: { at: '08:00' }, routes: [] }
  }

  languages(): string[] {
    return [...this.messages.keys()].sort()
  }

  templateNames(): string[] {
    return [...this.templates.keys()].sort()
  }

  failures(): NotificationFailure[] {
    return [...this.loadFailures, ...this.renderFailures.values()]
  }

  async reload(): Promise<void> {
    const failures: NotificationFailure[] = []
    const known = new Set(this.failures().map((f) => f.reason))

    const routesText = await readFile(join(this.dir, NOTIFICATIONS_FILE), 'utf8').catch((err: Error) => err)
    const routes =
      routesText instanceof Error
        ? { ok: false as const, reason: `${NOTIFICATIONS_FILE}: cannot be read: ${routesText.message}` }
        : parseNotificationsFile(NOTIFICATIONS_FILE, routesText)
    if (routes.ok) this.routes = routes.value
    else
      failures.push(
        this.failure(NOTIFICATIONS_FILE, 'PW_ERR_NOTIFICATION_FILE', routes.reason, !!this.routes),
      )

    const messages = new Map<string, Record<string, string>>()
    for (const name of await listFiles(join(this.dir, 'messages'), '.json')) {
      const lang = name.slice(0, -'.json'.length)
      const file = `messages/${name}`
      const parsed = await readFile(join(this.dir, file), 'utf8')
        .then((t) => JSON.parse(t) as unknown)
        .catch((err: Error) => err)
      const problems =
        parsed instanceof Error
          ? [parsed.message]
          : typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)
            ? ['not a JSON object of messages']
            : messageProblems(lang, parsed as Record<string, unknown>)
      if (problems.length === 0) messages.set(lang, parsed as Record<string, string>)
      else {
        const last = this.messages.get(lang)
        if (last) messages.set(lang, last)
        failures.push(this.failure(file, 'PW_ERR_NOTIFICATION_FILE', `${file}: ${problems[0]}`, !!last))
      }
    }
    this.messages = messages

    const templates = new Map<string, TemplateSlot>()
    for (const lang of await listDirs(join(this.dir, 'templates'))) {
      for (const name of await listFiles(join(this.dir, 'templates', lang), '.hbs')) {
        const id = `${lang}/${name.slice(0, -'.hbs'.length)}`
        const file = `templates/${lang}/${name}`
        const before = this.templates.get(id)
        try {
          const source = await readFile(join(this.dir, file), 'utf8')
          const compiled = compileTemplate(id, source)
          templates.set(id, { current: compiled, lastRendered: before?.lastRendered ?? null })
          this.renderFailures.delete(id)
        } catch (err) {
          if (before) templates.set(id, before)
          failures.push(this.failure(file, 'PW_ERR_TEMPLATE', (err as Error).message, !!before))
        }
      }
    }
    this.templates = templates

    for (const f of failures) {
      if (!known.has(f.reason))
        this.log.error({ code: f.code, file: f.file, running: f.running ?? 'nothing' }, f.reason)
    }
    this.loadFailures = failures
    this.log.info(
      { languages: this.languages(), templates: templates.size, failed: failures.length },
      'notification files loaded',
    )
  }

  private failure(
    file: string,
    code: NotificationFailure['code'],
    reason: string,
    running: boolean,
  ): NotificationFailure {
    return { file, code, reason, ...(running ? { running: 'the last version that loaded' } : {}) }
  }

  /** The template for a type and change in a language: its own, or the change's for every type; English if the language has neither. */
  templateFor(lang: string, type: string, change: string): string | null {
    for (const l of lang === DEFAULT_LANGUAGE ? [lang] : [lang, DEFAULT_LANGUAGE]) {
      for (const id of [`${l}/${type}.${change}`, `${l}/_any.${change}`])
        if (this.templates.has(id)) return id
    }
    return null
  }

  /**
   * Renders a message. A template that does not render is reported (in `failures()` and the log)
   * and the version of it that last rendered is used; with none, this throws with the reason.
   */
  render(input: RenderInput): Rendered {
    const id =
      input.change === 'digest'
        ? this.digestTemplate(input.lang)
        : this.templateFor(input.lang, input.type, input.change)
    if (id === null)
      throw new Error(`no template for ${input.type} ${input.change} in ${input.lang} or ${DEFAULT_LANGUAGE}`)
    const slot = this.templates.get(id) as TemplateSlot
    const lang = id.slice(0, id.indexOf('/'))
    const messages: Messages = this.messages
    try {
      const out = renderWith(slot.current, messages, { ...input, lang })
      slot.lastRendered = slot.current
      return out
    } catch (err) {
      const reason = (err as Error).message
      const fallback = slot.lastRendered && slot.lastRendered !== slot.current ? slot.lastRendered : null
      if (!this.renderFailures.has(id) || this.renderFailures.get(id)?.reason !== reason) {
        this.log.error(
          {
            code: 'PW_ERR_TEMPLATE',
            template: id,
            running: fallback ? 'the last version that rendered' : 'nothing',
          },
          reason,
        )
      }
      this.renderFailures.set(id, {
        file: `templates/${id}.hbs`,
        code: 'PW_ERR_TEMPLATE',
        reason,
        ...(fallback ? { running: 'the last version that rendered' } : {}),
      })
      if (!fallback) throw err
      return renderWith(fallback, messages, { ...input, lang })
    }
  }

  private digestTemplate(lang: string): string | null {
    for (const id of [`${lang}/digest`, `${DEFAULT_LANGUAGE}/digest`]) if (this.templates.has(id)) return id
    return null
  }
}

async function listFiles(dir: string, ext: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(ext) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
}

async function listDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
}
