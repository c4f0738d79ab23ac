export * from './constants.js'
export * from './errors.js'
export type { Clock, RandomSource, TimerHandle } from './clock.js'
export { systemClock } from './clock.js'
export type { Logger } from './logger.js'
export { noopLogger } from './logger.js'
export { PeerStateMachine, TRANSITIONS, TRANSITION_REASONS, canTransition, stateName, type StateChange, type TransitionReason, type TransitionRule } from './state-machine.js'
export { Backoff, backoffCeiling, fullJitterDelay, type BackoffInit } from './backoff.js'
export { RetryQueue, compareRetryEntries, type RetryEntry } from './retry-queue.js'
export { resolveWatermarks, selectPruneVictims, type PruneCandidate, type Watermarks } from './pruner.js'
export { createConnectionManagerMetrics, type ConnectionManagerMetrics } from './metrics.js'
export type { PeerScorerLike, ScoreSink, ScoreSource } from './scorer.js'
export type { LinkMonitorLike } from './link-seam.js'
export {
  CpcChannel,
  isRelayed,
  type ChannelCounters,
  type ChannelGatedDetail,
  type InboundGate,
  type ChannelMessageDetail,
  type ChannelMessageHandler,
  type ChannelNode,
  type ChannelProtocolErrorDetail,
  type CpcChannelComponents,
  type CpcChannelEvents,
  type CpcChannelInit,
  type SendOptions,
} from './channel.js'
export type { GoodbyeRecord } from './peer-record.js'
export {
  ConnectionManager,
  type ConnectOptions,
  type ConnectionManagerComponents,
  type ConnectionManagerEvents,
  type ConnectionManagerInit,
  type ManagerNode,
  type PeerInfo,
  type PeerStateEventDetail,
} from './connection-manager.js'
export { connectionManagerErrorMiddleware, createConnectionManagerService, toServerError, type ConnectionManagerServiceInit } from './service.js'
export { LinkMonitor, createLinkMetrics, nodeUdpSocketFactory, type LinkMonitorComponents, type LinkMonitorInit, type LinkStats, type LinkMetrics } from './link/index.js'
