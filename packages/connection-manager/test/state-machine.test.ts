import { describe, expect, it } from '@jest/globals'
import { PeerState } from '@cpc/protocol'
import { IllegalTransitionError } from '../src/errors.js'
import { PeerStateMachine, TRANSITIONS, TRANSITION_REASONS, canTransition } from '../src/state-machine.js'

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

  it('random walks never leave the table (property)', () => {
    let seed = 7
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const m = new PeerStateMachine('p', 0)
    for (let i = 0; i < 5000; i++) {
      const to = STATES[Math.floor(rnd() * 4)]
      const reason = TRANSITION_REASONS[Math.floor(rnd() * TRANSITION_REASONS.length)]
      const from = m.state
      const legal = canTransition(from, to, reason)
      if (legal) expect(m.transition(to, reason, i).from).toBe(from)
      else expect(() => m.transition(to, reason, i)).toThrow(IllegalTransitionError)
      expect(STATES).toContain(m.state)
    }
  })
})
