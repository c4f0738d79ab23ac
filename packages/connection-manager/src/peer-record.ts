// What the manager keeps per peer besides its state machine.
import { Priority, type GoodbyeReason, type PeerState } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import type { Clock, TimerHandle } from './clock.js'
import { HIGH_TRAFFIC_TAG } from './constants.js'
import { PeerStateMachine } from './state-machine.js'

export interface GoodbyeRecord {
  /** 'out': we said goodbye; 'in': the remote did. */
  direction: 'in' | 'out'
  reason: GoodbyeReason
  detail: string
}

/** A dial in flight. */
export interface DialRecord {
  kind: 'dial' | 'retry'
  startedAt: number
  controller: AbortController
  promise: Promise<void>
  /** Success already counted (connection:open and dial() both report it). */
  accounted: boolean
}

export class PeerRecord {
  readonly id: string
  readonly machine: PeerStateMachine
  /** Retry after a loss: set by connect(), cleared by disconnect(), a remote goodbye or giving up. */
  keep = false
  priority: Priority = Priority.LOW
  readonly tags = new Set<string>()
  /** Dials started, over the record's life (GetState.dial_attempts). */
  dialAttempts = 0
  /** Next backoff attempt; reset to 0 on Connected. */
  retryAttempt = 0
  connectedAt = 0
  goodbye: GoodbyeRecord | undefined
  goodbyeTimer: TimerHandle | undefined
  dial: DialRecord | undefined

  constructor(
    readonly peerId: PeerId,
    now: number,
  ) {
    this.id = peerId.toString()
    this.machine = new PeerStateMachine(this.id, now)
  }

  get state(): PeerState {
    return this.machine.state
  }

  get since(): number {
    return this.machine.since
  }

  get highTraffic(): boolean {
    return this.tags.has(HIGH_TRAFFIC_TAG)
  }

  get isProtected(): boolean {
    return this.tags.size > 0
  }

  clearGoodbyeTimer(clock: Clock): void {
    if (this.goodbyeTimer != null) clock.clearTimeout(this.goodbyeTimer)
    this.goodbyeTimer = undefined
  }
}
