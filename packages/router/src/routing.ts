// The route decision, as the seed does it: the peer is connected or directly dialable → DIRECT;
// reachable through a circuit relay → RELAY (a limited connection; the channel opens its stream with
// runOnLimitedConnection); otherwise → QUEUED in the outbox until the connection manager reports the
// peer Connected, or the message expires.
//
// A dial through the connection manager uses every address the peer store has, relayed
// (/p2p/RELAY/p2p-circuit/p2p/PEER) ones included, so a peer known only by a relayed address comes
// back as a limited connection: the route is then RELAY. `relays.dialViaRelay` is the second try, for
// a peer whose addresses all failed but that our relays can reach.
import { PeerState, Route, type Priority } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from './logger.js'
import type { RouterConnections, RouterRelays } from './types.js'

export interface RoutingComponents {
  connectionManager: Pick<RouterConnections, 'state' | 'connect'>
  relays?: RouterRelays
  logger: Logger
}

export interface RouteOptions {
  priority: Priority
  dialTimeoutMs: number
  signal?: AbortSignal
}

/** Whether the peer is connected now, and how. */
export function connectedRoute(components: RoutingComponents, peer: PeerId): Route | undefined {
  if (components.connectionManager.state(peer) !== PeerState.PEER_STATE_CONNECTED) return undefined
  return components.relays?.isRelayed(peer) === true ? Route.ROUTE_RELAY : Route.ROUTE_DIRECT
}

/**
 * Finds a way to the peer: an open connection, a dial (direct addresses first, libp2p's own order),
 * then a dial through a relay. QUEUED when none worked within dialTimeoutMs. Throws only if the
 * caller's signal aborts.
 */
export async function resolveRoute(components: RoutingComponents, peer: PeerId, options: RouteOptions): Promise<Route> {
  const now = connectedRoute(components, peer)
  if (now !== undefined) return now
  const signal = options.signal === undefined ? AbortSignal.timeout(options.dialTimeoutMs) : AbortSignal.any([options.signal, AbortSignal.timeout(options.dialTimeoutMs)])
  try {
    await components.connectionManager.connect(peer, { priority: options.priority, signal })
    return connectedRoute(components, peer) ?? (components.relays?.isRelayed(peer) === true ? Route.ROUTE_RELAY : Route.ROUTE_DIRECT)
  } catch (err) {
    options.signal?.throwIfAborted()
    components.logger.debug({ peer: peer.toString(), err }, 'direct dial failed')
  }
  if (components.relays !== undefined && !signal.aborted) {
    try {
      if (await components.relays.dialViaRelay(peer, { signal })) return Route.ROUTE_RELAY
    } catch (err) {
      options.signal?.throwIfAborted()
      components.logger.debug({ peer: peer.toString(), err }, 'relayed dial failed')
    }
  }
  return Route.ROUTE_QUEUED
}
