// cpc-net's side of P1-P6. Each entry returns our figure, or undefined while the package it needs
// (NetworkHandler in @cpc/network, Router in @cpc/router) does not exist yet: the suite then prints
// the row as "n/a (pending)" beside its real, same-run baselines.
import type { BenchOptions } from '../harness.js'
import type { BroadcastFigures } from './p5-broadcast.js'

export interface OursP1 extends BenchOptions {
  bytes: number
  rounds: number
}

export interface Ours {
  p1?: (o: OursP1) => Promise<number | undefined>
  p2signed?: (o: BenchOptions & { count: number }) => Promise<number | undefined>
  p2control?: (o: BenchOptions & { count: number }) => Promise<number | undefined>
  /** HIGH p99 RTT (ms) under a LOW flood through the Router. */
  p3?: (o: BenchOptions & { probes: number; probeIntervalMs: number }) => Promise<number | undefined>
  p4?: (o: BenchOptions & { n: number }) => Promise<{ p50: number; p95: number; coldMs: number } | undefined>
  p5?: (o: BenchOptions & { n: number; messages: number; size: number; intervalMs: number }) => Promise<BroadcastFigures | undefined>
  p6?: (o: BenchOptions & { clients: number; many: number }) => Promise<{ idleMiB: number; perConnMiB: number; manyMiB?: number } | undefined>
}

/** Whether a workspace package exports `name` (dynamic, so the bench compiles before it lands). */
export async function exported(pkg: string, name: string): Promise<boolean> {
  try {
    const mod = (await import(pkg)) as Record<string, unknown>
    return typeof mod[name] === 'function'
  } catch {
    return false
  }
}

export const ours: Ours = {}
