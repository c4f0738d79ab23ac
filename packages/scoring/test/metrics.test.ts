import { describe, it, expect } from '@jest/globals'
import { Registry } from 'prom-client'
import { PeerScorer, createScoringMetrics } from '../src/index.js'
import { ManualClock } from './helpers.js'

describe('scoring metrics', () => {
  it('counts penalties by kind, tracked peers, and the composite distribution at scrape time', async () => {
    const registry = new Registry()
    const metrics = createScoringMetrics(registry)
    const clock = new ManualClock()
    const scorer = new PeerScorer({ clock: clock.now, metrics }, {})
    scorer.connected('a')
    scorer.penalize('b', 'invalid-signature')
    scorer.penalize('b', 'rate-limit')
    scorer.penalize('c', 'rate-limit')
    const text = await registry.metrics()
    expect(text).toContain('cpc_peer_penalties_total{kind="invalid-signature"} 1')
    expect(text).toContain('cpc_peer_penalties_total{kind="rate-limit"} 2')
    expect(text).toContain('cpc_scored_peers 3')
    expect(text).toContain('cpc_peer_score_count 3')
    expect(text).toContain('cpc_scoring_events_total{event="penalty"} 3')
    expect(text).not.toMatch(/peer(_id)?="/)
    // scraping again does not double count the distribution
    expect(await registry.metrics()).toContain('cpc_peer_score_count 3')
  })
})
