// docs/benchmarks.md: the generated part (table, machine, command, date, duration) is rewritten by
// every full run; the hand-written findings between the findings markers are kept as they are.
import fs from 'node:fs'
import { table, type Row } from './harness.js'

export const GEN_START = '<!-- bench:generated:start (rewritten by `npm run bench`; edit bench/src/report.ts) -->'
export const GEN_END = '<!-- bench:generated:end -->'
export const FINDINGS_START = '<!-- bench:findings:start (hand-written, kept by the generator) -->'
export const FINDINGS_END = '<!-- bench:findings:end -->'

export interface RunResult {
  when: string
  command: string
  seconds: number
  machine: Record<string, string | number>
  suiteSeconds: Record<string, number>
  rows: Row[]
}

function generated(r: RunResult): string {
  const m = r.machine
  const notes = r.rows.filter((x) => x.note).map((x) => `- **${x.id}**: ${x.note}`)
  return [
    GEN_START,
    `Last full run: ${r.when}, \`${r.command}\`, ${r.seconds.toFixed(0)} s (${Object.entries(r.suiteSeconds)
      .map(([k, v]) => `${k} ${v.toFixed(0)} s`)
      .join(', ')}).`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}. Shared with other work while it ran: only the ratios to baselines measured in the same run mean anything.`,
    '',
    table(r.rows),
    '',
    'Row notes:',
    '',
    ...notes,
    GEN_END,
  ].join('\n')
}

const DEFAULT_HEAD = `# Benchmarks

\`npm run bench\` measures every figure of the issue "Benchmarks side by side with the baselines and a peer
system" against baselines measured in the same run, sender and receiver in separate processes on
127.0.0.1. \`npm run bench -- --quick\` runs the same harness with tiny sizes (part of \`npm test\`);
\`--only P1,P3\` selects suites; \`--profile\` runs every child with \`--cpu-prof\` and summarizes the
profiles. JSON of the last run: \`bench/results/latest.json\`.
`

/** Rewrites the generated section of `file`, keeping everything else (head and findings). */
export function writeReport(file: string, r: RunResult): void {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const gen = generated(r)
  let out: string
  const a = old.indexOf(GEN_START)
  const b = old.indexOf(GEN_END)
  if (a >= 0 && b > a) out = old.slice(0, a) + gen + old.slice(b + GEN_END.length)
  else out = `${old || DEFAULT_HEAD}\n## Results\n\n${gen}\n\n## Findings\n\n${FINDINGS_START}\n(none yet)\n${FINDINGS_END}\n`
  fs.writeFileSync(file, out)
}
