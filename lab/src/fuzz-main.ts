// Entry of `npm run fuzz` (tools/fuzz.mjs): options, the result as a table and JSON, exit 0 when clean.
import { machine, writeDocPart } from './docs.js'
import { fuzz } from './fuzz.js'

const argv = process.argv.slice(2)
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  if (i >= 0) return argv[i + 1]
  return argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
}
const iterations = Number(opt('iterations') ?? 1_000_000)
const minutes = Number(opt('minutes') ?? 20)
const seed = opt('seed') != null ? Number(opt('seed')) : Date.now() % 2 ** 31
const log = (s: string): void => void process.stderr.write(`fuzz: ${s}\n`)
log(`${iterations} iterations or ${minutes} min, seed ${seed}`)
const started = new Date()
const r = await fuzz({ iterations, maxMs: minutes * 60_000, seed, log })
const rows: Array<[string, string]> = [
  ['iterations', `${r.iterations} in ${(r.elapsedMs / 1000).toFixed(0)} s (${Math.round(r.iterations / Math.max(1, r.elapsedMs / 1000))}/s)`],
  ['inputs by kind', Object.entries(r.byKind).map(([k, v]) => `${k} ${v}`).join(', ')],
  ['streams opened / aborted by the node', `${r.streams} / ${r.streamsAbortedByNode}`],
  ['frames the node rejected (cpc_channel_protocol_errors_total)', String(r.frameErrors)],
  ['liveness checks (ping + GetStatus) / failed', `${r.checks} / ${r.failedChecks}`],
  ['crashes', String(r.crashes)],
  ['unhandled rejections / uncaught / fatal in stderr', r.unhandled.length === 0 ? '0' : r.unhandled.join(' ; ')],
  ['RSS start → end', `${r.rssStartMiB.toFixed(1)} → ${r.rssEndMiB.toFixed(1)} MiB`],
  ['heap used start → end', `${r.heapStartMiB.toFixed(1)} → ${r.heapEndMiB.toFixed(1)} MiB`],
  ['RSS / heap samples (iterations: MiB)', r.samples.filter((_, i, a) => a.length <= 8 || i % Math.ceil(a.length / 8) === 0).map((x) => `${x.iterations}: ${x.rssMiB.toFixed(0)}/${x.heapMiB.toFixed(0)}`).join(', ')],
  ['exit on SIGTERM', String(r.exitCode)],
]
process.stdout.write(`| fuzz (seed ${seed}) | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`)
if (r.failure != null) process.stdout.write(`failure: ${r.failure}\n`)
const table = `| fuzz (seed ${seed}) | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`
const cmd = `npm run fuzz${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
writeDocPart('fuzz', [`## Fuzz (\`${cmd}\`)`, '', `Run on ${started.toISOString()}, ${machine()}. Verdict: ${r.ok ? 'clean' : 'FAILED'}.`, '', table, ...(r.failure != null ? ['', `failure: ${r.failure}`] : [])].join('\n'))
process.stdout.write(`${JSON.stringify(r)}\n`)
process.exit(r.ok ? 0 : 1)
