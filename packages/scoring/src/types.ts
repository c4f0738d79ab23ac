// Public types of @cpc/scoring.

/** Kinds of misbehaviour that cost penalty points. */
export type PenaltyKind = 'invalid-signature' | 'rate-limit' | 'protocol-error' | 'malformed'

export const PENALTY_KINDS: readonly PenaltyKind[] = Object.freeze([
  'invalid-signature',
  'rate-limit',
  'protocol-error',
  'malformed',
])

export interface TermWeights {
  uptime: number
  responsiveness: number
  stability: number
}

/** What a peer's link is doing, as far as uptime is concerned. */
export type LinkMode =
  /** Connected: connected time accrues. */
  | 'up'
  /** Lost by error or unreachable (dial failed): down time accrues until it reconnects. */
  | 'down'
  /** Cleanly disconnected (pruned, goodbye): no time accrues, evidence decays toward neutral. */
  | 'idle'

/** One peer's score at one moment. Every term is in 0..1; penalty is in points (>= 0). */
export interface PeerScoreSnapshot {
  peerId: string
  uptime: number
  responsiveness: number
  stability: number
  /** Decayed penalty points (0 = none). */
  penalty: number
  /** Weighted terms × exp(-penalty / penaltyScale), in 0..1. */
  composite: number
  /** Clock time this snapshot was computed for. */
  updatedAtMs: number
  connected: boolean
  /** False for a peer the scorer does not track (all terms neutral). */
  known: boolean
}

/** Plain data defaults in constants.ts; see README for each one. */
export interface ScoringInit {
  weights?: Partial<TermWeights>
  relayWeights?: Partial<TermWeights>
  decayHalfLifeMs?: number
  penaltyHalfLifeMs?: number
  penaltyScale?: number
  maxPenalty?: number
  penaltyWeights?: Partial<Record<PenaltyKind, number>>
  uptimePriorMs?: number
  responsivenessPrior?: number
  stabilityPrior?: number
  targetRttMs?: number
  rttSampleWeight?: number
  requestWeight?: number
  timeoutWeight?: number
  dialSuccessWeight?: number
  dialFailureWeight?: number
  errorDisconnectWeight?: number
  cleanDisconnectWeight?: number
  stabilityCreditMs?: number
  retentionMs?: number
  retainPenaltyThreshold?: number
  maxPeers?: number
  changeEpsilon?: number
  changeMinIntervalMs?: number
  relayMaxPenalty?: number
}

export interface ScoreChangedDetail {
  peerId: string
  score: PeerScoreSnapshot
}

export interface PeerScorerEvents {
  'score:changed': CustomEvent<ScoreChangedDetail>
  /** A peer was dropped by gc() (retention elapsed) or evicted (maxPeers). */
  'peer:forgotten': CustomEvent<{ peerId: string; reason: 'retention' | 'evicted' }>
}

/** Serializable per-peer state (plain JSON numbers and strings). */
export interface PeerStateJSON {
  peerId: string
  mode: LinkMode
  /** Clock time of the last recorded event: the accumulators below are valid for it. */
  atMs: number
  /** Decayed connected ms / down ms (uptime evidence). */
  upMs: number
  downMs: number
  /** Decayed responsiveness evidence. */
  respGood: number
  respBad: number
  /** Decayed stability events (connected time adds credit separately, from upMs). */
  stabGood: number
  stabBad: number
  /** Decayed penalty points. */
  penalty: number
  firstSeenMs: number
}

export interface ScoringStateJSON {
  version: number
  savedAtMs: number
  peers: PeerStateJSON[]
}
