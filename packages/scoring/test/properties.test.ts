// Done-means properties: every term stays in 0..1 for any event sequence; penalties lower the
// score; decay moves toward neutral.
import { describe, it, expect } from '@jest/globals'
import fc from 'fast-check'
import { NEUTRAL, PENALTY_KINDS, PeerScorer } from '../src/index.js'
import type { PeerScoreSnapshot } from '../src/index.js'
import { apply, setup } from './helpers.js'
import type { Op } from './helpers.js'

const HOUR = 3_600_000
const peer = fc.constantFrom('a', 'b', 'c', 'd', 'e')
const dt = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 48 * HOUR }))

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('connected', 'dialSucceeded', 'dialFailed', 'requestAnswered', 'requestTimedOut'), peer, dt }),
  fc.record({ op: fc.constant('disconnected'), peer, dt, error: fc.boolean() }),
  fc.record({ op: fc.constant('rtt'), peer, dt, ms: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.double({ min: 0, max: 1e9, noNaN: true })) }),
  fc.record({ op: fc.constant('penalize'), peer, dt, kind: fc.constantFrom(...PENALTY_KINDS) }),
  fc.record({ op: fc.constant('gc'), dt }),
) as fc.Arbitrary<Op>

const initArb = fc.record(
  {
    maxPeers: fc.integer({ min: 1, max: 6 }),
    decayHalfLifeMs: fc.integer({ min: 1, max: 4 * HOUR }),
    penaltyHalfLifeMs: fc.integer({ min: 1, max: 8 * HOUR }),
    retentionMs: fc.integer({ min: 0, max: 12 * HOUR }),
    targetRttMs: fc.integer({ min: 1, max: 1_000 }),
    weights: fc.record({ uptime: fc.double({ min: 0.01, max: 10, noNaN: true }), responsiveness: fc.double({ min: 0, max: 10, noNaN: true }), stability: fc.double({ min: 0, max: 10, noNaN: true }) }),
  },
  { requiredKeys: [] },
)

function inRange(s: PeerScoreSnapshot): void {
  for (const v of [s.uptime, s.responsiveness, s.stability, s.composite]) {
    expect(Number.isFinite(v)).toBe(true)
    expect(v).toBeGreaterThanOrEqual(0)
    expect(v).toBeLessThanOrEqual(1)
  }
  expect(Number.isFinite(s.penalty)).toBe(true)
  expect(s.penalty).toBeGreaterThanOrEqual(0)
}

const dist = (x: number): number => Math.abs(x - NEUTRAL)

describe('scoring properties', () => {
  it('every term and the composite stay in 0..1 (and the map within maxPeers) for any event sequence', () => {
    fc.assert(
      fc.property(initArb, fc.array(opArb, { maxLength: 60 }), (init, ops) => {
        const { scorer, clock } = setup(init)
        for (const o of ops) {
          apply(scorer, clock, o)
          expect(scorer.size).toBeLessThanOrEqual(scorer.config.maxPeers)
          for (const s of scorer.list()) inRange(s)
        }
        for (const p of ['a', 'b', 'c', 'd', 'e', 'unknown']) inRange(scorer.score(p))
      }),
      { numRuns: 200 },
    )
  })

  it('a penalty lowers the composite (strictly, below the penalty cap)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), peer, fc.constantFrom(...PENALTY_KINDS), (ops, p, kind) => {
        const { scorer, clock } = setup()
        for (const o of ops) apply(scorer, clock, o)
        const before = scorer.score(p)
        scorer.penalize(p, kind)
        const after = scorer.score(p)
        expect(after.penalty).toBeGreaterThanOrEqual(before.penalty)
        if (before.penalty < scorer.config.maxPenalty) expect(after.composite).toBeLessThan(before.composite)
        else expect(after.composite).toBeLessThanOrEqual(before.composite)
        expect(after.uptime).toBe(before.uptime)
        expect(after.responsiveness).toBe(before.responsiveness)
        expect(after.stability).toBe(before.stability)
      }),
      { numRuns: 300 },
    )
  })

  it('with no events, every term of a disconnected peer moves monotonically toward neutral and penalties toward 0', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 6 * HOUR }), { minLength: 1, maxLength: 8 }),
        (ops, steps) => {
          const { scorer, clock } = setup({ maxPeers: 10 })
          for (const o of ops.filter((o) => o.op !== 'gc')) apply(scorer, clock, o)
          // a clean disconnect: no time accrues as up or down from here on
          for (const s of scorer.list()) scorer.disconnected(s.peerId)
          let prev = scorer.list()
          for (const step of steps) {
            clock.advance(step)
            const next = scorer.list()
            for (const n of next) {
              const p = prev.find((x) => x.peerId === n.peerId)!
              expect(dist(n.uptime)).toBeLessThanOrEqual(dist(p.uptime) + 1e-12)
              expect(dist(n.responsiveness)).toBeLessThanOrEqual(dist(p.responsiveness) + 1e-12)
              expect(dist(n.stability)).toBeLessThanOrEqual(dist(p.stability) + 1e-12)
              expect(n.penalty).toBeLessThanOrEqual(p.penalty)
            }
            prev = next
          }
          // and converges: after 60 half-lives everything is neutral
          clock.advance(60 * Math.max(scorer.config.decayHalfLifeMs, scorer.config.penaltyHalfLifeMs))
          for (const s of scorer.list()) {
            expect(s.uptime).toBeCloseTo(NEUTRAL, 6)
            expect(s.responsiveness).toBeCloseTo(NEUTRAL, 6)
            expect(s.stability).toBeCloseTo(NEUTRAL, 6)
            expect(s.composite).toBeCloseTo(NEUTRAL, 6)
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('with no events, a connected peer’s responsiveness and penalty still decay toward neutral', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 1, max: 6 * HOUR }), (ops, step) => {
        const { scorer, clock } = setup({ maxPeers: 10 })
        for (const o of ops.filter((o) => o.op !== 'gc')) apply(scorer, clock, o)
        const before = scorer.list()
        clock.advance(step)
        for (const b of before) {
          const a = scorer.score(b.peerId)
          expect(dist(a.responsiveness)).toBeLessThanOrEqual(dist(b.responsiveness) + 1e-12)
          expect(a.penalty).toBeLessThanOrEqual(b.penalty)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('export → import round-trips any state exactly', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const { scorer, clock } = setup()
        for (const o of ops) apply(scorer, clock, o)
        const json = JSON.parse(JSON.stringify(scorer.exportState()))
        const copy = PeerScorer.fromState({ clock: clock.now }, {}, json, { resetConnections: false })
        expect(copy.exportState().peers).toEqual(scorer.exportState().peers)
        expect(copy.list()).toEqual(scorer.list())
      }),
      { numRuns: 100 },
    )
  })
})
