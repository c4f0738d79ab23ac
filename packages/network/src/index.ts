// @cpc/network public surface.
export { NetworkHandler } from './network-handler.js'
export type { NetworkHandlerComponents, SendMessageOptions, BroadcastMessageOptions, DiscoverTarget, NetworkStatus, PeerSummary } from './network-handler.js'
export { parseConfig, networkConfigSchema, fieldPath } from './config.js'
export type { NetworkConfig, NetworkConfigInput, NodeRole, RateLimitConfig, PriorityLimitsConfig, SheddingThresholdsConfig } from './config.js'
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
export type { NetworkParts } from './network-handler.js'
// loadAppConfig and runApp load the process runner (app-config: zod, yaml) when called; parseAppConfig,
// appUsage, APP_OPTIONS and APP_DEFAULTS are in '@cpc/network/server'.
export { loadAppConfig, runApp } from './app-entry.js'
export type { AppConfig, LoadAppConfigInput, LoadedAppConfig } from './app-config.js'
// The gRPC server and the process runner (nice-grpc, health, reflection, OpenTelemetry, pino) are in
// the '@cpc/network/server' entry point: an embedded NetworkHandler does not load them. runApp loads
// them when it runs.
export type { NodeGrpcServer, NodeGrpcServerInit } from './server/grpc-server.js'
export { bearerAuthMiddleware, UNAUTHENTICATED_PREFIXES } from './server/auth.js'
export { grpcErrorMiddleware, toGrpcError } from './server/errors.js'
export { parseHostPort, formatHostPort, isLoopbackHost } from './server/address.js'
export type { HostPort } from './server/address.js'
export type { RelayMetrics, RelayServerLike, RelayMetricsInit } from './server/relay-metrics.js'
export type { NodeProcess, NodeProcessComponents, ReadyLine } from './server/node-process.js'
export type { AppProcessLike, RunAppInit } from './server/run-app.js'
