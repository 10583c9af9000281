#!/usr/bin/env node
/**
 * `npm run backup -- DIR [--data-dir D] [--config FILE]`: a consistent copy of the data directory
 * into DIR, while the service runs. Restore: README, "Backup and restore".
 */
import { Command } from 'commander'
import { buildConfig, readConfigFile } from '../../config/config.ts'
import { PrintwardenError } from '../../errors.ts'
import { backupDataDir } from './backup.ts'

const program = new Command()
  .name('printwarden-backup')
  .description("Copies the service's data directory into DIR while it runs (SQLite's online backup).")
  .argument('<dir>', 'a new or empty directory for the backup')
  .option('--data-dir <dir>', 'the data directory, as for npm start (PRINTWARDEN_DATA_DIR)')
  .option('--config <file>', 'the JSON config file of the service (PRINTWARDEN_CONFIG)')
  .parse()

async function main(): Promise<void> {
  const opts = program.opts<{ dataDir?: string; config?: string }>()
  const configFile = opts.config ?? process.env.PRINTWARDEN_CONFIG
  const config = buildConfig({
    env: process.env,
    ...(configFile ? { file: readConfigFile(configFile), fileName: configFile } : {}),
    flags: opts.dataDir === undefined ? {} : { dataDir: opts.dataDir },
  })
  const report = await backupDataDir(config.dataDir, program.args[0] as string)
  console.log(
    `backed up ${config.dataDir} to ${report.target}: ${report.files.join(', ')} (${report.readings} readings, ${report.actions} actions)`,
  )
}

main().catch((err: unknown) => {
  if (err instanceof PrintwardenError) console.error(`printwarden backup: ${err.code}: ${err.message}`)
  else console.error('printwarden backup failed:', err)
  process.exit(1)
})
