#!/usr/bin/env node
/**
 * `npm run accounts -- add NAME --role ROLE [--site ID]... [--customer ID] [--grant FILTER]...`,
 * `list`, `remove NAME`, `rotate NAME`. A new token is printed once, alone on the last line; the
 * running service takes the change without a restart.
 */
import { writeFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { buildConfig, envName, readConfigFile } from '../config/config.ts'
import { PrintwardenError } from '../errors.ts'
import { AccountBook, ROLES, type Role } from './accounts.ts'

const collect = (value: string, previous: string[]) => [...previous, value]

/** The data directory as `npm start` finds it: --data-dir, PRINTWARDEN_DATA_DIR, the config file, ./data. */
function book(opts: { dataDir?: string; config?: string }): AccountBook {
  const configFile = opts.config ?? process.env.PRINTWARDEN_CONFIG
  const config = buildConfig({
    env: process.env,
    flags: opts.dataDir ? { dataDir: opts.dataDir } : {},
    ...(configFile ? { file: readConfigFile(configFile), fileName: configFile } : {}),
  })
  return new AccountBook(config.dataDir)
}

const program = new Command()
  .name('accounts')
  .description('Manages the accounts of a printwarden data directory (CONTRACT.md, Access).')
const common = (c: Command) =>
  c
    .option('--data-dir <dir>', `the service's data directory [./data] (${envName('data-dir')})`)
    .option('--config <file>', 'the service config file, for its data-dir')

common(program.command('add <name>'))
  .description('makes an account and prints its token once, alone on the last line')
  .addOption(new Option('--role <role>', 'its role').choices(ROLES).makeOptionMandatory())
  .option('--site <id>', 'a site it serves (repeat for more)', collect, [])
  .option('--customer <id>', 'the customer of a customer-admin or customer-user')
  .option('--grant <filter>', 'a further MQTT topic filter, + and # allowed (repeat for more)', collect, [])
  .option('--device <id>', 'a customer-user: a device assigned to it (repeat for more)', collect, [])
  .option('--group <id>', 'a customer-user: a device group assigned to it (repeat for more)', collect, [])
  .option(
    '--if-missing',
    'do nothing if the account exists already (for a deployment that runs at every start)',
  )
  .option(
    '--token-file <file>',
    'write the token to this file (mode 600) instead of printing it: for a deployment handing it to a program',
  )
  .action(async (name: string, opts) => {
    const accounts = book(opts)
    await accounts.load()
    if (opts.ifMissing && accounts.get(name)) {
      console.log(`account ${name} exists already: nothing changed`)
      return
    }
    const { account, token } = await accounts.add({
      name,
      role: opts.role as Role,
      sites: opts.site,
      ...(opts.customer ? { customer: opts.customer } : {}),
      grants: opts.grant,
      devices: opts.device,
      groups: opts.group,
    })
    if (opts.tokenFile) {
      writeFileSync(opts.tokenFile, `${token}\n`, { mode: 0o600 })
      console.log(`account ${account.name} (${account.role}) made; its token is in ${opts.tokenFile}`)
      return
    }
    console.log(`account ${account.name} (${account.role}) made; its token, shown only now:`)
    console.log(token)
  })

common(program.command('list'))
  .description('lists the accounts (never their tokens)')
  .action(async (opts) => {
    const b = book(opts)
    await b.load()
    for (const a of b.list()) {
      const where = [
        a.sites.length > 0 ? `sites ${a.sites.join(',')}` : '',
        a.customer ? `customer ${a.customer}` : '',
        a.grants.length > 0 ? `grants ${a.grants.join(' ')}` : '',
        a.devices.length > 0 ? `devices ${a.devices.join(',')}` : '',
        a.groups.length > 0 ? `groups ${a.groups.join(',')}` : '',
      ].filter((x) => x !== '')
      console.log(
        `${a.name}\t${a.role}\t${where.join('; ')}\tcreated ${a.createdAt}, token of ${a.rotatedAt}`,
      )
    }
  })

common(program.command('remove <name>'))
  .description('removes an account; its MQTT clients are disconnected')
  .action(async (name: string, opts) => {
    await book(opts).remove(name)
    console.log(`account ${name} removed`)
  })

common(program.command('rotate <name>'))
  .description('gives an account a new token, printed alone on the last line; the old one stops working')
  .action(async (name: string, opts) => {
    const { account, token } = await book(opts).rotate(name)
    console.log(`account ${account.name}: new token, shown only now:`)
    console.log(token)
  })

program.parseAsync().catch((err: unknown) => {
  if (err instanceof PrintwardenError) console.error(`accounts: ${err.code}: ${err.message}`)
  else console.error('accounts:', err)
  process.exit(1)
})
