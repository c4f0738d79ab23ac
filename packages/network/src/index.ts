// @cpc/network public surface.
export { NetworkHandler } from './network-handler.js'
export type { NetworkHandlerComponents, SendMessageOptions, BroadcastMessageOptions, DiscoverTarget, NetworkStatus, PeerSummary } from './network-handler.js'
export { parseConfig, networkConfigSchema, fieldPath } from './config.js'
export type { NetworkConfig, NetworkConfigInput, NodeRole } from './config.js'
export { loadOrCreateIdentity } from './identity.js'
export type { Identity } from './identity.js'
export { buildLibp2p, libp2pOptions, listenAddresses } from './libp2p-node.js'
export type { BuiltNode, BuildNodeComponents } from './libp2p-node.js'
export { NETWORK_EVENT_KINDS } from './events.js'
export type {
  NetworkEvents,
  NetworkEvent,
  NetworkEventKind,
  PeerSource,
  MessageEventDetail,
  PeerStateEventDetail,
  PeerDiscoveredEventDetail,
  ScoreChangedEventDetail,
  MessageExpiredEventDetail,
} from './events.js'
export { EventSubscription } from './event-stream.js'
export type { EventsOptions } from './event-stream.js'
export { reachability, relayReservations, type Reachability } from './status.js'
export { createNodeService, nodeErrorMiddleware, nodeErrorToStatus, toNodeEvent, toPeerScore, STATUS_BY_CODE } from './service.js'
export type { NodeServiceInit } from './service.js'
export { NetworkError, ConfigError, NotStartedError, InvalidPeerIdError, InvalidArgumentError, DataDirError } from './errors.js'
export type { ConfigIssue } from './errors.js'
export * from './constants.js'
export type { BroadcastScope, SendResult, BroadcastResult } from '@cpc/router'
