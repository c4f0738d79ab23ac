import { describe, expect, it } from '@jest/globals'
import { PeerState } from '@cpc/protocol'
import fc from 'fast-check'
import { IllegalTransitionError } from '../src/errors.js'
import { PeerStateMachine, TRANSITIONS, TRANSITION_REASONS, canTransition, type StateChange, type TransitionReason } from '../src/state-machine.js'

const { PEER_STATE_DISCONNECTED: D, PEER_STATE_CONNECTING: CI, PEER_STATE_CONNECTED: C, PEER_STATE_DISCONNECTING: DI } = PeerState
const STATES = [D, CI, C, DI]

describe('PeerStateMachine', () => {
  it('starts Disconnected and walks the seed cycle', () => {
    const m = new PeerStateMachine('p', 0)
    expect(m.state).toBe(D)
    expect(m.transition(CI, 'dial', 1)).toEqual({ peerId: 'p', from: D, to: CI, reason: 'dial', at: 1 })
    m.transition(C, 'connected', 2)
    m.transition(DI, 'goodbye', 3)
    m.transition(D, 'closed', 4)
    expect(m.state).toBe(D)
    expect(m.since).toBe(4)
  })

  it('allows Connected → Disconnected on error and Disconnected → Connecting on retry', () => {
    const m = new PeerStateMachine('p', 0)
    m.transition(CI, 'dial', 1)
    m.transition(C, 'connected', 2)
    m.transition(D, 'error', 3)
    m.transition(CI, 'retry', 4)
    expect(m.state).toBe(CI)
  })

  it('has exactly the seed edges plus a failed dial', () => {
    const edges = TRANSITIONS.map((r) => `${r.from}->${r.to}`).sort()
    expect(edges).toEqual([`${D}->${CI}`, `${CI}->${C}`, `${CI}->${D}`, `${C}->${DI}`, `${C}->${D}`, `${DI}->${D}`].sort())
  })

  it('rejects every pair off the table with IllegalTransitionError and keeps its state', () => {
    let rejected = 0
    for (const from of STATES) {
      for (const to of STATES) {
        if (canTransition(from, to)) continue
        const m = new PeerStateMachine('p', 0)
        // Walk to `from` through legal edges.
        const path: Record<number, Array<[PeerState, Parameters<PeerStateMachine['transition']>[1]]>> = {
          [D]: [],
          [CI]: [[CI, 'dial']],
          [C]: [
            [CI, 'dial'],
            [C, 'connected'],
          ],
          [DI]: [
            [CI, 'dial'],
            [C, 'connected'],
            [DI, 'goodbye'],
          ],
        }
        for (const [s, r] of path[from]) m.transition(s, r, 0)
        let error: unknown
        try {
          m.transition(to, 'dial', 1)
        } catch (err) {
          error = err
        }
        expect(error).toBeInstanceOf(IllegalTransitionError)
        expect((error as IllegalTransitionError).code).toBe('ERR_ILLEGAL_TRANSITION')
        expect((error as IllegalTransitionError).from).toBe(from)
        expect((error as IllegalTransitionError).to).toBe(to)
        expect(m.state).toBe(from)
        rejected++
      }
    }
    expect(rejected).toBe(16 - 6)
  })

  it('rejects a legal edge with a reason it does not allow', () => {
    const m = new PeerStateMachine('p', 0)
    m.transition(CI, 'dial', 1)
    m.transition(C, 'connected', 2)
    // Connected → Disconnected is only for errors: a graceful close must pass through Disconnecting.
    expect(() => m.transition(D, 'closed', 3)).toThrow(IllegalTransitionError)
    expect(m.state).toBe(C)
  })

  // The table written out independently of TRANSITIONS, as the oracle for the properties below.
  const ORACLE: Record<string, readonly string[]> = {
    [`${D}>${CI}`]: ['dial', 'retry', 'inbound'],
    [`${CI}>${C}`]: ['connected', 'reused', 'inbound'],
    [`${CI}>${D}`]: ['dial-failed', 'aborted'],
    [`${C}>${DI}`]: ['goodbye', 'remote-goodbye', 'pruned'],
    [`${C}>${D}`]: ['error'],
    [`${DI}>${D}`]: ['closed'],
  }
  const allowed = (from: PeerState, to: PeerState, reason: TransitionReason): boolean => ORACLE[`${from}>${to}`]?.includes(reason) ?? false
  const attempt = fc.tuple(fc.constantFrom(...STATES), fc.constantFrom(...TRANSITION_REASONS))
  const legalMoves = (from: PeerState): Array<[PeerState, TransitionReason]> =>
    TRANSITIONS.filter((r) => r.from === from).flatMap((r) => r.reasons.map((reason): [PeerState, TransitionReason] => [r.to, reason]))

  /** Applies attempts, checking each; returns the changes the machine reported. */
  const run = (attempts: Array<[PeerState, TransitionReason]>): { m: PeerStateMachine; changes: StateChange[] } => {
    const m = new PeerStateMachine('p', 0)
    const changes: StateChange[] = []
    attempts.forEach(([to, reason], i) => {
      const from = m.state
      const since = m.since
      if (allowed(from, to, reason)) {
        const change = m.transition(to, reason, i + 1)
        expect(change).toEqual({ peerId: 'p', from, to, reason, at: i + 1 })
        expect(m.state).toBe(to)
        changes.push(change)
        return
      }
      let error: unknown
      try {
        m.transition(to, reason, i + 1)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(IllegalTransitionError)
      expect((error as IllegalTransitionError).code).toBe('ERR_ILLEGAL_TRANSITION')
      expect((error as IllegalTransitionError).from).toBe(from)
      expect((error as IllegalTransitionError).to).toBe(to)
      expect(m.state).toBe(from)
      expect(m.since).toBe(since)
    })
    return { m, changes }
  }

  /** The changes chain from Disconnected, each on the table, ending in the machine's state. */
  const expectValidWalk = (m: PeerStateMachine, changes: StateChange[]): void => {
    let state: PeerState = D
    for (const change of changes) {
      expect(change.from).toBe(state)
      expect(allowed(change.from, change.to, change.reason)).toBe(true)
      expect(canTransition(change.from, change.to, change.reason)).toBe(true)
      state = change.to
    }
    expect(m.state).toBe(state)
  }

  it('property: any sequence of (state, reason) attempts accepts exactly the table and walks it', () => {
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 300 }), (attempts) => {
        const { m, changes } = run(attempts)
        expectValidWalk(m, changes)
      }),
      { numRuns: 500 },
    )
  })

  it('property: walks mostly along legal edges (reaching every state) with illegal attempts mixed in', () => {
    // Uniform attempts are mostly illegal and rarely get past Connecting; here each step is either
    // a legal move picked by index from the current state or a random attempt.
    const step = fc.oneof(
      { weight: 3, arbitrary: fc.record({ legal: fc.constant(true as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ legal: fc.constant(false as const), attempt }) },
    )
    const seen = new Set<PeerState>()
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), (steps) => {
        const m = new PeerStateMachine('p', 0)
        const attempts: Array<[PeerState, TransitionReason]> = []
        // Plan the attempts on a shadow machine so legal picks follow the real state.
        for (const s of steps) {
          if (s.legal) {
            const moves = legalMoves(m.state)
            const [to, reason] = moves[s.pick % moves.length]
            m.transition(to, reason, 0)
            attempts.push([to, reason])
          } else {
            attempts.push(s.attempt)
            if (allowed(m.state, s.attempt[0], s.attempt[1])) m.transition(s.attempt[0], s.attempt[1], 0)
          }
          seen.add(m.state)
        }
        const result = run(attempts)
        expect(result.m.state).toBe(m.state)
        expectValidWalk(result.m, result.changes)
      }),
      { numRuns: 500 },
    )
    expect([...seen].sort()).toEqual([...STATES].sort())
  })
})
