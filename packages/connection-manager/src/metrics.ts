// Every Prometheus metric of the package, built in one place on an injected registry. Labels are
// bounded sets (states, reasons, directions, outcomes): no peer id anywhere.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export function createConnectionManagerMetrics(registry: Registry) {
  const registers = [registry]
  return {
    transitions: new Counter({
      name: 'cpc_connection_manager_transitions_total',
      help: 'Peer state transitions, by from/to state and reason',
      labelNames: ['from', 'to', 'reason'] as const,
      registers,
    }),
    peers: new Gauge({
      name: 'cpc_connection_manager_peers',
      help: 'Tracked peers by state',
      labelNames: ['state'] as const,
      registers,
    }),
    dials: new Counter({
      name: 'cpc_connection_manager_dials_total',
      help: 'Dials by kind (connect, retry) and result (success, reused, failure, aborted)',
      labelNames: ['kind', 'result'] as const,
      registers,
    }),
    dialDuration: new Histogram({
      name: 'cpc_connection_manager_dial_duration_seconds',
      help: 'Time from Connecting to Connected or failure',
      labelNames: ['result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    retries: new Counter({
      name: 'cpc_connection_manager_retries_total',
      help: 'Retry scheduling outcomes (scheduled, given_up, dropped, evicted)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    retryQueueSize: new Gauge({
      name: 'cpc_connection_manager_retry_queue_size',
      help: 'Peers waiting for a retry dial',
      registers,
    }),
    backoffDelay: new Histogram({
      name: 'cpc_connection_manager_backoff_delay_seconds',
      help: 'Backoff delays drawn for retries',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    pruned: new Counter({
      name: 'cpc_connection_manager_pruned_total',
      help: 'Peers disconnected by the watermark pruner',
      registers,
    }),
    protectedPeers: new Gauge({
      name: 'cpc_connection_manager_protected_peers',
      help: 'Peers protected from pruning (tagged or with HIGH traffic)',
      registers,
    }),
    goodbyes: new Counter({
      name: 'cpc_connection_manager_goodbyes_total',
      help: 'CONTROL goodbyes sent and received, by reason',
      labelNames: ['direction', 'reason'] as const,
      registers,
    }),
    controlRejected: new Counter({
      name: 'cpc_connection_manager_control_rejected_total',
      help: 'Inbound CONTROL messages dropped (bad signature, undecodable)',
      labelNames: ['reason'] as const,
      registers,
    }),
    channelBytes: new Counter({
      name: 'cpc_channel_bytes_total',
      help: 'Bytes on /cpc/1.0.0 streams, by direction',
      labelNames: ['direction'] as const,
      registers,
    }),
    channelFrames: new Counter({
      name: 'cpc_channel_frames_total',
      help: 'Frames on /cpc/1.0.0 streams, by direction',
      labelNames: ['direction'] as const,
      registers,
    }),
    channelProtocolErrors: new Counter({
      name: 'cpc_channel_protocol_errors_total',
      help: 'Inbound streams aborted on a frame error, by error code',
      labelNames: ['code'] as const,
      registers,
    }),
    channelGated: new Counter({
      name: 'cpc_channel_gated_total',
      help: 'Inbound frames dropped by the inbound gate (rate limiting), by message type',
      labelNames: ['type'] as const,
      registers,
    }),
    channelDrainWaits: new Counter({
      name: 'cpc_channel_drain_waits_total',
      help: 'Sends that waited for the stream to drain (backpressure)',
      registers,
    }),
  }
}

export type ConnectionManagerMetrics = ReturnType<typeof createConnectionManagerMetrics>
