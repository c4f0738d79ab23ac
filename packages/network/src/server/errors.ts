// The one place where errors of every cpc-net package become gRPC statuses. Each package names its
// errors with a stable `code`; the packages' own mappers are consulted for their error classes, and
// @cpc/network's STATUS_BY_CODE for the rest. Anything without a code is INTERNAL.
import { ConnectionManagerError, toServerError as connectionManagerToServerError } from '@cpc/connection-manager'
import { DiscoveryError, discoveryErrorToStatus } from '@cpc/discovery'
import { RouterError, toRouterServerError } from '@cpc/router'
import { ScoringError, scoringErrorToStatus } from '@cpc/scoring'
import { ServerError, type ServerMiddleware } from 'nice-grpc-common'
import { nodeErrorToStatus } from '../service.js'

export function toGrpcError(err: unknown): ServerError {
  if (err instanceof ServerError) return err
  if (err instanceof ScoringError) return new ServerError(scoringErrorToStatus(err), `${err.code}: ${err.message}`)
  if (err instanceof DiscoveryError) return new ServerError(discoveryErrorToStatus(err), `${err.code}: ${err.message}`)
  if (err instanceof RouterError) return toRouterServerError(err)
  if (err instanceof ConnectionManagerError) return connectionManagerToServerError(err)
  return nodeErrorToStatus(err)
}

/** Install first (outermost but for auth): every handler's throw leaves as a ServerError. */
export const grpcErrorMiddleware: ServerMiddleware = async function* (call, context) {
  try {
    return yield* call.next(call.request, context)
  } catch (err) {
    // A call the client cancelled ends quietly; nice-grpc reports the cancellation itself.
    if (context.signal.aborted) return
    throw toGrpcError(err)
  }
}
