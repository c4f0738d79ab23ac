// The link monitor of a node process (RTT histogram, one-way loss from UDP probes, link throughput,
// adaptive heartbeat). NetworkHandler builds its ConnectionManager inside create(), while the
// monitor must exist before (the manager drives it) and sends its pings through the manager: the
// manager and scorer are bound late, right after create().
import { LinkMonitor, createLinkMetrics, type ConnectionManager, type LinkMonitorInit } from '@cpc/connection-manager'
import type { Logger } from '@cpc/observability'
import type { PeerScorer } from '@cpc/scoring'
import { multiaddr } from '@multiformats/multiaddr'
import type { Registry } from 'prom-client'

export interface LateLink {
  monitor: LinkMonitor
  bind(parts: { connectionManager: ConnectionManager; scorer: PeerScorer }): void
}

export function createLateLinkMonitor(registry: Registry, logger: Logger, listen: readonly string[], init: LinkMonitorInit = {}): LateLink {
  const late: { cm?: ConnectionManager; scorer?: PeerScorer } = {}
  const monitor = new LinkMonitor(
    {
      sendControl: async (peer, control, options) => {
        if (late.cm === undefined) return
        await late.cm.sendControl(peer, control, options)
      },
      metrics: createLinkMetrics(registry),
      scorer: {
        rtt: (peer, ms) => late.scorer?.rtt(peer, ms),
        requestTimedOut: (peer) => late.scorer?.requestTimedOut(peer),
        requestAnswered: (peer) => late.scorer?.requestAnswered(peer),
      },
      logger,
    },
    { ...(probeHost(listen) !== undefined ? { probeHost: probeHost(listen) } : {}), ...init },
  )
  return {
    monitor,
    bind: (parts) => {
      late.cm = parts.connectionManager
      late.scorer = parts.scorer
    },
  }
}

/** UDP probes bind to the host of the first IP TCP listener (so a loopback node stays on loopback). */
function probeHost(listen: readonly string[]): string | undefined {
  for (const addr of listen) {
    try {
      const ip = multiaddr(addr).getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')
      if (ip?.value !== undefined) return ip.value
    } catch {
      // Validated already; ignore.
    }
  }
  return undefined
}
