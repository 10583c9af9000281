#!/usr/bin/env node
// Compiles src/ to dist/ (tsconfig.build.json), for `npm start` to run with plain node.
// `--if-stale` builds only when a source is newer than the last build, so `npm start` never runs
// stale code and costs nothing when the build is current.
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const stamp = join(root, 'dist', '.built')

function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

function builtAt() {
  try {
    return statSync(stamp).mtimeMs
  } catch {
    return 0
  }
}

const sources = Math.max(
  newest(join(root, 'src')),
  statSync(join(root, 'tsconfig.json')).mtimeMs,
  statSync(join(root, 'tsconfig.build.json')).mtimeMs,
)
if (process.argv.includes('--if-stale') && builtAt() >= sources) process.exit(0)
console.error('printwarden: compiling src/ to dist/ …')
try {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
    {
      stdio: 'inherit',
    },
  )
} catch {
  console.error('printwarden: the build failed (above); `npm run dev` runs the sources without a build')
  process.exit(1)
}
writeFileSync(stamp, `${new Date().toISOString()}\n`)
