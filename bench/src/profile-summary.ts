// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by package, so
// docs/benchmarks.md can say where the time goes. Usable alone:
//   node bench/dist/profile-summary.js bench/results/profiles/p1-cpc-sender.cpuprofile [top]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

interface CpuNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: CpuNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileSummary {
  file: string
  totalMs: number
  /** Share of samples not idle (program + GC). */
  busyPct: number
  functions: Array<{ name: string; where: string; selfMs: number; pct: number }>
  packages: Array<{ name: string; selfMs: number; pct: number }>
}

/** The package (or Node internal / our workspace package) a script URL belongs to. */
export function packageOf(url: string): string {
  if (!url) return '(native/idle)'
  if (url.startsWith('node:')) return 'node:internal'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  const pkg = /\/(packages|apps)\/([^/]+)\//.exec(url)
  if (pkg) return `@cpc/${pkg[2]}`
  if (url.includes('/bench/')) return 'bench'
  return url
}

export function summarize(file: string, top = 15): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(prof.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0))
  let total = 0
  let idle = 0
  const fns = new Map<string, { name: string; where: string; us: number }>()
  const pkgs = new Map<string, number>()
  for (const [id, us] of self) {
    const n = byId.get(id)!
    total += us
    const { functionName, url, lineNumber } = n.callFrame
    if (functionName === '(idle)' || functionName === '(program)') {
      if (functionName === '(idle)') idle += us
    }
    const name = functionName || '(anonymous)'
    const where = url ? `${path.basename(url)}:${lineNumber + 1}` : ''
    const key = `${name}@${url}:${lineNumber}`
    const f = fns.get(key) ?? { name, where, us: 0 }
    f.us += us
    fns.set(key, f)
    const pkg = functionName === '(garbage collector)' ? '(gc)' : functionName === '(idle)' ? '(idle)' : packageOf(url)
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us)
  }
  const busy = total - idle
  const pct = (us: number) => (busy > 0 ? (100 * us) / busy : 0)
  return {
    file,
    totalMs: total / 1000,
    busyPct: total > 0 ? (100 * busy) / total : 0,
    functions: [...fns.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, pct: pct(f.us) })),
    packages: [...pkgs.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, pct: pct(us) })),
  }
}

export function formatSummary(s: ProfileSummary, top = 10): string {
  const lines = [`${path.basename(s.file)}: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyPct.toFixed(0)}% busy`]
  lines.push(
    '  by package (self time, % of busy): ' +
      s.packages
        .slice(0, 8)
        .map((p) => `${p.name} ${p.pct.toFixed(0)}%`)
        .join(', '),
  )
  lines.push('  top functions:')
  for (const f of s.functions.slice(0, top)) lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.name} ${f.where}`)
  return lines.join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node bench/dist/profile-summary.js <file.cpuprofile> [top]')
    process.exit(2)
  }
  console.log(formatSummary(summarize(file, Number(process.argv[3] ?? 15)), Number(process.argv[3] ?? 15)))
}
