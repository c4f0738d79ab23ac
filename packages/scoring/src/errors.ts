// Named errors with a stable `code`; callers match on `code` or the class, never on the message.

export class ScoringError extends Error {
  readonly code: string = 'ERR_SCORING'
}

/** The peer is not tracked by the scorer (never seen, or forgotten after retention). */
export class UnknownPeerError extends ScoringError {
  static readonly code = 'ERR_UNKNOWN_PEER'
  override readonly code = UnknownPeerError.code
  override readonly name = 'UnknownPeerError'
  constructor(readonly peerId: string) {
    super(`peer ${peerId} is not scored`)
  }
}

/** An argument was out of range (negative RTT, NaN weight, empty peer id, bad init). */
export class InvalidScoringInputError extends ScoringError {
  static readonly code = 'ERR_INVALID_SCORING_INPUT'
  override readonly code = InvalidScoringInputError.code
  override readonly name = 'InvalidScoringInputError'
}

/** importState() was given something that is not a state this version can read. */
export class InvalidScoringStateError extends ScoringError {
  static readonly code = 'ERR_INVALID_SCORING_STATE'
  override readonly code = InvalidScoringStateError.code
  override readonly name = 'InvalidScoringStateError'
}
