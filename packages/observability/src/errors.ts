// Named errors with stable codes: callers switch on `code`, never on message text.

export class ObservabilityError extends Error {
  static readonly code: string = 'ERR_OBSERVABILITY'
  readonly code: string

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ObservabilityError'
    this.code = code
  }
}

/** A config value this package does not accept (unknown exporter, bad log level, bad port). */
export class InvalidConfigError extends ObservabilityError {
  static override readonly code = 'ERR_INVALID_CONFIG'
  constructor(message: string, options?: ErrorOptions) {
    super(message, InvalidConfigError.code, options)
    this.name = 'InvalidConfigError'
  }
}

/** The HTTP server could not bind (address in use, permission denied, bad host). */
export class ListenError extends ObservabilityError {
  static override readonly code = 'ERR_LISTEN_FAILED'
  constructor(message: string, options?: ErrorOptions) {
    super(message, ListenError.code, options)
    this.name = 'ListenError'
  }
}

/** An operation was aborted through its AbortSignal. */
export class AbortError extends ObservabilityError {
  static override readonly code = 'ABORT_ERR'
  constructor(message = 'the operation was aborted', options?: ErrorOptions) {
    super(message, AbortError.code, options)
    this.name = 'AbortError'
  }
}
