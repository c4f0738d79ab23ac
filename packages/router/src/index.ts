// @cpc/router: the Router (docs/design/router-api.md), its gRPC service, and the building blocks it
// is made of (queues, writer, dedup, rate limits, shedding, outbox).
export { Router } from './router.js'
export type {
  BroadcastScope,
  BroadcastOptions,
  BroadcastResult,
  DeliveredMessage,
  ForwardDroppedDetail,
  MessageExpiredDetail,
  MessageRejectedDetail,
  PenaltyKind,
  QueueDepth,
  RouterChannel,
  RouterChannelGated,
  RouterChannelMessage,
  RouterComponents,
  RouterConnections,
  RouterEvents,
  RouterGroups,
  RouterInit,
  RouterPeerStateChange,
  RouterRelays,
  RouterScorer,
  SendOptions,
  SendResult,
} from './types.js'
export { createLibp2pRelays, type Libp2pRelaysInit } from './relays.js'
export { createRouterService, routerErrorMiddleware, toRouterServerError, toScope, toMessageReceived, type RouterServiceInit } from './service.js'
export * from './constants.js'
export * from './errors.js'
export { createRouterMetrics, type RouterMetrics } from './metrics.js'
export { systemClock, type Clock, type TimerHandle } from './clock.js'
export { noopLogger, type Logger } from './logger.js'
export {
  PRIORITIES_HIGH_FIRST,
  assertPriority,
  priorityLabel,
  messageTypeLabel,
  type KnownPriority,
  type PriorityLabel,
  type MessageTypeLabel,
} from './priority.js'
export type { DropReason, ShedReason, ShedPolicy } from './shedding/shed-policy.js'
export {
  LoadShedder,
  MonitorEventLoopDelaySource,
  nextLevel,
  type ShedLevel,
  type EventLoopDelaySource,
  type LoadShedderComponents,
  type LoadShedderInit,
  type LoadShedderEvents,
  type ShedLevelEvent,
  type Thresholds,
} from './shedding/load-shedder.js'
export {
  PeerQueues,
  type PeerQueuesComponents,
  type PeerQueuesInit,
  type PeerQueuesEvents,
  type QueuedMessage,
  type DrainedFrame,
  type ShedEvent,
  type EnqueueResult,
} from './outbound/peer-queues.js'
export {
  PeerWriter,
  type WriteFn,
  type FrameMeta,
  type PeerWriterComponents,
  type PeerWriterInit,
  type PeerWriterEvents,
  type BatchEvent,
  type BatchFailedEvent,
} from './outbound/peer-writer.js'
export { DedupCache, type DedupCacheComponents, type DedupCacheInit } from './inbound/dedup-cache.js'
export {
  RateLimiter,
  DEFAULT_RATE_LIMITS,
  type RateLimit,
  type RateLimits,
  type RateLimitsInit,
  type RateLimitResult,
  type RateLimiterComponents,
  type RateLimiterInit,
} from './inbound/rate-limiter.js'
export {
  Outbox,
  type OutboxComponents,
  type OutboxInit,
  type OutboxEntry,
  type OutboxEntryInit,
} from './outbox/outbox.js'
