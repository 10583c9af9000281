import { cpSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { deriveChanges, MAIL_CHANGES } from '../../src/domain/mail-changes.ts'
import { renderInputFor } from '../../src/notify/context.ts'
import { NotificationLibrary } from '../../src/notify/library.ts'
import { SAMPLE_ACTIONS, sampleChange } from '../../src/notify/samples.ts'
import { ROOT, tempDir } from '../helpers/service-process.ts'

const SHIPPED = join(ROOT, 'notifications')
const log = pino({ level: 'silent' })
const site = (language: string) => ({
  siteId: 'milano-hq',
  contact: 'm.rossi@example.com',
  language,
  calendar: {
    zone: 'Europe/Rome',
    workingDays: [1, 2, 3, 4, 5],
    workingHours: { start: '08:00', end: '17:00' },
    holidays: [],
  },
})

describe('the shipped notification files', () => {
  it('render a message for every shipped action type, change and language', async () => {
    const library = new NotificationLibrary(SHIPPED, log)
    await library.reload()
    expect(library.failures()).toEqual([])
    expect(library.languages()).toEqual(['en', 'it', 'uk'])
    const changes = MAIL_CHANGES
    let rendered = 0
    for (const lang of library.languages()) {
      const inventory = { site: () => site(lang), device: () => undefined }
      for (const sample of SAMPLE_ACTIONS) {
        for (const change of changes) {
          const after = sampleChange(sample, change)
          const derived = deriveChanges(change === 'created' ? null : sample, after).filter(
            (c) => c.change === change,
          )
          expect(derived.map((d) => d.change)).toEqual([change])
          const message = library.render(renderInputFor(inventory, after, derived[0] as never))
          expect(message.template.startsWith(`${lang}/`)).toBe(true)
          const label = sample.deviceId ? 'SCM-004512' : 'milano-hq'
          expect(message.subject).toContain(label)
          expect(message.text).toContain(label)
          expect(message.html).toContain(`lang="${lang}"`)
          expect(`${message.subject}${message.text}${message.html}`).not.toMatch(/undefined|NaN|\[object/)
          rendered++
        }
      }
    }
    expect(rendered).toBe(3 * SAMPLE_ACTIONS.length * changes.length)
    expect(library.failures()).toEqual([])
  })

  it('writes the providers’ meter request subject in Italian, with due times in the site’s zone', async () => {
    const library = new NotificationLibrary(SHIPPED, log)
    await library.reload()
    const inventory = { site: () => site('it'), device: () => undefined }
    const meter = SAMPLE_ACTIONS.find((a) => a.type === 'meter-request')
    if (!meter) throw new Error('no meter-request sample')
    expect(
      library.render(renderInputFor(inventory, meter, deriveChanges(null, meter)[0] as never)).subject,
    ).toBe('Lettura Contatori ID SCM-004512')
    const fault = sampleChange(SAMPLE_ACTIONS.find((a) => a.type === 'fault') as never, 'sla-breach')
    const breach = deriveChanges(SAMPLE_ACTIONS.find((a) => a.type === 'fault') as never, fault)[0]
    const text = library.render(renderInputFor(inventory, fault, breach as never)).text
    // onSite was due 16:00 UTC: 17:00 in Rome.
    expect(text).toContain('venerdì 20 novembre 2026 alle 17:00')
  })

  it('escapes a value in the HTML part, and not in the text part', async () => {
    const library = new NotificationLibrary(SHIPPED, log)
    await library.reload()
    const inventory = { site: () => site('en'), device: () => undefined }
    const reorder = SAMPLE_ACTIONS.find((a) => a.type === 'reorder') as (typeof SAMPLE_ACTIONS)[number]
    const evil = { ...reorder, details: { ...reorder.details, location: '<script>alert(1)</script>' } }
    const message = library.render(renderInputFor(inventory, evil, deriveChanges(null, evil)[0] as never))
    expect(message.html).not.toContain('<script>')
    expect(message.html).toContain('&lt;script&gt;')
    expect(message.text).toContain('Office: <script>alert(1)</script>')
  })

  it('keeps the last good version of a template that breaks, and reports it', async () => {
    const dir = tempDir()
    cpSync(SHIPPED, dir.path, { recursive: true })
    const library = new NotificationLibrary(dir.path, log)
    await library.start()
    try {
      const inventory = { site: () => site('it'), device: () => undefined }
      const meter = SAMPLE_ACTIONS.find((a) => a.type === 'meter-request') as (typeof SAMPLE_ACTIONS)[number]
      const input = renderInputFor(inventory, meter, deriveChanges(null, meter)[0] as never)
      expect(library.render(input).subject).toBe('Lettura Contatori ID SCM-004512')
      writeFileSync(
        join(dir.path, 'templates/it/meter-request.created.hbs'),
        '{{!-- subject --}}\n{{#if}}broken\n',
      )
      await expectEventually(() =>
        library.failures().some((f) => f.file === 'templates/it/meter-request.created.hbs'),
      )
      const failure = library.failures().find((f) => f.file === 'templates/it/meter-request.created.hbs')
      expect(failure?.running).toBe('the last version that loaded')
      expect(library.render(input).subject).toBe('Lettura Contatori ID SCM-004512')

      // A template that loads but names a message no language has: reported, the last one that rendered is used.
      writeFileSync(
        join(dir.path, 'templates/it/meter-request.created.hbs'),
        '{{!-- subject --}}\n{{t "no-such-message"}}\n{{!-- text --}}\nx\n{{!-- html --}}\nx\n',
      )
      // It loads: the load failure goes; rendering it fails, which is reported in its turn.
      await expectEventually(
        () => !library.failures().some((f) => f.file === 'templates/it/meter-request.created.hbs'),
      )
      expect(library.render(input).subject).toBe('Lettura Contatori ID SCM-004512')
      expect(
        library.failures().find((f) => f.file === 'templates/it/meter-request.created.hbs')?.reason,
      ).toContain('no message "no-such-message"')

      // A broken notifications.json keeps the routes that loaded.
      writeFileSync(join(dir.path, 'notifications.json'), '{ "routes": [ { "types": [] } ] }')
      await expectEventually(() => library.failures().some((f) => f.file === 'notifications.json'))
      expect(library.failures().find((f) => f.file === 'notifications.json')?.reason).toMatch(
        /^notifications\.json: at \/routes\/0/,
      )
      expect(library.file.routes.length).toBeGreaterThan(0)
    } finally {
      library.stop()
      dir.remove()
    }
  })
})

async function expectEventually(check: () => boolean): Promise<void> {
  const until = Date.now() + 5000
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting for the reload')
    await new Promise((r) => setTimeout(r, 20))
  }
}
