// All @cpc/discovery metrics, built in one place. Labels are bounded (source, kind, outcome, code,
// direction): never a peer id or a group name.
import { Counter, Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'

export function createDiscoveryMetrics(registry: Registry) {
  let collectRoutingTable: (() => number | undefined) | undefined
  let collectKnownPeers: (() => number) | undefined
  const routingTableSize = new Gauge({
    name: 'cpc_discovery_routing_table_size',
    help: 'Peers in the Kademlia routing table, read at scrape time',
    registers: [registry],
    collect() {
      const size = collectRoutingTable?.()
      if (size !== undefined) this.set(size)
    },
  })
  const knownPeers = new Gauge({
    name: 'cpc_discovery_known_peers',
    help: 'Peers remembered by discovery (bounded by maxKnownPeers), read at scrape time',
    registers: [registry],
    collect() {
      if (collectKnownPeers !== undefined) this.set(collectKnownPeers())
    },
  })
  return {
    routingTableSize,
    knownPeers,
    /** Wires the scrape-time gauges to a running Discovery (one at a time). */
    bindCollectors(routingTable: (() => number | undefined) | undefined, known: (() => number) | undefined): void {
      collectRoutingTable = routingTable
      collectKnownPeers = known
    },
    peersDiscoveredTotal: new Counter<'source'>({
      name: 'cpc_discovery_peers_discovered_total',
      help: 'Peers discovered for the first time, by source (bootstrap, dht, mdns, exchange)',
      labelNames: ['source'],
      registers: [registry],
    }),
    dhtQueryDuration: new Histogram<'kind' | 'outcome'>({
      name: 'cpc_discovery_dht_query_duration_seconds',
      help: 'Duration of DHT queries by kind (find_peer, random_walk, find_providers, provide) and outcome',
      labelNames: ['kind', 'outcome'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    dialsTotal: new Counter<'source' | 'outcome'>({
      name: 'cpc_discovery_dials_total',
      help: 'Dials of discovered peers by source and outcome (success, failure, skipped)',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    }),
    peerExchangeMessagesTotal: new Counter<'direction' | 'kind'>({
      name: 'cpc_discovery_peer_exchange_messages_total',
      help: 'DISCOVERY messages by direction (in, out) and kind (request, response, announce)',
      labelNames: ['direction', 'kind'],
      registers: [registry],
    }),
    peerExchangeRejectedTotal: new Counter<'code'>({
      name: 'cpc_discovery_peer_exchange_rejected_total',
      help: 'DISCOVERY messages rejected, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    peerExchangeRateLimitedTotal: new Counter<'kind'>({
      name: 'cpc_discovery_peer_exchange_rate_limited_total',
      help: 'DISCOVERY messages dropped by the per-peer rate limit, by kind (request, announce)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    periodicExchangesTotal: new Counter<'outcome'>({
      name: 'cpc_discovery_periodic_exchanges_total',
      help: 'Rounds of the periodic peer exchange by outcome (learned, nothing, failed, enough, no_peer)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    announcesTotal: new Counter<'trigger'>({
      name: 'cpc_discovery_announces_total',
      help: 'Rounds announcing our own record to the best neighbours, by trigger (group, address)',
      labelNames: ['trigger'],
      registers: [registry],
    }),
    groupsJoined: new Gauge({
      name: 'cpc_discovery_groups_joined',
      help: 'Groups this node announces membership of',
      registers: [registry],
    }),
  }
}

export type DiscoveryMetrics = ReturnType<typeof createDiscoveryMetrics>
