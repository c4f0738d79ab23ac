// Shared test helpers: a manual clock and an event-sequence driver.
import { PeerScorer } from '../src/index.js'
import type { PenaltyKind, ScoringInit } from '../src/index.js'

export class ManualClock {
  constructor(public t = 1_700_000_000_000) {}
  readonly now = (): number => this.t
  advance(ms: number): void {
    this.t += ms
  }
}

export function setup(init: ScoringInit = {}): { clock: ManualClock; scorer: PeerScorer } {
  const clock = new ManualClock()
  return { clock, scorer: new PeerScorer({ clock: clock.now }, init) }
}

export type Op =
  | { op: 'connected' | 'dialSucceeded' | 'dialFailed' | 'requestAnswered' | 'requestTimedOut'; peer: string; dt: number }
  | { op: 'disconnected'; peer: string; dt: number; error: boolean }
  | { op: 'rtt'; peer: string; dt: number; ms: number }
  | { op: 'penalize'; peer: string; dt: number; kind: PenaltyKind }
  | { op: 'gc'; dt: number }

export function apply(scorer: PeerScorer, clock: ManualClock, o: Op): void {
  clock.advance(o.dt)
  switch (o.op) {
    case 'disconnected':
      return scorer.disconnected(o.peer, { error: o.error })
    case 'rtt':
      return scorer.rtt(o.peer, o.ms)
    case 'penalize':
      return scorer.penalize(o.peer, o.kind)
    case 'gc':
      scorer.gc()
      return
    default:
      return scorer[o.op](o.peer)
  }
}
