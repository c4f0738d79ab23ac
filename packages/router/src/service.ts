// The gRPC RouterService: thin handlers over Router (Send, Broadcast, Subscribe). Errors become gRPC
// statuses in one place, routerErrorMiddleware (install it on the server).
import { common, type MessageType, type routerApi } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { ServerError, Status, type CallContext, type ServerMiddleware } from 'nice-grpc-common'
import { DEFAULT_SUBSCRIBE_BUFFER } from './constants.js'
import { InvalidPeerError, InvalidScopeError, RouterError } from './errors.js'
import type { Router } from './router.js'
import type { BroadcastScope, DeliveredMessage, MessageExpiredDetail } from './types.js'

type Impl = routerApi.RouterServiceImplementation
type RouterLike = Pick<Router, 'send' | 'broadcast' | 'addEventListener' | 'removeEventListener'>

export interface RouterServiceInit {
  /** Items buffered per Subscribe call; a slower client loses the oldest (default DEFAULT_SUBSCRIBE_BUFFER). */
  subscribeBuffer?: number
}

export function createRouterService(router: RouterLike, init: RouterServiceInit = {}): Impl {
  const capacity = init.subscribeBuffer ?? DEFAULT_SUBSCRIBE_BUFFER
  return {
    async send(request, context) {
      const peer = parsePeerId(request.peerId)
      const result = await router.send(peer, request.payload, {
        priority: request.priority,
        type: request.messageType,
        ttlMs: request.ttlMs > 0 ? request.ttlMs : undefined,
        signal: context.signal,
      })
      return { nonce: result.nonce, route: result.route }
    },
    async broadcast(request, context) {
      const result = await router.broadcast(request.payload, { priority: request.priority, scope: toScope(request.scope), signal: context.signal })
      return { nonce: result.nonce, sentTo: result.sentTo }
    },
    subscribe(request, context) {
      return subscribe(router, new Set(request.messageTypes), context, capacity)
    },
  }
}

export function toScope(scope: common.BroadcastScope | undefined): BroadcastScope {
  switch (scope?.kind) {
    case common.BroadcastScope_Kind.KIND_ALL:
      return { kind: 'all' }
    case common.BroadcastScope_Kind.KIND_NEIGHBORS:
      return { kind: 'neighbors' }
    case common.BroadcastScope_Kind.KIND_GROUP:
      return { kind: 'group', group: scope.group }
    default:
      throw new InvalidScopeError('scope.kind must be KIND_ALL, KIND_NEIGHBORS or KIND_GROUP')
  }
}

export function toMessageReceived(m: DeliveredMessage): common.MessageReceived {
  return {
    fromPeerId: m.from,
    originPeerId: m.origin,
    nonce: m.nonce,
    priority: m.priority,
    messageType: m.type,
    payload: m.payload,
    group: m.group,
    timestampMs: BigInt(m.timestampMs),
    latencyMs: m.latencyMs,
    route: m.route,
  }
}

async function* subscribe(router: RouterLike, types: Set<MessageType>, context: CallContext, capacity: number): AsyncGenerator<routerApi.SubscribeResponse> {
  const buffer: routerApi.SubscribeResponse[] = []
  let wake: (() => void) | undefined
  const push = (item: routerApi.SubscribeResponse): void => {
    if (buffer.length >= capacity) buffer.shift()
    buffer.push(item)
    wake?.()
  }
  const onMessage = (evt: CustomEvent<DeliveredMessage>): void => {
    if (types.size > 0 && !types.has(evt.detail.type)) return
    push({ item: { $case: 'message', value: toMessageReceived(evt.detail) } })
  }
  const onExpired = (evt: CustomEvent<MessageExpiredDetail>): void => {
    push({ item: { $case: 'expired', value: { peerId: evt.detail.peer, nonce: evt.detail.nonce, reason: evt.detail.reason } } })
  }
  const onAbort = (): void => wake?.()
  router.addEventListener('message', onMessage)
  router.addEventListener('message:expired', onExpired)
  context.signal.addEventListener('abort', onAbort)
  try {
    while (!context.signal.aborted) {
      const item = buffer.shift()
      if (item !== undefined) {
        yield item
        continue
      }
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = undefined
    }
  } finally {
    router.removeEventListener('message', onMessage)
    router.removeEventListener('message:expired', onExpired)
    context.signal.removeEventListener('abort', onAbort)
  }
}

function parsePeerId(value: string): PeerId {
  try {
    return peerIdFromString(value)
  } catch {
    throw new InvalidPeerError(value)
  }
}

const STATUS_BY_CODE: Record<string, Status> = {
  ERR_INVALID_PEER: Status.INVALID_ARGUMENT,
  ERR_INVALID_PRIORITY: Status.INVALID_ARGUMENT,
  ERR_INVALID_SCOPE: Status.INVALID_ARGUMENT,
  ERR_INVALID_MESSAGE: Status.INVALID_ARGUMENT,
  ERR_INVALID_CONFIG: Status.INVALID_ARGUMENT,
  ERR_QUEUE_FULL: Status.RESOURCE_EXHAUSTED,
  ERR_MESSAGE_SHED: Status.RESOURCE_EXHAUSTED,
  ERR_OUTBOX_FULL: Status.RESOURCE_EXHAUSTED,
  ERR_OUTBOX_CLOSED: Status.UNAVAILABLE,
  ERR_NOT_STARTED: Status.UNAVAILABLE,
  ERR_ABORTED: Status.CANCELLED,
}

/** Maps this package's errors (by `code`) to gRPC statuses; anything else is INTERNAL. */
export function toRouterServerError(err: unknown): ServerError {
  if (err instanceof ServerError) return err
  if (err instanceof RouterError) return new ServerError(STATUS_BY_CODE[err.code] ?? Status.INTERNAL, `${err.code}: ${err.message}`)
  if (err instanceof Error && err.name === 'AbortError') return new ServerError(Status.CANCELLED, err.message)
  return new ServerError(Status.INTERNAL, err instanceof Error ? err.message : String(err))
}

export const routerErrorMiddleware: ServerMiddleware = async function* (call, context) {
  try {
    return yield* call.next(call.request, context)
  } catch (err) {
    throw toRouterServerError(err)
  }
}
