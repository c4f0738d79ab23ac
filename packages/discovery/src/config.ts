// The libp2p configuration of discovery: the caller (@cpc/network) spreads it into createLibp2p.
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { lazyMdns } from './lazy-mdns.js'
import { DEFAULT_GROUP_RECORD_TTL_MS, DHT_PROTOCOL } from './constants.js'

/**
 * - `server`: answer DHT queries (bootstrap, relay and publicly reachable nodes).
 * - `client`: only query (behind NAT).
 * - `auto`: start as client and let kad-dht switch to server when libp2p confirms a public address
 *   (AutoNAT's verdict arrives through `self:peer:update`), and back when it is lost.
 */
export type DhtMode = 'server' | 'client' | 'auto'

/**
 * - `public`: removePrivateAddressesMapper, never share or store private/loopback addresses.
 * - `private`: passthroughMapper, keep every address (devnets on 127.0.0.1, LANs).
 */
export type AddressScope = 'public' | 'private'

export interface DiscoveryServicesInit {
  /** DHT mode (default 'auto'). */
  dhtMode?: DhtMode
  /** Which addresses the DHT keeps (default 'public'). */
  addressScope?: AddressScope
  /** Enable mDNS on the local network (default false: it multicasts on every real interface). */
  mdns?: boolean
  /** mDNS query interval in ms (libp2p default 10 s). */
  mdnsIntervalMs?: number
  /** Validity of group provider records (ms, default DEFAULT_GROUP_RECORD_TTL_MS). */
  groupRecordTtlMs?: number
  /** DHT protocol id (default DHT_PROTOCOL); only tests of isolation should change it. */
  dhtProtocol?: string
}

/** Services to merge into the libp2p `services` map. Needs `identify` and `ping` next to it. */
export interface DiscoveryLibp2pServices {
  dht: ReturnType<typeof kadDHT>
  /** @libp2p/mdns, loaded when the service starts (lazy-mdns.ts). */
  mdns?: ReturnType<typeof lazyMdns>
}

export interface DiscoveryLibp2pConfig {
  services: DiscoveryLibp2pServices
}

/**
 * The libp2p pieces of discovery. mDNS is registered as a service (not in `peerDiscovery`) so that
 * Discovery can tell its peers apart from the DHT's and dial them. Bootstrap peers are not given to
 * @libp2p/bootstrap: Discovery dials them itself through the connection manager, with its backoff
 * and protection, which @libp2p/bootstrap would bypass.
 */
export function discoveryServices(init: DiscoveryServicesInit = {}): DiscoveryLibp2pConfig {
  const mode = init.dhtMode ?? 'auto'
  const ttlMs = init.groupRecordTtlMs ?? DEFAULT_GROUP_RECORD_TTL_MS
  const services: DiscoveryLibp2pServices = {
    dht: kadDHT({
      protocol: init.dhtProtocol ?? DHT_PROTOCOL,
      clientMode: mode === 'auto' ? undefined : mode === 'client',
      peerInfoMapper: (init.addressScope ?? 'public') === 'private' ? passthroughMapper : removePrivateAddressesMapper,
      providers: { provideValidity: Math.max(1, Math.ceil(ttlMs / 1000)) },
      // kad-dht's own reprovider is kept in step with ours (ours re-announces at half the TTL).
      reprovide: { validity: ttlMs, threshold: Math.floor(ttlMs / 2), interval: Math.max(1000, Math.floor(ttlMs / 4)) },
    }),
  }
  if (init.mdns === true) {
    services.mdns = lazyMdns(init.mdnsIntervalMs === undefined ? {} : { interval: init.mdnsIntervalMs })
  }
  return { services }
}
