// Entry of `npm run soak` (tools/soak.mjs): options, progress on stderr, the result as tables and JSON.
import { machine, writeDocPart } from './docs.js'
import { soak } from './soak.js'

const argv = process.argv.slice(2)
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  if (i >= 0) return argv[i + 1]
  return argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
}
const minutes = Number(opt('minutes') ?? 30)
const nodes = Number(opt('nodes') ?? 20)
const churnSec = Number(opt('churn-sec') ?? 30)
const rate = Number(opt('rate') ?? 10)
const sampleSec = Number(opt('sample-sec') ?? (minutes < 5 ? 10 : 30))
if (![minutes, nodes, churnSec, rate, sampleSec].every((x) => Number.isFinite(x) && x > 0) || minutes > 24 * 60) {
  process.stderr.write('usage: npm run soak -- [--minutes 30] [--nodes 20] [--churn-sec 30] [--rate 10] [--sample-sec 30]\n')
  process.exit(2)
}
const log = (s: string): void => void process.stderr.write(`soak: ${s}\n`)
const started = new Date()
const r = await soak({ minutes, nodes, churnSec, rate, sampleSec, log })
const out: string[] = []
out.push(`| soak | ${minutes} min, ${nodes} nodes + bootstrap, churn every ${churnSec} s, ${rate} ops/s |`, '|---|---|')
out.push(`| churn events | ${r.churnEvents} |`)
out.push(`| sends / broadcasts / shed / failed | ${r.ops.sent} / ${r.ops.broadcasts} / ${r.ops.shed} / ${r.ops.failed} |`)
out.push(`| heap growth, never-restarted processes (median / worst) | ${r.medianHeapMiBPerHour.toFixed(1)} / ${r.worstHeapMiBPerHour.toFixed(1)} MiB/h${r.worst != null ? ` (${r.worst})` : ''} |`)
out.push(`| verdict | ${r.verdict} |`)
out.push('', '| process | restarts | samples | heap first → last MiB | heap MiB/h | RSS MiB/h |', '|---|---|---|---|---|---|')
for (const s of r.series) {
  const a = s.samples[0]
  const b = s.samples[s.samples.length - 1]
  out.push(`| ${s.name} | ${s.restarts} | ${s.samples.length} | ${a?.heapMiB.toFixed(1) ?? ''} → ${b?.heapMiB.toFixed(1) ?? ''} | ${s.heapMiBPerHour?.toFixed(1) ?? ''} | ${s.rssMiBPerHour?.toFixed(1) ?? ''} |`)
}
if (r.failure != null) out.push('', `failure: ${r.failure}`)
process.stdout.write(out.join('\n') + '\n')
const cmd = `npm run soak${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
writeDocPart('soak', [`## Soak (\`${cmd}\`)`, '', `Run on ${started.toISOString()}, ${machine()}. Verdict: ${r.verdict}.`, '', ...out].join('\n'))
process.stdout.write(JSON.stringify({ ...r, series: r.series.map((s) => ({ ...s, samples: s.samples.length })) }) + '\n')
process.exit(r.ok ? 0 : 1)
