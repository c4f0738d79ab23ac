// The seed's metric families by name, so dashboards, alerts and tests share one spelling.
// The metrics themselves are created by each package's metrics.ts on the injected registry; these
// constants only name them. Every name below exists in that package's metrics.ts as of this commit.

/** Latency: link round-trip time and end-to-end delivery latency by priority. */
export const LATENCY_FAMILIES = {
  /** Histogram, CONTROL ping/pong RTT (@cpc/connection-manager link monitor). */
  linkRtt: 'cpc_link_rtt_seconds',
  /** Histogram by `priority`, enqueue to last frame written (@cpc/router). */
  deliveryLatency: 'cpc_router_delivery_latency_seconds',
  /** Histogram by `result`, one dial (@cpc/connection-manager). */
  dialDuration: 'cpc_connection_manager_dial_duration_seconds',
  /** Histogram by `kind`, `outcome`, one DHT query (@cpc/discovery). */
  dhtQueryDuration: 'cpc_discovery_dht_query_duration_seconds',
} as const

/** Loss: ping loss ratio, unanswered pings, dropped and shed messages by reason. */
export const LOSS_FAMILIES = {
  /** Gauge by `stat` (max, mean), one-way loss over connected links (@cpc/connection-manager). */
  linkLossRatio: 'cpc_link_loss_ratio',
  /** Counter by `result` (sent, answered, timed_out, unknown_pong) (@cpc/connection-manager). */
  linkPings: 'cpc_link_pings_total',
  /** Counter by `reason`, `priority`: queue_full, shedding, expired, rate_limited, duplicate... (@cpc/router). */
  routerDropped: 'cpc_router_dropped_total',
  /** Counter by `type`, `priority`: inbound messages refused by the rate limits (@cpc/router). */
  routerRateLimited: 'cpc_router_rate_limited_total',
  /** Gauge, 0 none, 1 LOW shed, 2 LOW and MEDIUM shed (@cpc/router). */
  routerShedLevel: 'cpc_router_shed_level',
} as const

/** Throughput: bytes and messages in and out. */
export const THROUGHPUT_FAMILIES = {
  /** Counter by `direction`, bytes on /cpc/1.0.0 streams (@cpc/connection-manager link monitor). */
  linkBytes: 'cpc_link_bytes_total',
  /** Counter by `direction`, CpcChannel bytes (@cpc/connection-manager). */
  channelBytes: 'cpc_channel_bytes_total',
  /** Counters by `type`, `priority` (@cpc/router). */
  routerMessagesSent: 'cpc_router_messages_sent_total',
  routerMessagesReceived: 'cpc_router_messages_received_total',
  routerBytesSent: 'cpc_router_bytes_sent_total',
  routerBytesReceived: 'cpc_router_bytes_received_total',
  /** Counter by `protocol` ("global sent", "/cpc/1.0.0 received", ...) from libp2p itself. */
  libp2pDataTransfer: 'libp2p_data_transfer_bytes_total',
} as const

/** Connection states, dials, retries, discovery and scoring (architecture section 5). */
export const STATE_FAMILIES = {
  peersByState: 'cpc_connection_manager_peers',
  transitions: 'cpc_connection_manager_transitions_total',
  dials: 'cpc_connection_manager_dials_total',
  retryQueueSize: 'cpc_connection_manager_retry_queue_size',
  routerQueueDepth: 'cpc_router_queue_depth',
  peersDiscovered: 'cpc_discovery_peers_discovered_total',
  peerScore: 'cpc_peer_score',
} as const

/** Process and runtime metrics of `createMetricsRegistry` with the default `cpc_` prefix. */
export const PROCESS_FAMILIES = {
  cpuSeconds: 'cpc_process_cpu_seconds_total',
  residentMemory: 'cpc_process_resident_memory_bytes',
  heapUsed: 'cpc_nodejs_heap_size_used_bytes',
  eventLoopLag: 'cpc_nodejs_eventloop_lag_seconds',
} as const

/** Every family named above: the set a dashboard may query. */
export const SEED_METRIC_FAMILIES: readonly string[] = [
  ...Object.values(LATENCY_FAMILIES),
  ...Object.values(LOSS_FAMILIES),
  ...Object.values(THROUGHPUT_FAMILIES),
  ...Object.values(STATE_FAMILIES),
  ...Object.values(PROCESS_FAMILIES),
]

/**
 * The family names present in a Prometheus text exposition (from `# TYPE` lines), e.g. a /metrics
 * body; for checking that dashboard queries name series that exist.
 */
export function familiesInExposition(text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const name = line.slice(7).split(' ', 1)[0]
      if (name !== undefined && name !== '') names.add(name)
    }
  }
  return names
}
