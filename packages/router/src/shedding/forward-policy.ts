// Which sheds apply to a broadcast forward. A forward is a copy of someone else's broadcast All this
// node passes on after verifying it once: already deduplicated (each node forwards an (origin, nonce)
// at most once), bounded by fanout, and costing one frame write, no signing. Shedding one does not
// lose one message for one peer: it cuts off the whole subtree behind that peer (P5 lost 1 545 MEDIUM
// copies in one loaded run that way). So forwards are never shed for event-loop delay alone, which
// exists to slow the node's own new sends when its CPU is behind. They still yield to memory: a queue
// fill above the shed threshold (queue_pressure) and the per-peer queue bound (queue_full) apply as
// to any LOW/MEDIUM message. Every forward dropped is counted and announced (Outbound 'forward:dropped').
import type { Priority } from '@cpc/protocol'
import type { ShedPolicy, ShedReason } from './shed-policy.js'

/**
 * `base` with event-loop-delay sheds lifted while `isForward()` says the message being queued is a
 * forward. `isForward` is asked only when `base` would shed.
 */
export function forwardAwarePolicy(base: ShedPolicy, isForward: () => boolean): ShedPolicy {
  return {
    shouldShed(priority: Priority): ShedReason | false {
      const reason = base.shouldShed(priority)
      return reason === 'event_loop_delay' && isForward() ? false : reason
    },
  }
}
