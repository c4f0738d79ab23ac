import { describe, it, expect } from '@jest/globals'
import { InvalidScoringStateError, PeerScorer } from '../src/index.js'
import { setup } from './helpers.js'

const HOUR = 3_600_000

describe('PeerScorer state', () => {
  it('exports plain JSON and restores the same scores', () => {
    const { scorer, clock } = setup()
    scorer.connected('A')
    scorer.rtt('A', 40)
    scorer.penalize('B', 'rate-limit')
    scorer.dialFailed('C')
    clock.advance(HOUR)
    scorer.disconnected('A')
    const text = JSON.stringify(scorer)
    const restored = PeerScorer.fromState({ clock: clock.now }, {}, JSON.parse(text))
    expect(restored.list()).toEqual(scorer.list())
    expect(JSON.stringify(restored)).toBe(text)
  })

  it('by default restores connected peers as cleanly disconnected at savedAtMs, keeping penalties', () => {
    const { scorer, clock } = setup()
    scorer.connected('A')
    scorer.penalize('A', 'invalid-signature')
    clock.advance(HOUR)
    const saved = scorer.exportState()
    clock.advance(HOUR) // the node was down for an hour
    const restored = PeerScorer.fromState({ clock: clock.now }, {}, saved)
    const s = restored.score('A')
    expect(s.connected).toBe(false)
    expect(s.penalty).toBeCloseTo(10 * Math.pow(2, -2 * HOUR / restored.config.penaltyHalfLifeMs), 10)
    // it was up for the hour before the save; the hour after is idle (decays toward neutral)
    expect(s.uptime).toBeGreaterThan(0.5)
    expect(s.uptime).toBeLessThan(scorer.score('A').uptime)
  })

  it('keeps at most maxPeers on import, the most recently active', () => {
    const { scorer, clock } = setup()
    for (const p of ['a', 'b', 'c', 'd']) {
      scorer.requestAnswered(p)
      clock.advance(1)
    }
    const small = PeerScorer.fromState({ clock: clock.now }, { maxPeers: 2 }, scorer.exportState())
    expect(small.size).toBe(2)
    expect(small.has('c') && small.has('d')).toBe(true)
  })

  it('rejects state it cannot read', () => {
    const { scorer } = setup()
    const good = { version: 1, savedAtMs: 0, peers: [] }
    expect(() => scorer.importState(good)).not.toThrow()
    for (const bad of [
      null,
      'x',
      { ...good, version: 2 },
      { ...good, savedAtMs: 'now' },
      { ...good, peers: {} },
      { ...good, peers: [{ peerId: 'a' }] },
      { ...good, peers: [{ peerId: '', mode: 'up', atMs: 0, upMs: 0, downMs: 0, respGood: 0, respBad: 0, stabGood: 0, stabBad: 0, penalty: 0, firstSeenMs: 0 }] },
      { ...good, peers: [{ peerId: 'a', mode: 'sideways', atMs: 0, upMs: 0, downMs: 0, respGood: 0, respBad: 0, stabGood: 0, stabBad: 0, penalty: 0, firstSeenMs: 0 }] },
      { ...good, peers: [{ peerId: 'a', mode: 'up', atMs: 0, upMs: -1, downMs: 0, respGood: 0, respBad: 0, stabGood: 0, stabBad: 0, penalty: 0, firstSeenMs: 0 }] },
    ]) {
      expect(() => scorer.importState(bad)).toThrow(InvalidScoringStateError)
    }
  })
})
