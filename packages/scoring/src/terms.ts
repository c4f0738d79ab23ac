// The scoring math, as pure functions over one peer's PeerStateJSON. No clock, no I/O: callers pass
// `now`. Formulas are spelled out in README.md ("Definitions").
import { NEUTRAL } from './constants.js'
import type { ScoringConfig } from './config.js'
import type { PeerScoreSnapshot, PeerStateJSON, TermWeights } from './types.js'

export function newPeerState(peerId: string, now: number): PeerStateJSON {
  return {
    peerId,
    mode: 'idle',
    atMs: now,
    upMs: 0,
    downMs: 0,
    respGood: 0,
    respBad: 0,
    stabGood: 0,
    stabBad: 0,
    penalty: 0,
    firstSeenMs: now,
  }
}

/** 2^(-dt / halfLife): the share of evidence left after dt. */
export function decayFactor(dtMs: number, halfLifeMs: number): number {
  return Math.pow(2, -dtMs / halfLifeMs)
}

/**
 * ∫₀^dt 2^(-(dt-s)/H) ds = H/ln2 · (1 - 2^(-dt/H)): time accrued during dt, each instant decayed
 * by its own age. expm1 keeps it exact for dt much smaller than H.
 */
function decayedIntegral(dtMs: number, halfLifeMs: number): number {
  const k = Math.LN2 / halfLifeMs
  return -Math.expm1(-k * dtMs) / k
}

/**
 * The state as of `now` (a new object). A clock that steps backwards is treated as no time
 * passing, so scores never move on a skewed clock.
 */
export function advance(s: PeerStateJSON, now: number, cfg: ScoringConfig): PeerStateJSON {
  const dt = now - s.atMs
  if (!(dt > 0)) return { ...s }
  const f = decayFactor(dt, cfg.decayHalfLifeMs)
  const accrued = decayedIntegral(dt, cfg.decayHalfLifeMs)
  return {
    ...s,
    atMs: now,
    upMs: s.upMs * f + (s.mode === 'up' ? accrued : 0),
    downMs: s.downMs * f + (s.mode === 'down' ? accrued : 0),
    respGood: s.respGood * f,
    respBad: s.respBad * f,
    stabGood: s.stabGood * f,
    stabBad: s.stabBad * f,
    penalty: s.penalty * decayFactor(dt, cfg.penaltyHalfLifeMs),
  }
}

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x)

/** Posterior mean with `prior` pseudo-observations at NEUTRAL: neutral with no evidence, in 0..1. */
function smoothed(good: number, bad: number, prior: number): number {
  return clamp01((good + NEUTRAL * prior) / (good + bad + prior))
}

export interface Terms {
  uptime: number
  responsiveness: number
  stability: number
}

export function terms(s: PeerStateJSON, cfg: ScoringConfig): Terms {
  return {
    uptime: smoothed(s.upMs, s.downMs, cfg.uptimePriorMs),
    responsiveness: smoothed(s.respGood, s.respBad, cfg.responsivenessPrior),
    stability: smoothed(s.stabGood + s.upMs / cfg.stabilityCreditMs, s.stabBad, cfg.stabilityPrior),
  }
}

export function combine(t: Terms, penalty: number, weights: TermWeights, penaltyScale: number): number {
  const total = weights.uptime + weights.responsiveness + weights.stability
  const base = (weights.uptime * t.uptime + weights.responsiveness * t.responsiveness + weights.stability * t.stability) / total
  return clamp01(base * Math.exp(-Math.max(0, penalty) / penaltyScale))
}

/** The snapshot of an already-advanced state. */
export function snapshot(s: PeerStateJSON, cfg: ScoringConfig, known = true): PeerScoreSnapshot {
  const t = terms(s, cfg)
  return {
    peerId: s.peerId,
    ...t,
    penalty: s.penalty,
    composite: combine(t, s.penalty, cfg.weights, cfg.penaltyScale),
    updatedAtMs: s.atMs,
    connected: s.mode === 'up',
    known,
  }
}

/** Quality of one RTT sample against the target: 1 at or under it, target/rtt above it. */
export function rttQuality(rttMs: number, targetRttMs: number): number {
  return rttMs <= targetRttMs ? 1 : targetRttMs / rttMs
}
