// The CLI's own errors: each carries the exit code the process ends with.
import { EXIT_CALL_FAILED, EXIT_CONNECTION, EXIT_USAGE } from './constants.js'

export class CliError extends Error {
  readonly code: string
  readonly exitCode: number
  constructor(code: string, message: string, exitCode: number) {
    super(message)
    this.name = 'CliError'
    this.code = code
    this.exitCode = exitCode
  }
}

/** A bad argument that commander's own parsing cannot see (a malformed scope, priority, file). */
export class UsageError extends CliError {
  constructor(message: string) {
    super('ERR_USAGE', message, EXIT_USAGE)
    this.name = 'UsageError'
  }
}

/** No gRPC connection to the node. */
export class ConnectionError extends CliError {
  constructor(message: string) {
    super('ERR_CONNECTION', message, EXIT_CONNECTION)
    this.name = 'ConnectionError'
  }
}

/** The node answered with an error, or a peer name resolves to nobody. */
export class CallFailedError extends CliError {
  constructor(message: string) {
    super('ERR_CALL_FAILED', message, EXIT_CALL_FAILED)
    this.name = 'CallFailedError'
  }
}
