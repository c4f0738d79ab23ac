// The benchmark harness: timed loops, rows with a baseline measured in the same run, a table, JSON.
import os from 'node:os'
import { isSlowness } from './proc.js'

/** One benchmark figure, held against a baseline measured in the same run. */
export interface Row {
  id: string
  what: string
  value: number
  unit: string
  /** What the figure is held against; absent when the row is a baseline itself. */
  baseline?: { what: string; value: number }
  /** value / baseline.value (for rates higher is better). */
  ratio?: number
  /** The target, as text, e.g. ">= 0.80 of baseline". */
  target?: string
  /** Whether the target is met (undefined when the row has no target). */
  met?: boolean
  /** 'ok' (default): a measured figure; otherwise why there is none. */
  status?: 'ok' | 'pending' | 'timeout' | 'error'
  /** Extra context printed under the table (sizes, node counts, what exactly was measured). */
  note?: string
}

export interface BenchOptions {
  quick: boolean
  /** Aborts when the suite's own timeout or the global deadline passes. */
  signal?: AbortSignal
  /** Run the measured side with --cpu-prof. */
  profile?: boolean
}

/** Runs `fn` repeatedly for about `ms` milliseconds (at least `minOps` calls) and returns ops/s. */
export function rate(fn: () => void, ms: number, minOps = 1): number {
  // Warm up so the JIT has compiled the hot path before we time it.
  const warmEnd = performance.now() + Math.min(50, ms / 5)
  while (performance.now() < warmEnd) fn()
  let ops = 0
  const start = performance.now()
  const end = start + ms
  let now = start
  while (now < end || ops < minOps) {
    for (let i = 0; i < 16; i++) fn()
    ops += 16
    now = performance.now()
  }
  return (ops * 1000) / (now - start)
}

/**
 * Times several functions in alternating short rounds and returns each one's median rate (ops/s).
 * On a noisy machine, a figure and its baseline must share the same moments: interleaving them makes
 * background load hit both alike, so their ratio stays meaningful.
 */
export function interleaved<K extends string>(fns: Record<K, () => void>, ms: number, rounds = 7): Record<K, number> {
  const keys = Object.keys(fns) as K[]
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>
  for (let r = 0; r < rounds; r++) for (const k of keys) samples[k].push(rate(fns[k], ms / rounds))
  return Object.fromEntries(keys.map((k) => [k, median(samples[k])])) as Record<K, number>
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Builds a row that compares `value` against `baseline` with a minimum ratio target. */
export function versus(
  id: string,
  what: string,
  value: number,
  unit: string,
  baseline: { what: string; value: number },
  minRatio?: number,
): Row {
  const ratio = value / baseline.value
  return {
    id,
    what,
    value,
    unit,
    baseline,
    ratio,
    target: minRatio === undefined ? undefined : `>= ${minRatio.toFixed(2)}x`,
    met: minRatio === undefined ? undefined : ratio >= minRatio,
  }
}

/** Builds a row whose figure must stay at most `maxRatio` times the baseline (latencies, memory). */
export function atMost(
  id: string,
  what: string,
  value: number,
  unit: string,
  baseline: { what: string; value: number },
  maxRatio?: number,
): Row {
  const ratio = value / baseline.value
  return {
    id,
    what,
    value,
    unit,
    baseline,
    ratio,
    target: maxRatio === undefined ? undefined : `<= ${maxRatio.toFixed(2)}x`,
    met: maxRatio === undefined ? undefined : ratio <= maxRatio,
  }
}

/** A row with no figure: our side not built yet ('pending'), or a suite that timed out / failed. */
export function missing(
  id: string,
  what: string,
  status: 'pending' | 'timeout' | 'error',
  opts: { unit?: string; baseline?: { what: string; value: number }; target?: string; note?: string } = {},
): Row {
  return { id, what, value: NaN, unit: opts.unit ?? '', baseline: opts.baseline, target: opts.target, status, note: opts.note }
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  return n.toFixed(n < 10 ? 2 : 1)
}

export function table(rows: Row[]): string {
  // Targets on pending rows are shown as text; ratio/met stay empty until there is a figure.
  const header = ['id', 'what', 'value', 'baseline (same run)', 'ratio', 'target', 'met']
  const body = rows.map((r) => [
    r.id,
    r.what,
    r.status && r.status !== 'ok' ? `n/a (${r.status})` : `${fmt(r.value)} ${r.unit}`,
    r.baseline ? `${r.baseline.what}: ${fmt(r.baseline.value)} ${r.unit}` : '-',
    r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
    r.target ?? '-',
    r.met === undefined ? '-' : r.met ? 'yes' : 'NO',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n')
}

export function machine(): Record<string, string | number> {
  const cpus = os.cpus()
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  }
}

/**
 * Awaits cpc-net's side of a figure without losing the suite's baselines: a failure comes back as
 * an Error (the suite turns it into an 'error' row, which still fails the run).
 */
export async function guard<T>(p: Promise<T> | undefined): Promise<T | Error | undefined> {
  try {
    return await p
  } catch (err) {
    console.error(`bench: cpc-net side failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    return err instanceof Error ? err : new Error(String(err))
  }
}

/** cpc-net's side failed: 'timeout' when the machine was too slow (see isSlowness), else 'error' (fails the run). */
export function errorRow(id: string, what: string, err: Error): Row {
  return missing(id, `${what}: ${err.message}`, isSlowness(err) ? 'timeout' : 'error')
}
