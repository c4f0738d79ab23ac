// NetworkHandler's own metrics (the parts register theirs in their packages' metrics.ts).
import { Counter, type Registry } from 'prom-client'
import type { PeerIdCacheMetrics } from './peer-id-cache.js'

export type NetworkMetrics = PeerIdCacheMetrics

export function createNetworkMetrics(registry: Registry): NetworkMetrics {
  return {
    lookups: new Counter({
      name: 'cpc_network_peer_id_cache_total',
      help: 'Peer id strings given to the NetworkHandler API, by whether the parsed PeerId was cached',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  }
}
