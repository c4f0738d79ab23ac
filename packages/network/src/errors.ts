// Named errors of @cpc/network, each with a stable `code` (callers and the gRPC middleware match on
// it, never on the message).

export class NetworkError extends Error {
  readonly code: string

  constructor(code: string, message: string) {
    super(message)
    this.name = 'NetworkError'
    this.code = code
  }
}

/** One problem with the configuration: the dotted path of the field and what is wrong with it. */
export interface ConfigIssue {
  /** Dotted path from the config root, e.g. `config.listen[0]`. */
  field: string
  message: string
}

/** The configuration failed validation. `message` lists every issue, `field` names the first. */
export class ConfigError extends NetworkError {
  readonly field: string
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    super('ERR_INVALID_CONFIG', issues.map((i) => `${i.field}: ${i.message}`).join('; '))
    this.name = 'ConfigError'
    this.issues = issues
    this.field = issues[0]?.field ?? 'config'
  }
}

export class NotStartedError extends NetworkError {
  constructor(what = 'NetworkHandler') {
    super('ERR_NOT_STARTED', `${what} is not started`)
    this.name = 'NotStartedError'
  }
}

export class InvalidPeerIdError extends NetworkError {
  constructor(value: string, reason?: string) {
    super('ERR_INVALID_PEER_ID', `not a peer id: '${value}'${reason === undefined ? '' : ` (${reason})`}`)
    this.name = 'InvalidPeerIdError'
  }
}

/** A caller error other than a bad peer id (empty group, unknown target, bad priority...). */
export class InvalidArgumentError extends NetworkError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message)
    this.name = 'InvalidArgumentError'
  }
}

/** A file in the data dir could not be read as what it should hold (identity key, state files). */
export class DataDirError extends NetworkError {
  readonly path: string

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_DATA_DIR', `${path}: ${message}`)
    this.name = 'DataDirError'
    this.path = path
    if (options?.cause !== undefined) this.cause = options.cause
  }
}
