// Small named errors with a stable `code`; callers match on `code` (or the class), never on text.
import type { PeerState } from '@cpc/protocol'

export class ConnectionManagerError extends Error {
  readonly code: string

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

export class IllegalTransitionError extends ConnectionManagerError {
  static readonly code = 'ERR_ILLEGAL_TRANSITION'
  constructor(
    readonly peerId: string,
    readonly from: PeerState,
    readonly to: PeerState,
  ) {
    super(`illegal transition ${from} -> ${to} for ${peerId}`, IllegalTransitionError.code)
  }
}

export class UnknownPeerError extends ConnectionManagerError {
  static readonly code = 'ERR_UNKNOWN_PEER'
  constructor(readonly peerId: string) {
    super(`unknown peer ${peerId}`, UnknownPeerError.code)
  }
}

export class InvalidPeerIdError extends ConnectionManagerError {
  static readonly code = 'ERR_INVALID_PEER_ID'
  constructor(value: string, options?: { cause?: unknown }) {
    super(`invalid peer id ${JSON.stringify(value)}`, InvalidPeerIdError.code, options)
  }
}

export class DialFailedError extends ConnectionManagerError {
  static readonly code = 'ERR_DIAL_FAILED'
  constructor(
    readonly peerId: string,
    options?: { cause?: unknown },
  ) {
    super(`dial to ${peerId} failed`, DialFailedError.code, options)
  }
}

export class AbortedError extends ConnectionManagerError {
  static readonly code = 'ERR_ABORTED'
  constructor(message = 'the operation was aborted') {
    super(message, AbortedError.code)
  }
}

export class TimeoutError extends ConnectionManagerError {
  static readonly code = 'ERR_TIMEOUT'
  constructor(message = 'the operation timed out') {
    super(message, TimeoutError.code)
  }
}

export class RetryQueueFullError extends ConnectionManagerError {
  static readonly code = 'ERR_RETRY_QUEUE_FULL'
  constructor(readonly capacity: number) {
    super(`retry queue full (${capacity})`, RetryQueueFullError.code)
  }
}

export class NotStartedError extends ConnectionManagerError {
  static readonly code = 'ERR_NOT_STARTED'
  constructor(what: string) {
    super(`${what} is not started`, NotStartedError.code)
  }
}

export class InvalidConfigError extends ConnectionManagerError {
  static readonly code = 'ERR_INVALID_CONFIG'
  constructor(message: string) {
    super(message, InvalidConfigError.code)
  }
}

export class StreamClosedError extends ConnectionManagerError {
  static readonly code = 'ERR_STREAM_CLOSED'
  constructor(message = 'the stream closed') {
    super(message, StreamClosedError.code)
  }
}
