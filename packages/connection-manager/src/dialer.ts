// Dialling one peer: Connecting, then the libp2p dial under the caller's signal, the manager's stop
// signal and the dial timeout (on the injected clock), then Connected or Disconnected. An open
// libp2p connection is pooled instead of dialled.
import { PeerState } from '@cpc/protocol'
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import type { Clock } from './clock.js'
import { AbortedError, DialFailedError } from './errors.js'
import type { Logger } from './logger.js'
import type { ConnectionManagerMetrics } from './metrics.js'
import type { DialRecord, PeerRecord } from './peer-record.js'
import type { ScoreSink } from './scorer.js'
import type { TransitionReason } from './state-machine.js'
import { combinedSignal } from './wait.js'

const { PEER_STATE_DISCONNECTED: DISCONNECTED, PEER_STATE_CONNECTING: CONNECTING, PEER_STATE_CONNECTED: CONNECTED } = PeerState

/** What the dialer needs from the manager. */
export interface DialHost {
  libp2p: Pick<Libp2p, 'dial'>
  clock: Clock
  metrics: ConnectionManagerMetrics
  logger: Logger
  scorer?: ScoreSink
  stopSignal(): AbortSignal
  transition(rec: PeerRecord, to: PeerState, reason: TransitionReason): void
  settle(rec: PeerRecord, retry: boolean): void
  openConnection(peer: PeerId): Connection | undefined
}

export class Dialer {
  readonly #host: DialHost
  readonly #dialTimeoutMs: number

  constructor(host: DialHost, dialTimeoutMs: number) {
    this.#host = host
    this.#dialTimeoutMs = dialTimeoutMs
  }

  /** Connecting → Connected (or → Disconnected on failure); settles when the dial does. */
  /**
   * `keepOnAbort`: the peer was kept (a previous connect(), or protected) before this call, so a caller
   * giving up on this dial (e.g. the router's bounded wait in send()) must not cancel the retries the
   * connection manager owes it.
   */
  async dial(rec: PeerRecord, kind: 'dial' | 'retry', callerSignal?: AbortSignal, options: { keepOnAbort?: boolean } = {}): Promise<void> {
    const h = this.#host
    h.transition(rec, CONNECTING, kind)
    rec.dialAttempts++
    if (h.openConnection(rec.peerId) != null) {
      // Pooling: libp2p already holds a connection to the peer (e.g. it dialled us).
      h.transition(rec, CONNECTED, 'reused')
      h.metrics.dials.inc({ kind, result: 'reused' })
      h.scorer?.dialSucceeded(rec.id)
      return
    }
    const controller = new AbortController()
    const { signal, clear } = combinedSignal([callerSignal, controller.signal, h.stopSignal()], this.#dialTimeoutMs, h.clock)
    const dial: DialRecord = { kind, startedAt: h.clock.now(), controller, promise: Promise.resolve(), accounted: false }
    dial.promise = (async () => {
      try {
        await h.libp2p.dial(rec.peerId, { signal })
        // Usually connection:open got here first and did this already.
        if (rec.state === CONNECTING) h.transition(rec, CONNECTED, 'connected')
        this.succeeded(rec, dial)
      } catch (err) {
        const aborted = callerSignal?.aborted === true || controller.signal.aborted || h.stopSignal().aborted
        const result = aborted ? 'aborted' : 'failure'
        h.metrics.dials.inc({ kind, result })
        h.metrics.dialDuration.observe({ result }, (h.clock.now() - dial.startedAt) / 1000)
        if (!aborted) h.scorer?.dialFailed(rec.id)
        // Only the caller stopped waiting (not stop(), not disconnect()): the peer is still wanted if it
        // was kept before this call.
        const callerOnly = callerSignal?.aborted === true && !controller.signal.aborted && !h.stopSignal().aborted
        if (callerSignal?.aborted === true && options.keepOnAbort !== true) rec.keep = false
        rec.dial = undefined
        if (rec.state === CONNECTING) {
          h.transition(rec, DISCONNECTED, aborted ? 'aborted' : 'dial-failed')
          const exponent = rec.retryAttempt
          h.settle(rec, !aborted || (callerOnly && options.keepOnAbort === true))
          // Only the manager's own retries count toward the backoff exponent. A caller's dial (the
          // router dials a kept peer on every send while it is away) still (re)schedules the retry, but
          // at the current exponent: counted, six failed sends during a partition pushed the next retry
          // to the 30 s cap and the heal waited for it (lab/README.md, partition scenario).
          // schedule() bumps retryAttempt by exactly one; a give-up resets it to 0 (left alone).
          if (kind === 'dial' && rec.retryAttempt === exponent + 1) rec.retryAttempt = exponent
        }
        h.logger.debug({ peer: rec.id, kind, err }, 'dial failed')
        throw aborted ? new AbortedError('dial aborted') : new DialFailedError(rec.id, { cause: err })
      } finally {
        clear()
        if (rec.dial === dial) rec.dial = undefined
      }
    })()
    rec.dial = dial
    await dial.promise
  }

  /** Accounts a successful dial once, whether connection:open or dial() reported it first. */
  succeeded(rec: PeerRecord, dial: DialRecord): void {
    const h = this.#host
    if (dial.accounted) return
    dial.accounted = true
    h.metrics.dials.inc({ kind: dial.kind, result: 'success' })
    h.metrics.dialDuration.observe({ result: 'success' }, (h.clock.now() - dial.startedAt) / 1000)
    h.scorer?.dialSucceeded(rec.id)
  }
}
