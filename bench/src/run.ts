// `npm run bench`: runs every suite, prints a table, writes JSON (bench/results/latest.json).
// `--quick` runs each loop for milliseconds so the test command proves the harness still works.
import '@cpc/observability/node-compat'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { machine, table, type Row } from './harness.js'
import { protocolBench } from './protocol.bench.js'

const quick = process.argv.includes('--quick')
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

const started = Date.now()
const rows: Row[] = [...(await protocolBench({ quick }))]
const result = { when: new Date().toISOString(), command: `npm run bench${quick ? ' -- --quick' : ''}`, quick, machine: machine(), seconds: (Date.now() - started) / 1000, rows }

console.log(table(rows))
const out = path.join(root, 'bench/results', quick ? 'quick.json' : 'latest.json')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
console.log(`\n${rows.length} rows in ${result.seconds.toFixed(1)} s; JSON: ${path.relative(root, out)}`)
const bad = rows.filter((r) => !Number.isFinite(r.value) || r.value <= 0)
if (bad.length) {
  console.error(`bench: rows without a figure: ${bad.map((r) => r.id).join(', ')}`)
  process.exit(1)
}
