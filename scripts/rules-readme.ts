/** Writes the subject and fact tables of rules/README.md from the declarations in src/subjects/. */
import { readFileSync, writeFileSync } from 'node:fs'
import { withTables } from '../src/subjects/docs.ts'

const path = new URL('../rules/README.md', import.meta.url)
const before = readFileSync(path, 'utf8')
const after = withTables(before)
writeFileSync(path, after)
console.log(before === after ? 'rules/README.md: tables already current' : 'rules/README.md: tables written')
