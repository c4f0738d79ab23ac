// Priority helpers shared by queues, shedding, rate limits and metrics. The numeric values are the
// wire enum's (LOW = 0, MEDIUM = 1, HIGH = 2).
import { MessageType, Priority } from '@cpc/protocol'
import { InvalidPriorityError } from './errors.js'

/** The three priorities a message can have; UNRECOGNIZED is never accepted by the router. */
export type KnownPriority = Priority.LOW | Priority.MEDIUM | Priority.HIGH

/** Bounded metric label values. */
export type PriorityLabel = 'high' | 'medium' | 'low'
export type MessageTypeLabel = 'event' | 'discovery' | 'control' | 'unknown'

/** Highest first: the order in which shedding spares and draining serves. */
export const PRIORITIES_HIGH_FIRST: readonly KnownPriority[] = [Priority.HIGH, Priority.MEDIUM, Priority.LOW]

export function assertPriority(priority: number): asserts priority is KnownPriority {
  if (priority !== Priority.LOW && priority !== Priority.MEDIUM && priority !== Priority.HIGH) {
    throw new InvalidPriorityError(priority)
  }
}

export function priorityLabel(priority: Priority): PriorityLabel {
  switch (priority) {
    case Priority.HIGH:
      return 'high'
    case Priority.MEDIUM:
      return 'medium'
    default:
      return 'low'
  }
}

export function messageTypeLabel(type: MessageType): MessageTypeLabel {
  switch (type) {
    case MessageType.EVENT:
      return 'event'
    case MessageType.DISCOVERY:
      return 'discovery'
    case MessageType.CONTROL:
      return 'control'
    default:
      return 'unknown'
  }
}
