/** Writes docs/asyncapi.json from the contract's schemas: `npm run docs:asyncapi` after changing them. */
import { writeFileSync } from 'node:fs'
import { buildAsyncApi } from '../src/contract/asyncapi.ts'

const target = new URL('../docs/asyncapi.json', import.meta.url)
writeFileSync(target, `${JSON.stringify(buildAsyncApi(), null, 2)}\n`)
console.log(`wrote ${target.pathname}`)
