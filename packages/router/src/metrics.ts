// Every Prometheus metric of the router, built in one place on an injected registry. Labels are
// bounded sets (type, priority, reason, result, scope): never a peer id.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export function createRouterMetrics(registry: Registry) {
  const registers = [registry]
  return {
    messagesOut: new Counter({
      name: 'cpc_router_messages_sent_total',
      help: 'Messages written to peers, by message type and priority',
      labelNames: ['type', 'priority'] as const,
      registers,
    }),
    bytesOut: new Counter({
      name: 'cpc_router_bytes_sent_total',
      help: 'Frame bytes written to peers, by message type and priority',
      labelNames: ['type', 'priority'] as const,
      registers,
    }),
    messagesIn: new Counter({
      name: 'cpc_router_messages_received_total',
      help: 'Messages received from peers, by message type and priority',
      labelNames: ['type', 'priority'] as const,
      registers,
    }),
    bytesIn: new Counter({
      name: 'cpc_router_bytes_received_total',
      help: 'Frame bytes received from peers, by message type and priority',
      labelNames: ['type', 'priority'] as const,
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'cpc_router_delivery_latency_seconds',
      help: 'From the origin timestamp_ms to delivery to the application (receiver clock), by priority',
      labelNames: ['priority'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueLatency: new Histogram({
      name: 'cpc_router_queue_latency_seconds',
      help: 'From enqueue to the last frame of the message written, by priority',
      labelNames: ['priority'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    rejected: new Counter({
      name: 'cpc_router_rejected_total',
      help: 'Inbound messages rejected, by reason (rate_limited, duplicate, invalid_signature, malformed, expired, wrong_recipient, chunk_invalid, reassembly_limit, reassembly_timeout, too_large, decompression, stale)',
      labelNames: ['reason'] as const,
      registers,
    }),
    routes: new Counter({
      name: 'cpc_router_routes_total',
      help: 'send() route decisions, by route (direct, relay, queued)',
      labelNames: ['route'] as const,
      registers,
    }),
    forwarded: new Counter({
      name: 'cpc_router_forwarded_total',
      help: 'Broadcast All frames forwarded to neighbors',
      registers,
    }),
    forwardDropped: new Counter({
      name: 'cpc_router_forward_dropped_total',
      help: 'Broadcast All forwards that did not go out to a neighbor, by reason (queue_full, queue_pressure, write_failed; never event_loop_delay); also in cpc_router_dropped_total when shed from a queue',
      labelNames: ['reason'] as const,
      registers,
    }),
    delivered: new Counter({
      name: 'cpc_router_delivered_total',
      help: 'Messages delivered to the application, by message type and priority',
      labelNames: ['type', 'priority'] as const,
      registers,
    }),
    reassemblyBytes: new Gauge({
      name: 'cpc_router_reassembly_bytes',
      help: 'Chunk bytes held for partially received messages',
      registers,
    }),
    queueDepth: new Gauge({
      name: 'cpc_router_queue_depth',
      help: 'Frames waiting in outbound queues (all peers), by priority',
      labelNames: ['priority'] as const,
      registers,
    }),
    queueBytes: new Gauge({
      name: 'cpc_router_queue_bytes',
      help: 'Bytes waiting in outbound queues (all peers), by priority',
      labelNames: ['priority'] as const,
      registers,
    }),
    dropped: new Counter({
      name: 'cpc_router_dropped_total',
      help: 'Messages dropped or shed, by reason (queue_full, event_loop_delay, queue_pressure, expired, rate_limited, duplicate, write_failed) and priority',
      labelNames: ['reason', 'priority'] as const,
      registers,
    }),
    writes: new Counter({
      name: 'cpc_router_writes_total',
      help: 'Batched writes to peers, by result (ok, error, aborted)',
      labelNames: ['result'] as const,
      registers,
    }),
    signedFrames: new Counter({
      name: 'cpc_router_batch_signed_frames_total',
      help: 'Frames signed by the writers in batches (one Merkle root per batch)',
      registers,
    }),
    signBatches: new Counter({
      name: 'cpc_router_sign_batches_total',
      help: 'Ed25519 signatures made by the writers for batches of frames (signed_frames / this = mean batch size)',
      registers,
    }),
    verified: new Counter({
      name: 'cpc_router_verify_total',
      help: 'Inbound EVENT signatures accepted, by result (verified: one Ed25519 verification; cached: a batch root verified before)',
      labelNames: ['result'] as const,
      registers,
    }),
    verifiedRoots: new Gauge({
      name: 'cpc_router_verified_roots',
      help: 'Verified batch roots the verifier remembers (bounded LRU)',
      registers,
    }),
    batchFrames: new Histogram({
      name: 'cpc_router_batch_frames',
      help: 'Frames per batched write',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    writeDuration: new Histogram({
      name: 'cpc_router_write_duration_seconds',
      help: 'Time one batched write took, backpressure included',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    dedupHits: new Counter({
      name: 'cpc_router_dedup_hits_total',
      help: 'Inbound messages recognised as duplicates by (origin, nonce)',
      registers,
    }),
    dedupEvictions: new Counter({
      name: 'cpc_router_dedup_evictions_total',
      help: 'Dedup entries forgotten before their window ended because the cache was full',
      registers,
    }),
    dedupSize: new Gauge({
      name: 'cpc_router_dedup_entries',
      help: 'Entries in the dedup cache',
      registers,
    }),
    rateLimited: new Counter({
      name: 'cpc_router_rate_limited_total',
      help: 'Inbound messages rejected by the per-peer rate limits, by message type and priority',
      labelNames: ['type', 'priority'] as const,
      registers,
    }),
    rateLimiterPeers: new Gauge({
      name: 'cpc_router_rate_limiter_peers',
      help: 'Peers whose rate-limit state is kept',
      registers,
    }),
    rateLimiterEvictions: new Counter({
      name: 'cpc_router_rate_limiter_evictions_total',
      help: 'Peers forgotten by the rate limiter because its peer table was full',
      registers,
    }),
    shedLevel: new Gauge({
      name: 'cpc_router_shed_level',
      help: 'Load shedding level: 0 none, 1 LOW shed, 2 LOW and MEDIUM shed',
      registers,
    }),
    eventLoopDelay: new Gauge({
      name: 'cpc_router_event_loop_delay_seconds',
      help: 'p99 event-loop delay over the last shedding sample interval',
      registers,
    }),
    outboxEntries: new Gauge({
      name: 'cpc_router_outbox_entries',
      help: 'Messages held in the persistent outbox for retry',
      registers,
    }),
    outboxBytes: new Gauge({
      name: 'cpc_router_outbox_bytes',
      help: 'Frame bytes held in the persistent outbox',
      registers,
    }),
    outboxRejected: new Counter({
      name: 'cpc_router_outbox_rejected_total',
      help: 'Outbox puts refused because a bound would be passed, by scope (peer, total)',
      labelNames: ['scope'] as const,
      registers,
    }),
    outboxExpired: new Counter({
      name: 'cpc_router_outbox_expired_total',
      help: 'Outbox entries removed because they expired before delivery, by priority',
      labelNames: ['priority'] as const,
      registers,
    }),
  }
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>
