// The gRPC DiscoveryService: thin handlers over Discovery. Errors become gRPC statuses in
// discoveryErrorMiddleware, the one place that maps them.
import { peerIdFromString } from '@libp2p/peer-id'
import { ServerError, Status } from 'nice-grpc-common'
import type { CallContext, ServerMiddlewareCall } from 'nice-grpc-common'
import { common } from '@cpc/protocol'
import type { discoveryApi } from '@cpc/protocol'
import type { Discovery } from './discovery.js'
import {
  DiscoveryAbortedError,
  DiscoveryError,
  DiscoveryNotStartedError,
  InvalidDiscoveryInputError,
  MissingComponentError,
  PeerExchangeRateLimitedError,
  PeerExchangeTimeoutError,
} from './errors.js'
import type { DiscoveredPeer, DiscoverySourceName, DiscoveryTarget } from './types.js'

const SOURCE_TO_WIRE: Record<DiscoverySourceName, common.DiscoverySource> = {
  bootstrap: common.DiscoverySource.DISCOVERY_SOURCE_BOOTSTRAP,
  dht: common.DiscoverySource.DISCOVERY_SOURCE_DHT,
  mdns: common.DiscoverySource.DISCOVERY_SOURCE_MDNS,
  exchange: common.DiscoverySource.DISCOVERY_SOURCE_EXCHANGE,
}

const WIRE_TO_SOURCE = new Map<common.DiscoverySource, DiscoverySourceName>(
  Object.entries(SOURCE_TO_WIRE).map(([name, wire]) => [wire, name as DiscoverySourceName]),
)

/** A discovered peer as the wire PeerDiscovered. */
export function toPeerDiscoveredMessage(p: DiscoveredPeer): common.PeerDiscovered {
  return { peerId: p.peerId.toString(), multiaddrs: p.multiaddrs.map((m) => m.toString()), source: SOURCE_TO_WIRE[p.source] }
}

function toTarget(target: common.DiscoveryTarget | undefined): DiscoveryTarget {
  const t = target?.target
  switch (t?.$case) {
    case 'peerId':
      try {
        return { peerId: peerIdFromString(t.value) }
      } catch (err) {
        throw new InvalidDiscoveryInputError(`Invalid peer id ${t.value}`, { cause: err })
      }
    case 'random':
      return 'random'
    case 'group':
      return { group: t.value }
    default:
      throw new InvalidDiscoveryInputError('target is required')
  }
}

export function createDiscoveryService(discovery: Discovery): discoveryApi.DiscoveryServiceImplementation {
  return {
    async discover(request, context) {
      const signals = [context.signal]
      if (request.timeoutMs > 0) signals.push(AbortSignal.timeout(request.timeoutMs))
      const peers = await discovery.discoverPeers(toTarget(request.target), {
        signal: AbortSignal.any(signals),
        limit: request.limit > 0 ? request.limit : undefined,
      })
      return { peers: peers.map(toPeerDiscoveredMessage) }
    },
    async listKnownPeers(request) {
      const source = WIRE_TO_SOURCE.get(request.source)
      if (request.source !== common.DiscoverySource.DISCOVERY_SOURCE_UNSPECIFIED && source === undefined) {
        throw new InvalidDiscoveryInputError(`Unsupported source ${request.source}`)
      }
      return { peers: discovery.knownPeers({ source, limit: request.limit }).map(toPeerDiscoveredMessage) }
    },
    async joinGroup(request, context) {
      return { groups: await discovery.joinGroup(request.group, { signal: context.signal }) }
    },
    async leaveGroup(request, context) {
      return { groups: await discovery.leaveGroup(request.group, { signal: context.signal }) }
    },
  }
}

export function discoveryErrorToStatus(err: DiscoveryError): Status {
  switch (err.code) {
    case InvalidDiscoveryInputError.code:
      return Status.INVALID_ARGUMENT
    case DiscoveryNotStartedError.code:
    case MissingComponentError.code:
      return Status.FAILED_PRECONDITION
    case DiscoveryAbortedError.code:
    case PeerExchangeTimeoutError.code:
      return Status.DEADLINE_EXCEEDED
    case PeerExchangeRateLimitedError.code:
      return Status.RESOURCE_EXHAUSTED
    default:
      return Status.INTERNAL
  }
}

/** Install on the server that serves DiscoveryService: `createServer().use(discoveryErrorMiddleware)`. */
export async function* discoveryErrorMiddleware<Request, Response>(
  call: ServerMiddlewareCall<Request, Response>,
  context: CallContext,
): AsyncGenerator<Response, Response | void, undefined> {
  try {
    return yield* call.next(call.request, context)
  } catch (err) {
    if (err instanceof DiscoveryError) throw new ServerError(discoveryErrorToStatus(err), err.message)
    throw err
  }
}
