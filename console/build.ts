/**
 * Builds the console into console/dist: one bundled script (Preact and the app, by esbuild), the
 * page and its style. `npm run build:console`, which `npm ci` runs through `prepare`.
 */
import { copyFileSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'

const here = resolve(import.meta.dirname)
const dist = join(here, 'dist')

export async function buildConsole(): Promise<void> {
  mkdirSync(dist, { recursive: true })
  await build({
    entryPoints: [join(here, 'src/main.tsx')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outfile: join(dist, 'app.js'),
    logLevel: 'warning',
  })
  for (const file of ['index.html', 'style.css']) copyFileSync(join(here, file), join(dist, file))
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await buildConsole()
