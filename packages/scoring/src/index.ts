// @cpc/scoring public surface.
export { PeerScorer } from './peer-scorer.js'
export type { ScoringComponents, DisconnectOptions, PruneOptions, RelayCandidateOptions, ImportOptions } from './peer-scorer.js'
export type { ScoringConfig } from './config.js'
export type {
  PenaltyKind,
  TermWeights,
  LinkMode,
  PeerScoreSnapshot,
  ScoringInit,
  ScoreChangedDetail,
  PeerScorerEvents,
  PeerStateJSON,
  ScoringStateJSON,
} from './types.js'
export { PENALTY_KINDS } from './types.js'
export * from './constants.js'
export { ScoringError, UnknownPeerError, InvalidScoringInputError, InvalidScoringStateError } from './errors.js'
export { createScoringMetrics } from './metrics.js'
export type { ScoringMetrics } from './metrics.js'
export { createScoringService, toPeerScoreMessage } from './service.js'
export { scoringErrorMiddleware, scoringErrorToStatus } from './grpc-errors.js'
