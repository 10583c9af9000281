/**
 * `npm run notify -- preview --action ID [--change CHANGE]`: renders the messages an action of the
 * data directory gets (or would get), as the email sink would, without sending anything.
 * `npm run notify -- preview --type TYPE --change CHANGE --lang LANG`: renders a shipped sample.
 */
import { Command } from 'commander'
import pino from 'pino'
import type { Action } from '../contract/schemas.ts'
import { type DerivedChange, deriveChanges, MAIL_CHANGES } from '../domain/mail-changes.ts'
import { InventoryBook } from '../inventory/inventory.ts'
import { SqliteStore } from '../store/sqlite/sqlite-store.ts'
import { renderInputFor } from './context.ts'
import { NotificationLibrary } from './library.ts'
import { routeFor } from './notification-file.ts'
import { SAMPLE_ACTIONS, sampleChange } from './samples.ts'
import type { Rendered } from './templates.ts'

function print(change: string, route: string, r: Rendered): void {
  process.stdout.write(
    `=== ${change} · template ${r.template} · ${route}\nSubject: ${r.subject}\n\n${r.text}\n--- html ---\n${r.html}\n\n`,
  )
}

const program = new Command('notify').description('email notifications')
program
  .command('preview')
  .description('render a message without sending it')
  .option('--action <id>', 'an action of --data-dir')
  .option('--type <type>', 'a sample action of this type')
  .option('--change <change>', `one of ${MAIL_CHANGES.join(', ')}`)
  .option('--lang <lang>', 'with --type: the language', 'en')
  .option('--data-dir <dir>', 'the service data directory', './data')
  .option('--notifications-dir <dir>', 'the notification files', './notifications')
  .action(async (opts: Record<string, string | undefined>) => {
    const log = pino({ level: 'warn' }, pino.destination(2))
    const library = new NotificationLibrary(opts.notificationsDir as string, log)
    await library.reload()
    let action: Action
    let changes: DerivedChange[]
    const lookup = { site: () => undefined, device: () => undefined } as Pick<
      InventoryBook,
      'site' | 'device'
    >
    let inventory: Pick<InventoryBook, 'site' | 'device'> = lookup
    if (opts.action) {
      const store = new SqliteStore(opts.dataDir as string, false)
      await store.start()
      const found = await store.action(opts.action)
      await store.stop()
      if (!found) throw new Error(`no action ${opts.action} in ${opts.dataDir}`)
      action = found
      const book = new InventoryBook(opts.dataDir as string)
      await book.load()
      inventory = book
      changes = deriveChanges(null, action).filter((c) => !opts.change || c.change === opts.change)
      if (opts.change && changes.length === 0)
        changes = [{ change: opts.change as never, key: opts.change, about: {} }]
    } else if (opts.type && opts.change) {
      const sample = SAMPLE_ACTIONS.find((a) => a.type === opts.type)
      if (!sample)
        throw new Error(
          `no sample action of type ${opts.type}; known: ${SAMPLE_ACTIONS.map((a) => a.type).join(', ')}`,
        )
      const lang = opts.lang as string
      inventory = {
        site: (id: string) => ({
          siteId: id,
          contact: 'm.rossi@example.com',
          language: lang,
          calendar: {
            zone: 'Europe/Rome',
            workingDays: [1, 2, 3, 4, 5],
            workingHours: { start: '08:00', end: '17:00' },
            holidays: [],
          },
        }),
        device: () => undefined,
      }
      const before = sample
      action = sampleChange(sample, opts.change)
      changes = deriveChanges(opts.change === 'created' ? null : before, action).filter(
        (c) => c.change === opts.change,
      )
    } else {
      throw new Error('give --action ID, or --type TYPE --change CHANGE [--lang LANG]')
    }
    for (const change of changes) {
      const route = routeFor(library.file, action.type, change.change)
      const routeText = route
        ? `${route.delivery}, to ${route.to.join(', ')}${route.cc.length ? `, cc ${route.cc.join(', ')}` : ''}`
        : 'no route: not sent'
      print(change.key, routeText, library.render(renderInputFor(inventory, action, change)))
    }
    for (const f of library.failures()) process.stderr.write(`${f.code} ${f.reason}\n`)
  })

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exit(1)
})
