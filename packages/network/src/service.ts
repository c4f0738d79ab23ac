// The gRPC NodeService (proto/cpc/node/v1/node.proto): thin handlers over NetworkHandler. Every
// library error becomes a gRPC Status in one place, nodeErrorMiddleware (install it on the server).
import { DiscoverySource, PeerState, Event, common, type nodeApi } from '@cpc/protocol'
import type { DiscoveredPeer } from '@cpc/discovery'
import type { BroadcastScope } from '@cpc/router'
import type { PeerScoreSnapshot } from '@cpc/scoring'
import { ServerError, Status, type CallContext, type ServerMiddleware } from 'nice-grpc-common'
import { InvalidArgumentError } from './errors.js'
import type { NetworkEvent, NetworkEventKind, PeerSource } from './events.js'
import type { DiscoverTarget, NetworkHandler } from './network-handler.js'

type Impl = nodeApi.NodeServiceImplementation
type Handler = Pick<
  NetworkHandler,
  'status' | 'sendMessage' | 'broadcast' | 'discoverPeers' | 'connectionInfo' | 'peers' | 'score' | 'events' | 'peerId'
>

export interface NodeServiceInit {
  /** Events buffered per Subscribe call before the oldest are dropped. */
  subscribeBuffer?: number
}

/** Subscribe's kind names (proto) ↔ the handler's event kinds. */
const KIND_BY_NAME: Record<string, NetworkEventKind> = {
  message: 'message',
  peer_state: 'peer:state',
  peer_discovered: 'peer:discovered',
  score_changed: 'score:changed',
  message_expired: 'message:expired',
}

const SOURCE: Record<PeerSource, DiscoverySource> = {
  bootstrap: DiscoverySource.DISCOVERY_SOURCE_BOOTSTRAP,
  dht: DiscoverySource.DISCOVERY_SOURCE_DHT,
  mdns: DiscoverySource.DISCOVERY_SOURCE_MDNS,
  exchange: DiscoverySource.DISCOVERY_SOURCE_EXCHANGE,
  connection: DiscoverySource.DISCOVERY_SOURCE_CONNECTION,
}

export function createNodeService(handler: Handler, init: NodeServiceInit = {}): Impl {
  return {
    async getStatus() {
      const s = handler.status()
      return {
        peerId: s.peerId,
        listenAddrs: s.multiaddrs,
        version: s.version,
        uptimeMs: BigInt(Math.floor(s.uptimeMs)),
        connectedPeers: s.connectedPeers,
        knownPeers: s.knownPeers,
        reachability: s.reachability,
        relayReservations: s.relayReservations,
        outboxDepth: s.outboxDepth,
        groups: s.groups,
      }
    },
    async sendMessage(request, context) {
      const payload = request.kind !== '' || request.contentId !== '' ? wrapEvent(handler, request.payload, request.kind, request.contentId) : request.payload
      const result = await handler.sendMessage(request.peerId, payload, request.priority, {
        ...(request.ttlMs > 0 ? { ttlMs: request.ttlMs } : {}),
        signal: context.signal,
      })
      return { nonce: result.nonce, route: result.route }
    },
    async broadcast(request, context) {
      const payload = request.kind !== '' || request.contentId !== '' ? wrapEvent(handler, request.payload, request.kind, request.contentId) : request.payload
      const result = await handler.broadcast(payload, request.priority, toScope(request.scope), { signal: context.signal })
      return { nonce: result.nonce, sentTo: result.sentTo }
    },
    async discoverPeers(request, context) {
      const signal = request.timeoutMs > 0 ? AbortSignal.any([context.signal, AbortSignal.timeout(request.timeoutMs)]) : context.signal
      const found = await handler.discoverPeers(toTarget(request.target), { signal, ...(request.limit > 0 ? { limit: request.limit } : {}) })
      return { peers: found.map((p) => discoveredSummary(handler, p)) }
    },
    async getConnectionState(request) {
      const info = handler.connectionInfo(request.peerId)
      return { state: info.state, sinceMs: BigInt(Math.floor(info.sinceMs)) }
    },
    async listPeers(request) {
      const peers = handler.peers()
      return { peers: request.state === PeerState.PEER_STATE_UNSPECIFIED ? peers : peers.filter((p) => p.state === request.state) }
    },
    async getPeerScore(request) {
      return { score: toPeerScore(handler.score(request.peerId)) }
    },
    subscribe(request, context) {
      return subscribe(handler, request.kinds, context, init.subscribeBuffer)
    },
  }
}

async function* subscribe(handler: Handler, names: string[], context: CallContext, bufferSize?: number): AsyncGenerator<nodeApi.SubscribeResponse> {
  const kinds = names.map((name) => {
    const kind = KIND_BY_NAME[name]
    if (kind === undefined) throw new InvalidArgumentError(`unknown event kind '${name}': expected one of ${Object.keys(KIND_BY_NAME).join(', ')}`)
    return kind
  })
  const events = handler.events({ signal: context.signal, kinds, ...(bufferSize !== undefined ? { bufferSize } : {}) })
  try {
    for await (const event of events) yield { event: toNodeEvent(event) }
  } finally {
    events.close()
  }
}

export function toNodeEvent(event: NetworkEvent): common.NodeEvent {
  const atMs = BigInt(Math.floor(event.detail.atMs))
  switch (event.kind) {
    case 'message': {
      const d = event.detail
      return {
        atMs,
        event: {
          $case: 'message',
          value: {
            fromPeerId: d.peerId,
            originPeerId: d.origin,
            nonce: d.nonce,
            priority: d.priority,
            messageType: d.type,
            payload: d.payload,
            group: d.group,
            timestampMs: BigInt(Math.max(0, Math.floor(d.timestampMs))),
            latencyMs: d.latencyMs,
            route: d.route,
          },
        },
      }
    }
    case 'peer:state': {
      const d = event.detail
      return { atMs, event: { $case: 'peerState', value: { peerId: d.peerId, from: d.from, to: d.to, reason: d.reason } } }
    }
    case 'peer:discovered': {
      const d = event.detail
      return { atMs, event: { $case: 'peerDiscovered', value: { peerId: d.peerId, multiaddrs: d.multiaddrs, source: SOURCE[d.source] } } }
    }
    case 'score:changed':
      return { atMs, event: { $case: 'scoreChanged', value: { score: toPeerScore(event.detail.score) } } }
    case 'message:expired': {
      const d = event.detail
      return { atMs, event: { $case: 'messageExpired', value: { peerId: d.peerId, nonce: d.nonce, reason: d.reason } } }
    }
  }
}

export function toPeerScore(s: PeerScoreSnapshot): common.PeerScore {
  return {
    peerId: s.peerId,
    uptime: s.uptime,
    responsiveness: s.responsiveness,
    stability: s.stability,
    penalty: s.penalty,
    composite: s.composite,
    updatedAtMs: BigInt(Math.floor(s.updatedAtMs)),
  }
}

function discoveredSummary(handler: Handler, p: DiscoveredPeer): common.PeerSummary {
  const id = p.peerId.toString()
  const known = handler.peers().find((s) => s.peerId === id)
  return {
    peerId: id,
    state: known?.state ?? PeerState.PEER_STATE_DISCONNECTED,
    multiaddrs: p.multiaddrs.map(String),
    score: toPeerScore(handler.score(id)),
    link: known?.link,
    protected: known?.protected ?? false,
    relayed: known?.relayed ?? false,
    tags: known?.tags ?? [`source:${p.source}`],
  }
}

function wrapEvent(handler: Handler, body: Uint8Array, kind: string, contentId: string): Uint8Array {
  return Event.encode({ contentId, author: handler.peerId.toMultihash().bytes, kind, body, createdAtMs: BigInt(Date.now()) }).finish()
}

function toScope(scope: common.BroadcastScope | undefined): BroadcastScope {
  switch (scope?.kind) {
    case common.BroadcastScope_Kind.KIND_ALL:
      return { kind: 'all' }
    case common.BroadcastScope_Kind.KIND_NEIGHBORS:
      return { kind: 'neighbors' }
    case common.BroadcastScope_Kind.KIND_GROUP:
      if (scope.group === '') throw new InvalidArgumentError('scope.group is empty')
      return { kind: 'group', group: scope.group }
    default:
      throw new InvalidArgumentError('scope.kind must be KIND_ALL, KIND_NEIGHBORS or KIND_GROUP')
  }
}

function toTarget(target: common.DiscoveryTarget | undefined): DiscoverTarget {
  const t = target?.target
  switch (t?.$case) {
    case 'peerId':
      return { peerId: t.value }
    case 'random':
      if (!t.value) throw new InvalidArgumentError('target.random must be true')
      return 'random'
    case 'group':
      return { group: t.value }
    default:
      throw new InvalidArgumentError('target is required: peer_id, random or group')
  }
}

const INVALID_ARGUMENT = [
  'ERR_INVALID_CONFIG',
  'ERR_INVALID_PEER_ID',
  'ERR_INVALID_PEER',
  'ERR_INVALID_ARGUMENT',
  'ERR_INVALID_PRIORITY',
  'ERR_INVALID_SCOPE',
  'ERR_INVALID_MESSAGE',
  'ERR_EMPTY_MESSAGE',
  'ERR_PAYLOAD_TOO_LARGE',
  'ERR_INVALID_DISCOVERY_INPUT',
  'ERR_INVALID_SCORING_INPUT',
]

/** Error `code` (from any cpc-net package) → gRPC status. Unknown codes and plain errors: INTERNAL. */
export const STATUS_BY_CODE: Readonly<Record<string, Status>> = {
  ...Object.fromEntries(INVALID_ARGUMENT.map((code) => [code, Status.INVALID_ARGUMENT])),
  ERR_UNKNOWN_PEER: Status.NOT_FOUND,
  ERR_NOT_STARTED: Status.UNAVAILABLE,
  ERR_STOPPED: Status.UNAVAILABLE,
  ERR_DISCOVERY_NOT_STARTED: Status.UNAVAILABLE,
  ERR_OUTBOX_CLOSED: Status.UNAVAILABLE,
  ERR_DIAL_FAILED: Status.UNAVAILABLE,
  ERR_STREAM_CLOSED: Status.UNAVAILABLE,
  ERR_MISSING_COMPONENT: Status.FAILED_PRECONDITION,
  ERR_QUEUE_FULL: Status.RESOURCE_EXHAUSTED,
  ERR_OUTBOX_FULL: Status.RESOURCE_EXHAUSTED,
  ERR_MESSAGE_SHED: Status.RESOURCE_EXHAUSTED,
  ERR_RETRY_QUEUE_FULL: Status.RESOURCE_EXHAUSTED,
  ERR_PEER_EXCHANGE_RATE_LIMITED: Status.RESOURCE_EXHAUSTED,
  ERR_ABORTED: Status.CANCELLED,
  ABORT_ERR: Status.CANCELLED,
  ERR_TIMEOUT: Status.DEADLINE_EXCEEDED,
  ERR_DISCOVERY_ABORTED: Status.DEADLINE_EXCEEDED,
  ERR_PEER_EXCHANGE_TIMEOUT: Status.DEADLINE_EXCEEDED,
}

export function nodeErrorToStatus(err: unknown): ServerError {
  if (err instanceof ServerError) return err
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string') return new ServerError(STATUS_BY_CODE[code] ?? Status.INTERNAL, `${code}: ${(err as Error).message}`)
  return new ServerError(Status.INTERNAL, err instanceof Error ? err.message : String(err))
}

export const nodeErrorMiddleware: ServerMiddleware = async function* (call, context) {
  try {
    return yield* call.next(call.request, context)
  } catch (err) {
    // A cancelled call ends quietly; nice-grpc reports the cancellation itself.
    if (context.signal.aborted) return
    throw nodeErrorToStatus(err)
  }
}
