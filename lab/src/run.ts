// `npm run lab [-- --quick] [-- --runs=N]`: runs every implemented lab scenario, prints a table and
// writes docs/lab.md (results, the exact command, the machine).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { labAvailable } from './topology.js'
import { sweepStale } from './names.js'
import { natTraversalRun } from './scenarios/nat-traversal.js'
import type { NatRunResult } from './scenarios/nat-traversal.js'
import { lossTruth } from './scenarios/loss-truth.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const runs = Number(argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? (quick ? 3 : 20))
const write = (s: string): boolean => process.stdout.write(s + '\n')

const why = labAvailable()
if (why != null) {
  write(`lab: cannot run here: ${why}`)
  process.exit(1)
}
const swept = sweepStale()
if (swept.length > 0) write(`lab: removed ${swept.length} namespaces left by dead runs`)

const started = new Date()
const lines: string[] = []
const emit = (s = ''): void => {
  write(s)
  lines.push(s)
}

emit(`## 1. NAT traversal (${runs} runs)`)
emit('')
emit('| run | reservations | reachability A/B (ground truth) | AutoNAT answer A/B | relay | relayed | direct (DCUtR) | direct addr | msg on direct | hole punch ms | failure |')
emit('|---|---|---|---|---|---|---|---|---|---|---|')
const results: NatRunResult[] = []
for (let i = 1; i <= runs; i++) {
  const r = await natTraversalRun()
  results.push(r)
  emit(`| ${i} | ${r.reservations ? 'yes' : 'no'} | ${r.autonatNodes.join(' / ')} | ${r.autonatAnswers.join(' / ')} | ${r.autonatRelay} | ${r.relayed ? 'yes' : 'no'} | ${r.direct ? 'yes' : 'no'} | ${r.directAddr ?? ''} | ${r.messageOnDirect ? 'yes' : 'no'} | ${r.holePunchMs ?? ''} | ${(r.failure ?? '').replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 200)} |`)
}
const punched = results.filter((r) => r.direct && r.messageOnDirect).length
emit('')
emit(`Hole-punch success: ${punched}/${runs} (${((punched / runs) * 100).toFixed(0)}%)`)
emit('')

const samples = quick ? 4_000 : 20_000
emit(`## 2. Packet loss truth (link level, ${samples} UDP datagrams per setting) and tbf`)
emit('')
const lt = await lossTruth({ samples })
emit('| configured drop | measured | tolerance | ok |')
emit('|---|---|---|---|')
for (const r of lt.loss) emit(`| ${(r.configured * 100).toFixed(0)}% | ${(r.measured * 100).toFixed(2)}% | ±${(r.tolerance * 100).toFixed(2)} pp | ${r.ok ? 'yes' : 'NO'} |`)
emit('')
emit('| tbf rate | measured TCP goodput | ok (±10%) |')
emit('|---|---|---|')
for (const r of lt.rate) emit(`| ${r.rate} | ${(r.measured / 1e6).toFixed(2)} Mbit/s | ${r.ok ? 'yes' : 'NO'} |`)
emit('')
emit('Scenarios 3-5 (partition and heal, relay restart, crash safety) need the node apps: not implemented yet.')

const cmd = `npm run lab${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
const doc = [
  '# Network lab results',
  '',
  `Produced by \`${cmd}\` on ${started.toISOString()}, ${os.hostname()}: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}, Node ${process.version}.`,
  'How the lab works and what these figures mean: lab/README.md.',
  '',
  ...lines,
  '',
].join('\n')
fs.mkdirSync(path.join(root, 'docs'), { recursive: true })
fs.writeFileSync(path.join(root, 'docs/lab.md'), doc)
write(`\nwrote docs/lab.md`)
const allOk = punched === runs && lt.loss.every((r) => r.ok) && lt.rate.every((r) => r.ok)
process.exit(allOk ? 0 : 1)
