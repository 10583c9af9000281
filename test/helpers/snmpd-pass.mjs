// A pass_persist program for Debian's snmpd (the test helper snmpd.ts starts it): it serves the
// OIDs of a JSON file, read again at every request, so a test changes what the agent says by
// rewriting the file. Protocol: snmpd.conf(5), "pass_persist".
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

const file = process.argv[2]
const parse = (oid) => oid.replace(/^\./, '').split('.').map(Number)
const compare = (a, b) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}
function table() {
  const rows = JSON.parse(readFileSync(file, 'utf8'))
  return rows
    .map(([oid, type, value]) => ({ oid: parse(oid), type, value }))
    .sort((x, y) => compare(x.oid, y.oid))
}
const answer = (row) => `.${row.oid.join('.')}\n${row.type}\n${row.value}\n`
const lines = []
createInterface({ input: process.stdin }).on('line', (line) => {
  lines.push(line.trim())
  const cmd = lines[0]
  if (cmd === 'PING') {
    lines.length = 0
    process.stdout.write('PONG\n')
  } else if ((cmd === 'get' || cmd === 'getnext') && lines.length === 2) {
    const oid = parse(lines[1])
    lines.length = 0
    const rows = table()
    const row =
      cmd === 'get' ? rows.find((r) => compare(r.oid, oid) === 0) : rows.find((r) => compare(r.oid, oid) > 0)
    process.stdout.write(row ? answer(row) : 'NONE\n')
  } else if (cmd === 'set' && lines.length === 3) {
    lines.length = 0
    process.stdout.write('not-writable\n')
  } else if (cmd !== 'get' && cmd !== 'getnext' && cmd !== 'set') lines.length = 0
})
