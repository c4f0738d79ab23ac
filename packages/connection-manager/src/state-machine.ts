// The per-peer state machine. The table below is the whole of it: every other module changes a
// peer's state only through PeerStateMachine.transition, which rejects anything not listed.
import { PeerState } from '@cpc/protocol'
import { IllegalTransitionError } from './errors.js'

/**
 * Why a transition happened. A closed set, so it can label a metric.
 * - dial / retry / inbound: → Connecting (explicit connect, scheduled retry, remote dialled us)
 * - connected / reused: Connecting → Connected (new connection, existing libp2p connection pooled)
 * - dial-failed / aborted: Connecting → Disconnected (the dial failed or its caller gave up)
 * - goodbye / remote-goodbye / pruned: Connected → Disconnecting (we or the remote said goodbye)
 * - closed: Disconnecting → Disconnected
 * - error: Connected → Disconnected without a goodbye (remote crash, network failure)
 */
export type TransitionReason =
  | 'dial'
  | 'retry'
  | 'inbound'
  | 'connected'
  | 'reused'
  | 'dial-failed'
  | 'aborted'
  | 'goodbye'
  | 'remote-goodbye'
  | 'pruned'
  | 'closed'
  | 'error'

export const TRANSITION_REASONS: readonly TransitionReason[] = [
  'dial',
  'retry',
  'inbound',
  'connected',
  'reused',
  'dial-failed',
  'aborted',
  'goodbye',
  'remote-goodbye',
  'pruned',
  'closed',
  'error',
]

export interface TransitionRule {
  from: PeerState
  to: PeerState
  reasons: readonly TransitionReason[]
}

const { PEER_STATE_DISCONNECTED: DISCONNECTED, PEER_STATE_CONNECTING: CONNECTING, PEER_STATE_CONNECTED: CONNECTED, PEER_STATE_DISCONNECTING: DISCONNECTING } =
  PeerState

/**
 * The seed's transitions, and only those: Disconnected → Connecting → Connected → Disconnecting →
 * Disconnected; Connected → Disconnected on error; Disconnected → Connecting on retry. The one edge
 * the seed implies without naming is Connecting → Disconnected: a failed or aborted dial must land
 * somewhere, and the retry edge starts from Disconnected.
 */
export const TRANSITIONS: readonly TransitionRule[] = [
  { from: DISCONNECTED, to: CONNECTING, reasons: ['dial', 'retry', 'inbound'] },
  { from: CONNECTING, to: CONNECTED, reasons: ['connected', 'reused', 'inbound'] },
  { from: CONNECTING, to: DISCONNECTED, reasons: ['dial-failed', 'aborted'] },
  { from: CONNECTED, to: DISCONNECTING, reasons: ['goodbye', 'remote-goodbye', 'pruned'] },
  { from: CONNECTED, to: DISCONNECTED, reasons: ['error'] },
  { from: DISCONNECTING, to: DISCONNECTED, reasons: ['closed'] },
]

export function canTransition(from: PeerState, to: PeerState, reason?: TransitionReason): boolean {
  const rule = TRANSITIONS.find((r) => r.from === from && r.to === to)
  if (rule == null) return false
  return reason == null || rule.reasons.includes(reason)
}

/** Short lower-case name of a state, for logs and metric labels. */
export function stateName(state: PeerState): string {
  switch (state) {
    case PeerState.PEER_STATE_DISCONNECTED:
      return 'disconnected'
    case PeerState.PEER_STATE_CONNECTING:
      return 'connecting'
    case PeerState.PEER_STATE_CONNECTED:
      return 'connected'
    case PeerState.PEER_STATE_DISCONNECTING:
      return 'disconnecting'
    default:
      return 'unspecified'
  }
}

export interface StateChange {
  peerId: string
  from: PeerState
  to: PeerState
  reason: TransitionReason
  /** Clock time of the transition, ms. */
  at: number
}

/** One peer's state. Starts Disconnected; `transition` throws IllegalTransitionError off the table. */
export class PeerStateMachine {
  #state: PeerState = PeerState.PEER_STATE_DISCONNECTED
  #since: number

  constructor(
    readonly peerId: string,
    now: number,
  ) {
    this.#since = now
  }

  get state(): PeerState {
    return this.#state
  }

  /** Clock time of the last transition (or of creation). */
  get since(): number {
    return this.#since
  }

  transition(to: PeerState, reason: TransitionReason, now: number): StateChange {
    const from = this.#state
    if (!canTransition(from, to, reason)) {
      throw new IllegalTransitionError(this.peerId, from, to)
    }
    this.#state = to
    this.#since = now
    return { peerId: this.peerId, from, to, reason, at: now }
  }
}
