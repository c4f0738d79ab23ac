// All @cpc/scoring metrics, built in one place. Labels are bounded (kind, event, reason): never a
// peer id.
import { Counter, Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'

export function createScoringMetrics(registry: Registry) {
  let collector: (() => void) | undefined
  const peerScore = new Histogram({
    name: 'cpc_peer_score',
    help: 'Distribution of the composite scores of all tracked peers, computed at scrape time',
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers: [registry],
    collect() {
      collector?.()
    },
  })
  return {
    peerScore,
    penaltiesTotal: new Counter<'kind'>({
      name: 'cpc_peer_penalties_total',
      help: 'Penalties recorded, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    scoredPeers: new Gauge({
      name: 'cpc_scored_peers',
      help: 'Peers tracked by the scorer (connected and retained)',
      registers: [registry],
    }),
    scoringEventsTotal: new Counter<'event'>({
      name: 'cpc_scoring_events_total',
      help: 'Events recorded by the scorer, by event',
      labelNames: ['event'],
      registers: [registry],
    }),
    forgottenPeersTotal: new Counter<'reason'>({
      name: 'cpc_scoring_forgotten_peers_total',
      help: 'Peers dropped by the scorer: retention elapsed or evicted at maxPeers',
      labelNames: ['reason'],
      registers: [registry],
    }),
    scoreChangesTotal: new Counter({
      name: 'cpc_score_changes_total',
      help: "'score:changed' events emitted",
      registers: [registry],
    }),
    /** Called at scrape time to refill the cpc_peer_score histogram (one source per registry). */
    onCollect(fn: () => void): void {
      collector = fn
    },
  }
}

export type ScoringMetrics = ReturnType<typeof createScoringMetrics>
