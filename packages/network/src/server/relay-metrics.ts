// Metrics of the circuit relay v2 server (role 'relay'): reservations held now and bytes relayed.
// @libp2p/circuit-relay-v2 4.x keeps its reservations in a PeerMap and exports only a tracked-map
// gauge (libp2p_circuit_relay_server_reservations_total); relayed bytes are read from libp2p's own
// per-protocol transfer counter for the hop protocol (relayed data flows on hop streams once CONNECT
// succeeds; the few bytes of RESERVE/CONNECT messages are counted too).
import { Counter, Gauge, type Registry } from 'prom-client'

export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'
const LIBP2P_TRANSFER = 'libp2p_data_transfer_bytes_total'

/** The slice of CircuitRelayServer read here. */
export interface RelayServerLike {
  reservations: { size: number }
}

export interface RelayMetricsInit {
  maxReservations: number
}

export function createRelayMetrics(registry: Registry, relay: RelayServerLike, init: RelayMetricsInit) {
  const seen = { received: 0, sent: 0 }
  const relayedBytes = new Counter({
    name: 'cpc_relay_relayed_bytes_total',
    help: 'Bytes through the relay on circuit relay v2 hop streams, by direction as seen from the relay',
    labelNames: ['direction'] as const,
    registers: [registry],
    async collect() {
      const metric = registry.getSingleMetric(LIBP2P_TRANSFER)
      if (metric === undefined) return
      const { values } = await metric.get()
      for (const v of values) {
        const protocol = String(v.labels.protocol ?? '')
        if (!protocol.startsWith(RELAY_HOP_PROTOCOL)) continue
        const direction = protocol.endsWith(' sent') ? 'sent' : 'received'
        // libp2p's counter only grows; count each byte once.
        const total = v.value
        if (total > seen[direction]) {
          this.inc({ direction }, total - seen[direction])
          seen[direction] = total
        }
      }
    },
  })
  // Present from the first scrape, before anything was relayed.
  relayedBytes.inc({ direction: 'received' }, 0)
  relayedBytes.inc({ direction: 'sent' }, 0)
  return {
    reservations: new Gauge({
      name: 'cpc_relay_reservations',
      help: 'Circuit relay v2 reservations held now',
      registers: [registry],
      collect() {
        this.set(relay.reservations.size)
      },
    }),
    maxReservations: new Gauge({
      name: 'cpc_relay_reservations_max',
      help: 'Configured maximum of circuit relay v2 reservations',
      registers: [registry],
      collect() {
        this.set(init.maxReservations)
      },
    }),
    relayedBytes,
  }
}

export type RelayMetrics = ReturnType<typeof createRelayMetrics>
