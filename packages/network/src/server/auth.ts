// Bearer-token authentication of the gRPC server: every call must carry
// `authorization: Bearer <token>`, except the grpc.health.v1.Health service (probes from load
// balancers and orchestrators carry no credentials, and health reveals nothing but SERVING).
import { timingSafeEqual, createHash } from 'node:crypto'
import { ServerError, Status, type ServerMiddleware } from 'nice-grpc-common'

/** Method paths under this prefix need no token. */
export const UNAUTHENTICATED_PREFIXES = ['/grpc.health.v1.Health/'] as const

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/** UNAUTHENTICATED unless the call's `authorization` metadata is `Bearer <token>` (constant-time compare). */
export function bearerAuthMiddleware(token: string): ServerMiddleware {
  const expected = digest(token)
  return async function* auth(call, context) {
    if (!UNAUTHENTICATED_PREFIXES.some((p) => call.method.path.startsWith(p))) {
      const header = context.metadata.get('authorization')
      const m = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null
      if (m === null) throw new ServerError(Status.UNAUTHENTICATED, 'missing bearer token (authorization: Bearer <token>)')
      if (!timingSafeEqual(digest(m[1]!), expected)) throw new ServerError(Status.UNAUTHENTICATED, 'invalid bearer token')
    }
    return yield* call.next(call.request, context)
  }
}
