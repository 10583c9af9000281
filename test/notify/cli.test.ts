import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/service-process.ts'

const run = promisify(execFile)
const notify = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/notify/cli.ts'), ...args], { cwd: ROOT })

describe('npm run notify -- preview', () => {
  it('renders a sample action type and change in a language without sending it', async () => {
    const { stdout } = await notify(
      'preview',
      '--type',
      'meter-request',
      '--change',
      'created',
      '--lang',
      'it',
    )
    expect(stdout).toContain('template it/meter-request.created · immediate, to site-contact')
    expect(stdout).toContain('Subject: Lettura Contatori ID SCM-004512')
    expect(stdout).toContain('--- html ---')
  })

  it('says how to call it when neither an action nor a type and change is given', async () => {
    await expect(notify('preview', '--lang', 'it')).rejects.toMatchObject({
      stderr: expect.stringContaining('give --action ID, or --type TYPE --change CHANGE'),
    })
  })
})
