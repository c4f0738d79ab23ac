import { describe, it, expect } from '@jest/globals'
import { InvalidScoringInputError, NEUTRAL, PeerScorer, UnknownPeerError } from '../src/index.js'
import type { ScoreChangedDetail } from '../src/index.js'
import { setup } from './helpers.js'

const MIN = 60_000
const HOUR = 60 * MIN

describe('PeerScorer terms', () => {
  it('scores an unknown peer neutral and does not start tracking it', () => {
    const { scorer } = setup()
    const s = scorer.score('A')
    expect(s).toMatchObject({ peerId: 'A', uptime: NEUTRAL, responsiveness: NEUTRAL, stability: NEUTRAL, penalty: 0, composite: NEUTRAL, known: false })
    expect(scorer.has('A')).toBe(false)
    expect(scorer.get('A')).toBeUndefined()
    expect(() => scorer.require('A')).toThrow(UnknownPeerError)
  })

  it('uptime rises while connected and falls after an error disconnect', () => {
    const { scorer, clock } = setup()
    scorer.connected('A')
    expect(scorer.score('A').uptime).toBeCloseTo(NEUTRAL)
    clock.advance(HOUR)
    const up = scorer.score('A').uptime
    expect(up).toBeGreaterThan(0.85)
    scorer.disconnected('A', { error: true })
    clock.advance(HOUR)
    expect(scorer.score('A').uptime).toBeLessThan(up)
    expect(scorer.score('A').uptime).toBeLessThan(NEUTRAL)
  })

  it('a clean disconnect does not count as down time: uptime decays toward neutral', () => {
    const { scorer, clock } = setup()
    scorer.connected('A')
    clock.advance(HOUR)
    scorer.disconnected('A')
    const before = scorer.score('A').uptime
    clock.advance(10 * HOUR)
    const after = scorer.score('A').uptime
    expect(after).toBeLessThan(before)
    expect(after).toBeGreaterThanOrEqual(NEUTRAL)
    expect(after - NEUTRAL).toBeLessThan(0.01)
  })

  it('uptime follows the exact formula (decayed connected ms against the prior)', () => {
    const { scorer, clock } = setup({ decayHalfLifeMs: 30 * MIN, uptimePriorMs: 10 * MIN })
    scorer.connected('A')
    clock.advance(30 * MIN)
    const H = 30 * MIN
    const upMs = (H / Math.LN2) * (1 - 0.5)
    expect(scorer.score('A').uptime).toBeCloseTo((upMs + 0.5 * 10 * MIN) / (upMs + 10 * MIN), 10)
  })

  it('responsiveness: fast RTTs and answers raise it; slow RTTs and timeouts lower it', () => {
    const { scorer } = setup({ targetRttMs: 100 })
    for (let i = 0; i < 10; i++) scorer.rtt('fast', 50)
    for (let i = 0; i < 10; i++) scorer.requestAnswered('fast')
    for (let i = 0; i < 10; i++) scorer.rtt('slow', 400)
    for (let i = 0; i < 10; i++) scorer.requestTimedOut('slow')
    expect(scorer.score('fast').responsiveness).toBeGreaterThan(0.9)
    expect(scorer.score('slow').responsiveness).toBeLessThan(0.15)
    // one sample at 2× target is worth half good, half bad: stays at neutral from neutral
    scorer.rtt('half', 200)
    expect(scorer.score('half').responsiveness).toBeCloseTo(NEUTRAL, 10)
  })

  it('stability: failed dials and error disconnects lower it; long connections raise it', () => {
    const { scorer, clock } = setup()
    for (let i = 0; i < 5; i++) {
      scorer.dialFailed('flaky')
      scorer.connected('flaky')
      scorer.disconnected('flaky', { error: true })
    }
    expect(scorer.score('flaky').stability).toBeLessThan(0.25)
    scorer.dialSucceeded('solid')
    scorer.connected('solid')
    clock.advance(2 * HOUR)
    expect(scorer.score('solid').stability).toBeGreaterThan(0.8)
  })

  it('penalties lower the composite multiplicatively and decay with their half-life', () => {
    const { scorer, clock } = setup({ penaltyHalfLifeMs: HOUR, penaltyScale: 10 })
    scorer.requestAnswered('A')
    const before = scorer.composite('A')
    scorer.penalize('A', 'invalid-signature')
    expect(scorer.score('A').penalty).toBe(10)
    expect(scorer.composite('A')).toBeCloseTo(before * Math.exp(-1), 10)
    clock.advance(HOUR)
    expect(scorer.score('A').penalty).toBeCloseTo(5, 10)
    scorer.penalize('A', 'rate-limit', 2.5)
    expect(scorer.score('A').penalty).toBeCloseTo(7.5, 10)
  })

  it('caps penalty points at maxPenalty', () => {
    const { scorer } = setup({ maxPenalty: 20 })
    for (let i = 0; i < 10; i++) scorer.penalize('A', 'invalid-signature')
    expect(scorer.score('A').penalty).toBe(20)
  })

  it('rejects bad input with named errors', () => {
    const { scorer } = setup()
    expect(() => scorer.rtt('A', -1)).toThrow(InvalidScoringInputError)
    expect(() => scorer.rtt('A', Number.NaN)).toThrow(InvalidScoringInputError)
    expect(() => scorer.penalize('A', 'rate-limit', -1)).toThrow(InvalidScoringInputError)
    expect(() => scorer.penalize('A', 'nope' as never)).toThrow(InvalidScoringInputError)
    expect(() => scorer.connected('')).toThrow(InvalidScoringInputError)
    expect(() => new PeerScorer({}, { decayHalfLifeMs: 0 })).toThrow(InvalidScoringInputError)
    expect(() => new PeerScorer({}, { weights: { uptime: 0, responsiveness: 0, stability: 0 } })).toThrow(InvalidScoringInputError)
    try {
      scorer.rtt('A', -1)
    } catch (err) {
      expect((err as InvalidScoringInputError).code).toBe('ERR_INVALID_SCORING_INPUT')
    }
  })

  it('treats a clock stepping backwards as no time passing', () => {
    const { scorer, clock } = setup()
    scorer.penalize('A', 'protocol-error')
    clock.advance(-HOUR)
    expect(scorer.score('A').penalty).toBe(3)
    scorer.requestAnswered('A')
    expect(scorer.score('A').penalty).toBe(3)
  })

  it('normalizes weights: composite of all-neutral terms is neutral for any weights', () => {
    const { scorer } = setup({ weights: { uptime: 5, responsiveness: 1, stability: 0 } })
    scorer.connected('A')
    expect(scorer.composite('A')).toBeCloseTo(NEUTRAL, 10)
  })
})

describe('PeerScorer retention and bounds', () => {
  it('reconnecting does not reset penalties or stability', () => {
    const { scorer, clock } = setup()
    scorer.connected('bad')
    scorer.penalize('bad', 'invalid-signature')
    scorer.disconnected('bad', { error: true })
    const low = scorer.score('bad')
    clock.advance(MIN)
    scorer.gc()
    scorer.connected('bad')
    const again = scorer.score('bad')
    expect(again.penalty).toBeCloseTo(10 * Math.pow(2, -MIN / scorer.config.penaltyHalfLifeMs), 10)
    expect(again.composite).toBeLessThan(NEUTRAL * Math.exp(-0.9))
    expect(again.stability).toBeCloseTo(low.stability, 2)
    expect(again.stability).toBeLessThan(NEUTRAL)
  })

  it('gc forgets clean disconnected peers after retentionMs, keeps connected and penalized ones', () => {
    const { scorer, clock } = setup({ retentionMs: HOUR, penaltyHalfLifeMs: 10 * HOUR })
    const forgotten: string[] = []
    scorer.addEventListener('peer:forgotten', (e) => forgotten.push(e.detail.peerId))
    scorer.connected('stay')
    scorer.connected('gone')
    scorer.disconnected('gone')
    scorer.penalize('bad', 'invalid-signature')
    scorer.disconnected('bad')
    clock.advance(HOUR - 1)
    expect(scorer.gc()).toBe(0)
    clock.advance(1)
    expect(scorer.gc()).toBe(1)
    expect(forgotten).toEqual(['gone'])
    expect(scorer.has('stay')).toBe(true)
    expect(scorer.has('bad')).toBe(true)
    // the penalty decays below retainPenaltyThreshold (1 point) after log2(10) half-lives
    clock.advance(40 * HOUR)
    expect(scorer.gc()).toBe(1)
    expect(scorer.has('bad')).toBe(false)
  })

  it('never tracks more than maxPeers; evicts disconnected, unpenalized, oldest first', () => {
    const { scorer, clock } = setup({ maxPeers: 3 })
    scorer.connected('c1')
    clock.advance(1)
    scorer.penalize('p1', 'protocol-error')
    scorer.disconnected('p1')
    clock.advance(1)
    scorer.disconnected('old')
    clock.advance(1)
    scorer.requestAnswered('new1')
    expect(scorer.size).toBe(3)
    expect(scorer.has('old')).toBe(false)
    scorer.requestAnswered('new2')
    expect(scorer.has('new1')).toBe(false)
    expect([...scorer.list().map((s) => s.peerId)].sort()).toEqual(['c1', 'new2', 'p1'])
    for (let i = 0; i < 100; i++) scorer.requestAnswered(`x${i}`)
    expect(scorer.size).toBe(3)
  })
})

describe('PeerScorer events', () => {
  it("emits 'score:changed' when the composite moves by more than epsilon, at a bounded rate", () => {
    const { scorer, clock } = setup({ changeEpsilon: 0.05, changeMinIntervalMs: 1000 })
    const seen: ScoreChangedDetail[] = []
    scorer.addEventListener('score:changed', (e) => seen.push(e.detail))
    scorer.connected('A') // no move from neutral
    scorer.rtt('A', 250) // a small move (< epsilon)
    expect(seen).toHaveLength(0)
    scorer.penalize('A', 'invalid-signature')
    expect(seen).toHaveLength(1)
    expect(seen[0].peerId).toBe('A')
    expect(seen[0].score.composite).toBeCloseTo(scorer.composite('A'), 10)
    scorer.penalize('A', 'invalid-signature') // big move, but within 1 s of the last event
    expect(seen).toHaveLength(1)
    clock.advance(1000)
    scorer.penalize('A', 'invalid-signature')
    expect(seen).toHaveLength(2)
  })
})
