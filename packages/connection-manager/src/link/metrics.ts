// Prometheus metrics of link/: cpc_ prefix, bounded labels only (no peer id anywhere: RTT and
// probes are high-rate series, and per-peer figures are served by LinkMonitor.stats / gRPC instead).
import { Counter, Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'

export type ProbeResult =
  | 'sent'
  | 'received'
  | 'echo_sent'
  | 'echo_received'
  | 'dropped_malformed'
  | 'dropped_unknown_session'
  | 'dropped_unauthenticated'
  | 'dropped_duplicate'
  | 'dropped_rate_limited'
  | 'send_error'

export type PingResult = 'sent' | 'answered' | 'timed_out' | 'unknown_pong'

export function createLinkMetrics(registry: Registry) {
  let lossSource: (() => number[]) | undefined
  let intervalSource: (() => number[]) | undefined

  return {
    rtt: new Histogram({
      name: 'cpc_link_rtt_seconds',
      help: 'Round-trip time of CONTROL ping/pong on /cpc/1.0.0',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    lossRatio: new Gauge({
      name: 'cpc_link_loss_ratio',
      help: 'One-way packet loss ratio of the links (worst direction per peer), max and mean over connected peers',
      labelNames: ['stat'] as const,
      registers: [registry],
      collect() {
        const values = lossSource?.() ?? []
        this.set({ stat: 'max' }, values.length === 0 ? 0 : Math.max(...values))
        this.set({ stat: 'mean' }, values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length)
      },
    }),
    peersHeartbeatInterval: new Gauge({
      name: 'cpc_link_heartbeat_interval_current_seconds',
      help: 'Current adaptive heartbeat interval, min and max over connected peers',
      labelNames: ['stat'] as const,
      registers: [registry],
      collect() {
        const values = intervalSource?.() ?? []
        this.set({ stat: 'min' }, values.length === 0 ? 0 : Math.min(...values) / 1000)
        this.set({ stat: 'max' }, values.length === 0 ? 0 : Math.max(...values) / 1000)
      },
    }),
    bytes: new Counter({
      name: 'cpc_link_bytes_total',
      help: 'Bytes on /cpc/1.0.0 streams as sampled by the link monitor',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
    heartbeatInterval: new Histogram({
      name: 'cpc_link_heartbeat_interval_seconds',
      help: 'Adaptive heartbeat interval used for each ping sent',
      buckets: [0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60],
      registers: [registry],
    }),
    pings: new Counter({
      name: 'cpc_link_pings_total',
      help: 'CONTROL pings by outcome',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    probes: new Counter({
      name: 'cpc_link_probes_total',
      help: 'UDP loss probes and echoes by outcome',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    /** LinkMonitor plugs in its per-peer loss figures; read at scrape time only. */
    setLossSource(fn: (() => number[]) | undefined): void {
      lossSource = fn
    },
    setIntervalSource(fn: (() => number[]) | undefined): void {
      intervalSource = fn
    },
  }
}

export type LinkMetrics = ReturnType<typeof createLinkMetrics>
