// RouterRelays over a libp2p node with circuitRelayTransport(): whether a peer's connections are all
// relayed (limited, or over a /p2p-circuit address), and a dial of /p2p/RELAY/p2p-circuit/p2p/PEER through each known relay in turn.
import type { AbortOptions, Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { RouterRelays } from './types.js'

export interface Libp2pRelaysInit {
  /** Relays to try, best first (e.g. the peers tagged 'relay' by the connection manager). */
  relays?: () => Iterable<PeerId>
}

export function createLibp2pRelays(node: Pick<Libp2p, 'dial' | 'getConnections'>, init: Libp2pRelaysInit = {}): RouterRelays {
  return {
    isRelayed(peer: PeerId): boolean {
      const conns = node.getConnections(peer).filter((c) => c.status === 'open')
      // A relay that applies no limit gives a connection without `limits`: its address still says p2p-circuit.
      return conns.length > 0 && conns.every((c) => c.limits != null || c.remoteAddr.toString().includes('/p2p-circuit'))
    },
    async dialViaRelay(peer: PeerId, options: AbortOptions = {}): Promise<boolean> {
      for (const relay of init.relays?.() ?? []) {
        if (relay.equals(peer)) continue
        options.signal?.throwIfAborted()
        try {
          await node.dial(multiaddr(`/p2p/${relay.toString()}/p2p-circuit/p2p/${peer.toString()}`), options)
          return true
        } catch {
          // Next relay.
        }
      }
      return false
    },
  }
}
