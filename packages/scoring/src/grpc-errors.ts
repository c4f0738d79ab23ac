// The one place scoring errors become gRPC statuses: install on the server that serves
// ScoringService (`createServer().use(scoringErrorMiddleware)`).
import { ServerError, Status } from 'nice-grpc-common'
import type { CallContext, ServerMiddlewareCall } from 'nice-grpc-common'
import { InvalidScoringInputError, InvalidScoringStateError, ScoringError, UnknownPeerError } from './errors.js'

export function scoringErrorToStatus(err: ScoringError): Status {
  switch (err.code) {
    case UnknownPeerError.code:
      return Status.NOT_FOUND
    case InvalidScoringInputError.code:
    case InvalidScoringStateError.code:
      return Status.INVALID_ARGUMENT
    default:
      return Status.INTERNAL
  }
}

export async function* scoringErrorMiddleware<Request, Response>(
  call: ServerMiddlewareCall<Request, Response>,
  context: CallContext,
): AsyncGenerator<Response, Response | void, undefined> {
  try {
    return yield* call.next(call.request, context)
  } catch (err) {
    if (err instanceof ScoringError) throw new ServerError(scoringErrorToStatus(err), err.message)
    throw err
  }
}
