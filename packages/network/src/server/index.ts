// '@cpc/network/server': what a cpc-net process runs beside its NetworkHandler (the gRPC server, the
// /metrics + health HTTP server, tracing). Apart from the root entry so an embedded node never loads it.
export { NodeGrpcServer, GRPC_SERVICE_NAMES, GRPC_SHUTDOWN_GRACE_MS } from './grpc-server.js'
export type { NodeGrpcServerInit } from './grpc-server.js'
export { NodeProcess } from './node-process.js'
export type { NodeProcessComponents, ReadyLine } from './node-process.js'
export { createRelayMetrics, RELAY_HOP_PROTOCOL } from './relay-metrics.js'
export type { RelayMetrics, RelayServerLike, RelayMetricsInit } from './relay-metrics.js'
// The process runner and its config (zod, yaml); the root entry has lazy runApp/loadAppConfig wrappers.
export { runApp, EXIT_OK, EXIT_FAILURE, EXIT_CONFIG, EXIT_FORCED } from './run-app.js'
export { loadAppConfig, parseAppConfig, appUsage, APP_OPTIONS, APP_DEFAULTS } from '../app-config.js'
