import { describe, it, expect } from '@jest/globals'
import { setup } from './helpers.js'

const HOUR = 3_600_000

function fixture() {
  const { scorer, clock } = setup()
  // good: long-lived, fast; ok: new; slow: timeouts; bad: penalized; gone: disconnected by error
  for (const p of ['good', 'ok', 'slow', 'bad', 'gone']) scorer.connected(p)
  for (let i = 0; i < 20; i++) {
    scorer.rtt('good', 20)
    scorer.requestTimedOut('slow')
  }
  clock.advance(HOUR)
  scorer.penalize('bad', 'invalid-signature')
  scorer.disconnected('gone', { error: true })
  scorer.connected('ok')
  return { scorer, clock }
}

describe('ranking helpers', () => {
  it('list() and best(n) are best first; best takes a filter', () => {
    const { scorer } = fixture()
    const all = scorer.list()
    expect(all.map((s) => s.peerId)[0]).toBe('good')
    for (let i = 1; i < all.length; i++) expect(all[i - 1].composite).toBeGreaterThanOrEqual(all[i].composite)
    expect(scorer.best(2).map((s) => s.peerId)).toEqual(all.slice(0, 2).map((s) => s.peerId))
    expect(scorer.best(10, (s) => !s.connected).map((s) => s.peerId)).toEqual(['gone'])
    expect(scorer.best(0)).toEqual([])
  })

  it('pruneCandidates: lowest first, never protected, unknown peers neutral', () => {
    const { scorer } = fixture()
    const connected = ['good', 'ok', 'slow', 'bad', 'stranger']
    const out = scorer.pruneCandidates(connected, 3, { protected: ['slow'] })
    expect(out.map((s) => s.peerId)).toEqual(['bad', 'stranger', 'ok'])
    expect(out[1].known).toBe(false)
    for (let i = 1; i < out.length; i++) expect(out[i - 1].composite).toBeLessThanOrEqual(out[i].composite)
    expect(scorer.pruneCandidates(connected, 10, { protected: connected })).toEqual([])
  })

  it('relayCandidates: connected, unpenalized, ranked by relay weights', () => {
    const { scorer } = fixture()
    const ids = scorer.relayCandidates(10).map((s) => s.peerId)
    expect(ids).not.toContain('bad')
    expect(ids).not.toContain('gone')
    expect(ids[0]).toBe('good')
    expect(scorer.relayCandidates(10, { among: ['slow', 'ok', 'nobody'] }).map((s) => s.peerId).sort()).toEqual(['ok', 'slow'])
    expect(scorer.relayCandidates(10, { includeDisconnected: true }).map((s) => s.peerId)).toContain('gone')
    expect(scorer.relayCandidates(1)).toHaveLength(1)
  })

  it('ties are broken by peer id, so rankings are deterministic', () => {
    const { scorer } = setup()
    for (const p of ['c', 'a', 'b']) scorer.connected(p)
    expect(scorer.best(3).map((s) => s.peerId)).toEqual(['a', 'b', 'c'])
    expect(scorer.pruneCandidates(['c', 'b', 'a'], 3).map((s) => s.peerId)).toEqual(['a', 'b', 'c'])
  })
})
