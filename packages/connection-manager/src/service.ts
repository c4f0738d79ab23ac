// The gRPC ConnectionManagerService: thin handlers over ConnectionManager. Errors become gRPC
// statuses in one place, connectionManagerErrorMiddleware (install it on the server).
import { GoodbyeReason, type common, type connectionManagerApi } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ServerError, Status, type CallContext, type ServerMiddleware } from 'nice-grpc-common'
import { DEFAULT_WATCH_BUFFER } from './constants.js'
import type { ConnectionManager, PeerStateEventDetail } from './connection-manager.js'
import { ConnectionManagerError, InvalidPeerIdError } from './errors.js'
import { combinedSignal } from './wait.js'

type Impl = connectionManagerApi.ConnectionManagerServiceImplementation
type Manager = Pick<ConnectionManager, 'info' | 'summaries' | 'connect' | 'disconnect' | 'state' | 'addEventListener' | 'removeEventListener'>

export interface ConnectionManagerServiceInit {
  /** Buffered changes per WatchStates call; a slower client loses the oldest (default DEFAULT_WATCH_BUFFER). */
  watchBuffer?: number
}

export function createConnectionManagerService(cm: Manager, init: ConnectionManagerServiceInit = {}): Impl {
  const watchBuffer = init.watchBuffer ?? DEFAULT_WATCH_BUFFER
  return {
    async getState(request) {
      const info = cm.info(parsePeerId(request.peerId))
      return { state: info.state, sinceMs: BigInt(info.sinceMs), link: info.link, dialAttempts: info.dialAttempts }
    },
    async listConnections() {
      return { peers: cm.summaries() }
    },
    async connect(request, context) {
      const peer = parsePeerId(request.peerId)
      const { signal, clear } = combinedSignal([context.signal], request.timeoutMs > 0 ? request.timeoutMs : undefined)
      try {
        await cm.connect(peer, { priority: request.priority, signal, multiaddrs: request.multiaddrs.map((a) => multiaddr(a)) })
      } finally {
        clear()
      }
      return { state: cm.state(peer) }
    },
    async disconnect(request, context) {
      const peer = parsePeerId(request.peerId)
      const reason = request.reason === GoodbyeReason.UNSPECIFIED ? GoodbyeReason.USER_REQUESTED : request.reason
      await cm.disconnect(peer, reason, { signal: context.signal })
      return { state: cm.state(peer) }
    },
    watchStates(request, context) {
      return watchStates(cm, request.peerId, context, watchBuffer)
    },
  }
}

async function* watchStates(cm: Manager, peerId: string, context: CallContext, capacity: number): AsyncGenerator<connectionManagerApi.WatchStatesResponse> {
  if (peerId !== '') parsePeerId(peerId)
  const buffer: common.PeerStateChanged[] = []
  let wake: (() => void) | undefined
  const onState = (evt: CustomEvent<PeerStateEventDetail>): void => {
    const d = evt.detail
    if (peerId !== '' && d.peerId !== peerId) return
    if (buffer.length >= capacity) buffer.shift()
    buffer.push({ peerId: d.peerId, from: d.from, to: d.to, reason: d.reason })
    wake?.()
  }
  const onAbort = (): void => wake?.()
  cm.addEventListener('peer:state', onState)
  context.signal.addEventListener('abort', onAbort)
  try {
    while (!context.signal.aborted) {
      const change = buffer.shift()
      if (change != null) {
        yield { change }
        continue
      }
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = undefined
    }
  } finally {
    cm.removeEventListener('peer:state', onState)
    context.signal.removeEventListener('abort', onAbort)
  }
}

function parsePeerId(value: string): PeerId {
  try {
    return peerIdFromString(value)
  } catch (err) {
    throw new InvalidPeerIdError(value, { cause: err })
  }
}

const STATUS_BY_CODE: Record<string, Status> = {
  ERR_INVALID_PEER_ID: Status.INVALID_ARGUMENT,
  ERR_INVALID_CONFIG: Status.INVALID_ARGUMENT,
  ERR_UNKNOWN_PEER: Status.NOT_FOUND,
  ERR_DIAL_FAILED: Status.UNAVAILABLE,
  ERR_ABORTED: Status.CANCELLED,
  ERR_TIMEOUT: Status.DEADLINE_EXCEEDED,
  ERR_ILLEGAL_TRANSITION: Status.FAILED_PRECONDITION,
  ERR_NOT_STARTED: Status.UNAVAILABLE,
  ERR_RETRY_QUEUE_FULL: Status.RESOURCE_EXHAUSTED,
  ERR_STREAM_CLOSED: Status.UNAVAILABLE,
}

/** Maps this package's errors (by `code`) to gRPC statuses; anything else is INTERNAL. */
export function toServerError(err: unknown): ServerError {
  if (err instanceof ServerError) return err
  if (err instanceof ConnectionManagerError) return new ServerError(STATUS_BY_CODE[err.code] ?? Status.INTERNAL, `${err.code}: ${err.message}`)
  return new ServerError(Status.INTERNAL, err instanceof Error ? err.message : String(err))
}

export const connectionManagerErrorMiddleware: ServerMiddleware = async function* (call, context) {
  try {
    return yield* call.next(call.request, context)
  } catch (err) {
    // A cancelled call ends quietly; nice-grpc reports the cancellation itself.
    if (context.signal.aborted) return
    throw toServerError(err)
  }
}
