// Defaults of ScoringInit. Every one is documented in the package README (defaults table).
import type { PenaltyKind, TermWeights } from './types.js'

/** The value of every term for a peer we know nothing about: new peers rank mid-table. */
export const NEUTRAL = 0.5

/** Half-life of all term evidence (the exponential sliding window, ~1.44 h effective): 1 hour. */
export const DEFAULT_DECAY_HALF_LIFE_MS = 60 * 60_000

/** Half-life of penalty points: 2 hours, slower than good evidence so misbehaviour is remembered. */
export const DEFAULT_PENALTY_HALF_LIFE_MS = 2 * 60 * 60_000

/** Penalty points that divide the composite by e (composite × exp(-penalty / scale)). */
export const DEFAULT_PENALTY_SCALE = 10

/** Penalty points are capped so state stays bounded and a peer can eventually recover. */
export const DEFAULT_MAX_PENALTY = 100

export const DEFAULT_PENALTY_WEIGHTS: Readonly<Record<PenaltyKind, number>> = Object.freeze({
  'invalid-signature': 10,
  'protocol-error': 3,
  malformed: 2,
  'rate-limit': 1,
})

export const DEFAULT_WEIGHTS: Readonly<TermWeights> = Object.freeze({
  uptime: 0.3,
  responsiveness: 0.4,
  stability: 0.3,
})

/** Relays must stay up and stay connected; speed matters less. */
export const DEFAULT_RELAY_WEIGHTS: Readonly<TermWeights> = Object.freeze({
  uptime: 0.4,
  responsiveness: 0.2,
  stability: 0.4,
})

/** Pseudo-observation of uptime at NEUTRAL, so ten seconds connected is not uptime 1. */
export const DEFAULT_UPTIME_PRIOR_MS = 5 * 60_000

/** Pseudo-events at NEUTRAL for responsiveness. */
export const DEFAULT_RESPONSIVENESS_PRIOR = 2

/** Pseudo-events at NEUTRAL for stability. */
export const DEFAULT_STABILITY_PRIOR = 2

/** RTT at or below which a sample counts as fully good. */
export const DEFAULT_TARGET_RTT_MS = 200

/** Weight of one RTT sample, one answered request and one timed-out request in responsiveness. */
export const DEFAULT_RTT_SAMPLE_WEIGHT = 1
export const DEFAULT_REQUEST_WEIGHT = 1
export const DEFAULT_TIMEOUT_WEIGHT = 2

/** Weight of stability events. */
export const DEFAULT_DIAL_SUCCESS_WEIGHT = 1
export const DEFAULT_DIAL_FAILURE_WEIGHT = 1
export const DEFAULT_ERROR_DISCONNECT_WEIGHT = 2
export const DEFAULT_CLEAN_DISCONNECT_WEIGHT = 0

/** Connected time that earns one good stability event (a long, quiet connection is stable). */
export const DEFAULT_STABILITY_CREDIT_MS = 5 * 60_000

/** How long a disconnected peer's state is kept (reconnecting does not reset it). */
export const DEFAULT_RETENTION_MS = 6 * 60 * 60_000

/** A disconnected peer carrying at least this many penalty points is never forgotten by gc(). */
export const DEFAULT_RETAIN_PENALTY_THRESHOLD = 1

/** Hard bound on tracked peers. */
export const DEFAULT_MAX_PEERS = 10_000

/** 'score:changed' fires when the composite moved more than this since the last event... */
export const DEFAULT_CHANGE_EPSILON = 0.05

/** ...and at most once per this interval per peer. */
export const DEFAULT_CHANGE_MIN_INTERVAL_MS = 1_000

/** Relay candidates must carry fewer penalty points than this. */
export const DEFAULT_RELAY_MAX_PENALTY = 1

/** Version of the exported state format. */
export const STATE_VERSION = 1
