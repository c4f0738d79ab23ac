// The narrow interface between the queues and whatever decides to shed load (LoadShedder).
import type { Priority } from '@cpc/protocol'

/** Why a message was dropped; a bounded label set for cpc_router_dropped_total. */
export type DropReason =
  | 'queue_full'
  | 'event_loop_delay'
  | 'queue_pressure'
  | 'expired'
  | 'rate_limited'
  | 'duplicate'
  | 'write_failed'

/** The reasons a shed policy may give. */
export type ShedReason = 'event_loop_delay' | 'queue_pressure'

export interface ShedPolicy {
  /** A reason to shed a new message of this priority now, or false. Never sheds HIGH. */
  shouldShed(priority: Priority): ShedReason | false
}
