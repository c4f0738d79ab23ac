// Small named errors with a stable `code`; callers match on `code` (or the class), never on text.

export class RouterError extends Error {
  readonly code: string

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

export class InvalidPriorityError extends RouterError {
  static readonly code = 'ERR_INVALID_PRIORITY'
  constructor(readonly priority: number) {
    super(`invalid priority ${priority}`, InvalidPriorityError.code)
  }
}

/**
 * A HIGH message did not fit in a peer's outbound queues even after every queued LOW and MEDIUM
 * message was shed. HIGH is never dropped silently: the caller gets this error instead.
 */
export class QueueFullError extends RouterError {
  static readonly code = 'ERR_QUEUE_FULL'
  constructor(
    readonly limit: 'frames' | 'bytes',
    readonly max: number,
  ) {
    super(`outbound queue full (${limit} limit ${max})`, QueueFullError.code)
  }
}

/** The outbox refused an entry because a per-peer or total bound would be passed. */
export class OutboxFullError extends RouterError {
  static readonly code = 'ERR_OUTBOX_FULL'
  constructor(
    readonly scope: 'peer' | 'total',
    readonly limit: 'entries' | 'bytes',
    readonly max: number,
  ) {
    super(`outbox full (${scope} ${limit} limit ${max})`, OutboxFullError.code)
  }
}

export class OutboxClosedError extends RouterError {
  static readonly code = 'ERR_OUTBOX_CLOSED'
  constructor() {
    super('the outbox is not open', OutboxClosedError.code)
  }
}

/** A stored outbox value could not be decoded (corruption or a newer format). */
export class OutboxCorruptError extends RouterError {
  static readonly code = 'ERR_OUTBOX_CORRUPT'
  constructor(detail: string) {
    super(`outbox entry corrupt: ${detail}`, OutboxCorruptError.code)
  }
}

export class InvalidPeerError extends RouterError {
  static readonly code = 'ERR_INVALID_PEER'
  constructor(peer: string) {
    super(`invalid peer key ${JSON.stringify(peer)}`, InvalidPeerError.code)
  }
}

export class AbortedError extends RouterError {
  static readonly code = 'ERR_ABORTED'
  constructor(message = 'the operation was aborted') {
    super(message, AbortedError.code)
  }
}

/** enqueue() or put() was given a message with no frames. */
export class EmptyMessageError extends RouterError {
  static readonly code = 'ERR_EMPTY_MESSAGE'
  constructor() {
    super('a message needs at least one frame', EmptyMessageError.code)
  }
}

/** An `init` option is out of range. */
export class InvalidConfigError extends RouterError {
  static readonly code = 'ERR_INVALID_CONFIG'
  constructor(
    readonly option: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`option ${option} must be ${expected}, got ${String(value)}`, InvalidConfigError.code)
  }
}

/** Validates a positive finite number option. */
export function positive(value: number, option: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new InvalidConfigError(option, value, 'a positive number')
  return value
}

/** A LOW or MEDIUM message was shed as it was queued (queue bound passed, or the node is overloaded). */
export class MessageShedError extends RouterError {
  static readonly code = 'ERR_MESSAGE_SHED'
  constructor(
    readonly reason: string,
    readonly nonce: bigint,
  ) {
    super(`message ${nonce} shed (${reason})`, MessageShedError.code)
  }
}

/** The router is not started (send/broadcast before start() or after stop()). */
export class RouterNotStartedError extends RouterError {
  static readonly code = 'ERR_NOT_STARTED'
  constructor() {
    super('the router is not started', RouterNotStartedError.code)
  }
}

/** A broadcast scope is not usable (unknown kind, empty group, no group lookup, ttl < 1). */
export class InvalidScopeError extends RouterError {
  static readonly code = 'ERR_INVALID_SCOPE'
  constructor(detail: string) {
    super(`invalid broadcast scope: ${detail}`, InvalidScopeError.code)
  }
}

/** A send() argument is out of range (payload too large, unknown type, bad ttlMs, sending to ourselves). */
export class InvalidMessageError extends RouterError {
  static readonly code = 'ERR_INVALID_MESSAGE'
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`invalid message: ${detail}`, InvalidMessageError.code, options)
  }
}
