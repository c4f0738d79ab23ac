// The narrow view of @cpc/scoring's PeerScorer this package uses, so it depends on the shape only.

/** Where pruning and retry order get a peer's score. */
export interface ScoreSource {
  /** Weighted composite score in 0..1 (unknown peers: the scorer's neutral value). */
  composite(peer: string): number
}

/** What the manager reports to the scorer. */
export interface ScoreSink {
  connected(peer: string): void
  disconnected(peer: string, options?: { error?: boolean }): void
  dialSucceeded(peer: string): void
  dialFailed(peer: string): void
}

export type PeerScorerLike = ScoreSource & ScoreSink
