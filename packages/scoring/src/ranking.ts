// Ranking over snapshots: pure, deterministic (ties broken by peer id).
import type { PeerScoreSnapshot } from './types.js'

export function byCompositeDesc(a: PeerScoreSnapshot, b: PeerScoreSnapshot): number {
  return b.composite - a.composite || (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
}

export function byCompositeAsc(a: PeerScoreSnapshot, b: PeerScoreSnapshot): number {
  return a.composite - b.composite || (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
}

/** The first `n` of `items` under `compare` (n <= 0 or not finite: none / all, see callers). */
export function top<T>(items: T[], n: number, compare: (a: T, b: T) => number): T[] {
  if (!(n > 0)) return []
  return items.sort(compare).slice(0, Number.isFinite(n) ? Math.floor(n) : undefined)
}
