/**
 * Every error thrown by @cpc/discovery is a DiscoveryError with a stable `code`; match on `code`
 * (or `instanceof`), never on the message text.
 */
export class DiscoveryError extends Error {
  static readonly code: string = 'ERR_DISCOVERY'
  readonly code: string

  constructor(message: string, code: string = DiscoveryError.code, options?: ErrorOptions) {
    super(message, options)
    this.name = 'DiscoveryError'
    this.code = code
  }
}

/** A DISCOVERY message that does not decode, or decodes to something invalid. */
export class MalformedDiscoveryMessageError extends DiscoveryError {
  static override readonly code = 'ERR_MALFORMED_DISCOVERY_MESSAGE'
  constructor(message = 'Malformed DISCOVERY message', options?: ErrorOptions) {
    super(message, MalformedDiscoveryMessageError.code, options)
    this.name = 'MalformedDiscoveryMessageError'
  }
}

/** A DISCOVERY message above the configured bounds (bytes, peers, addresses, record size). */
export class OversizedDiscoveryMessageError extends DiscoveryError {
  static override readonly code = 'ERR_OVERSIZED_DISCOVERY_MESSAGE'
  constructor(message = 'Oversized DISCOVERY message', options?: ErrorOptions) {
    super(message, OversizedDiscoveryMessageError.code, options)
    this.name = 'OversizedDiscoveryMessageError'
  }
}

/** A signed peer record whose envelope does not verify or is for another peer. */
export class InvalidPeerRecordError extends DiscoveryError {
  static override readonly code = 'ERR_INVALID_PEER_RECORD'
  constructor(message = 'Invalid signed peer record', options?: ErrorOptions) {
    super(message, InvalidPeerRecordError.code, options)
    this.name = 'InvalidPeerRecordError'
  }
}

/** A peer sent more peer-exchange requests than its rate limit allows. */
export class PeerExchangeRateLimitedError extends DiscoveryError {
  static override readonly code = 'ERR_PEER_EXCHANGE_RATE_LIMITED'
  constructor(message = 'Peer-exchange request rate limited', options?: ErrorOptions) {
    super(message, PeerExchangeRateLimitedError.code, options)
    this.name = 'PeerExchangeRateLimitedError'
  }
}

/** A peer-exchange request got no response in time. */
export class PeerExchangeTimeoutError extends DiscoveryError {
  static override readonly code = 'ERR_PEER_EXCHANGE_TIMEOUT'
  constructor(message = 'Peer-exchange request timed out', options?: ErrorOptions) {
    super(message, PeerExchangeTimeoutError.code, options)
    this.name = 'PeerExchangeTimeoutError'
  }
}

/** A feature needs a component that was not given (e.g. peer exchange without a channel). */
export class MissingComponentError extends DiscoveryError {
  static override readonly code = 'ERR_MISSING_COMPONENT'
  constructor(message = 'Missing component', options?: ErrorOptions) {
    super(message, MissingComponentError.code, options)
    this.name = 'MissingComponentError'
  }
}

/** A caller-supplied argument is invalid (group name, target, limit, multiaddr). */
export class InvalidDiscoveryInputError extends DiscoveryError {
  static override readonly code = 'ERR_INVALID_DISCOVERY_INPUT'
  constructor(message = 'Invalid input', options?: ErrorOptions) {
    super(message, InvalidDiscoveryInputError.code, options)
    this.name = 'InvalidDiscoveryInputError'
  }
}

/** The service is not started (or was stopped). */
export class DiscoveryNotStartedError extends DiscoveryError {
  static override readonly code = 'ERR_DISCOVERY_NOT_STARTED'
  constructor(message = 'Discovery is not started', options?: ErrorOptions) {
    super(message, DiscoveryNotStartedError.code, options)
    this.name = 'DiscoveryNotStartedError'
  }
}

/** The operation was aborted by its signal or timed out. */
export class DiscoveryAbortedError extends DiscoveryError {
  static override readonly code = 'ERR_DISCOVERY_ABORTED'
  constructor(message = 'Discovery operation aborted', options?: ErrorOptions) {
    super(message, DiscoveryAbortedError.code, options)
    this.name = 'DiscoveryAbortedError'
  }
}

/** A DISCOVERY message whose CpcMessage signature does not verify against its sender. */
export class InvalidDiscoverySignatureError extends DiscoveryError {
  static override readonly code = 'ERR_INVALID_DISCOVERY_SIGNATURE'
  constructor(message = 'DISCOVERY message signature does not verify', options?: ErrorOptions) {
    super(message, InvalidDiscoverySignatureError.code, options)
    this.name = 'InvalidDiscoverySignatureError'
  }
}
