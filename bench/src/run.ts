// `npm run bench`: runs every suite, prints a table, writes JSON (bench/results/latest.json) and, on a
// full run of every suite, regenerates docs/benchmarks.md.
//   --quick        seconds, tiny sizes and few nodes (part of npm test so the harness cannot rot)
//   --only P1,P3   only these suites (E = protocol micro-benchmarks)
//   --profile      measured processes run with --cpu-prof into bench/results/profiles/, summarized
import '@cpc/observability/node-compat'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { machine, missing, table, type BenchOptions, type Row } from './harness.js'
import { BenchTimeoutError, isSlowness, killAll, procSettings, withTimeout } from './proc.js'
import { formatSummary, summarize } from './profile-summary.js'
import { protocolBench } from './protocol.bench.js'
import { writeReport } from './report.js'
import { p1 } from './suites/p1-throughput.js'
import { p2 } from './suites/p2-messages.js'
import { p3 } from './suites/p3-latency.js'
import { p4 } from './suites/p4-findpeer.js'
import { p5 } from './suites/p5-broadcast.js'
import { p6 } from './suites/p6-memory.js'

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const profile = argv.includes('--profile')
const onlyArg = argv.find((a) => a.startsWith('--only'))
const only = onlyArg
  ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : argv[argv.indexOf(onlyArg) + 1]).split(',').map((s) => s.trim().toUpperCase())
  : undefined
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
if (profile) {
  procSettings.profileDir = path.join(root, 'bench/results/profiles')
  fs.rmSync(procSettings.profileDir, { recursive: true, force: true })
}

interface Suite {
  id: string
  what: string
  /** Own timeout, full / quick. */
  timeoutMs: [number, number]
  run: (o: BenchOptions) => Promise<Row[]>
}

const suites: Suite[] = [
  { id: 'E', what: 'protocol micro-benchmarks', timeoutMs: [60_000, 20_000], run: protocolBench },
  { id: 'P1', what: 'bulk throughput', timeoutMs: [120_000, 30_000], run: p1 },
  { id: 'P2', what: 'small-message rate', timeoutMs: [90_000, 20_000], run: p2 },
  { id: 'P3', what: 'HIGH latency under a LOW flood', timeoutMs: [60_000, 20_000], run: p3 },
  { id: 'P4', what: 'findPeer and cold start, 30 nodes', timeoutMs: [180_000, 25_000], run: p4 },
  { id: 'P5', what: 'broadcast to all, 30 nodes', timeoutMs: [180_000, 30_000], run: p5 },
  { id: 'P6', what: 'memory', timeoutMs: [180_000, 25_000], run: p6 },
]

/** The whole run stops here (< 10 min full, < 1 min quick), whatever a suite does. */
const deadline = Date.now() + (quick ? 55_000 : 9 * 60_000)
const started = Date.now()
const rows: Row[] = []
const suiteTimes: Record<string, number> = {}
for (const s of suites) {
  if (only && !only.includes(s.id)) continue
  const left = deadline - Date.now()
  const budget = Math.min(s.timeoutMs[quick ? 1 : 0], left)
  const t0 = Date.now()
  if (budget < 1000) {
    rows.push(missing(s.id, `${s.what}: not run, global deadline reached`, 'timeout'))
    continue
  }
  const ac = new AbortController()
  try {
    rows.push(...(await withTimeout(s.run({ quick, profile, signal: ac.signal }), budget, `suite ${s.id}`)))
  } catch (err) {
    const timeout = isSlowness(err)
    console.error(
      `bench: suite ${s.id} ${timeout ? 'timed out' : 'failed'}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    )
    rows.push(
      missing(
        s.id,
        `${s.what}: ${err instanceof BenchTimeoutError ? `timeout after ${Math.round(budget / 1000)} s` : `${timeout ? 'too slow' : 'error'}: ${err instanceof Error ? err.message : String(err)}`}`,
        timeout ? 'timeout' : 'error',
      ),
    )
  } finally {
    ac.abort()
    await killAll()
  }
  suiteTimes[s.id] = (Date.now() - t0) / 1000
  console.error(`bench: suite ${s.id} done in ${suiteTimes[s.id].toFixed(1)} s`)
}

const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`
const result = {
  when: new Date().toISOString(),
  command,
  quick,
  only,
  machine: machine(),
  seconds: (Date.now() - started) / 1000,
  suiteSeconds: suiteTimes,
  rows,
}

console.log(table(rows))
const notes = rows.filter((r) => r.note).map((r) => `  ${r.id}: ${r.note}`)
if (notes.length) console.log(`\n${notes.join('\n')}`)
const out = path.join(root, 'bench/results', quick ? 'quick.json' : only ? 'partial.json' : 'latest.json')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
console.log(`\n${rows.length} rows in ${result.seconds.toFixed(1)} s; JSON: ${path.relative(root, out)}`)
// A broken harness fails the run; a slow machine or a pending package does not.
if (profile && fs.existsSync(procSettings.profileDir)) {
  const files = fs.readdirSync(procSettings.profileDir).filter((f) => f.endsWith('.cpuprofile'))
  const text = files.map((f) => formatSummary(summarize(path.join(procSettings.profileDir, f)))).join('\n\n')
  fs.writeFileSync(path.join(procSettings.profileDir, 'summary.txt'), text + '\n')
  console.log(`\nCPU profiles (${files.length}) in ${path.relative(root, procSettings.profileDir)}:\n\n${text}`)
}
// Only a full, unprofiled run of every suite may rewrite docs/benchmarks.md.
if (!quick && !only && !profile) {
  writeReport(path.join(root, 'docs/benchmarks.md'), result)
  console.log('docs/benchmarks.md: generated section rewritten')
}
const bad = rows.filter((r) => r.status === 'error' || ((r.status ?? 'ok') === 'ok' && (!Number.isFinite(r.value) || r.value < 0)))
if (bad.length) {
  console.error(`bench: rows without a figure: ${bad.map((r) => r.id).join(', ')}`)
  process.exitCode = 1
}
