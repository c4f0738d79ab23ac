// The generated contracts (proto/ → buf + ts-proto → src/gen), re-exported as one surface.
// Each proto file is a namespace (the files repeat helper names such as MessageFns); the wire types
// used everywhere are also exported by name.
export * as wire from './gen/cpc/v1/wire.js'
export * as common from './gen/cpc/v1/common.js'
export * as nodeApi from './gen/cpc/node/v1/node.js'
export * as scoringApi from './gen/cpc/scoring/v1/scoring.js'
export * as connectionManagerApi from './gen/cpc/connection_manager/v1/connection_manager.js'
export * as discoveryApi from './gen/cpc/discovery/v1/discovery.js'
export * as routerApi from './gen/cpc/router/v1/router.js'
export * as protocolApi from './gen/cpc/protocol/v1/protocol.js'

export {
  CpcMessage,
  CpcMessage_Priority as Priority,
  CpcMessage_Type as MessageType,
  CpcMessage_Compression as Compression,
  Chunk,
  BatchProof,
  Event,
  PeerInfo,
  Discovery,
  PeerExchangeRequest,
  PeerExchangeResponse,
  PeerAnnounce,
  Control,
  Ack,
  Ping,
  Pong,
  Goodbye,
  Goodbye_Reason as GoodbyeReason,
  Busy,
} from './gen/cpc/v1/wire.js'

export { PeerState, DiscoverySource, Route } from './gen/cpc/v1/common.js'

export { descriptorSet } from './gen/cpc/descriptor-set.js'

/** Fully qualified names of every cpc gRPC service (for reflection and health). */
export const SERVICE_NAMES = [
  'cpc.node.v1.NodeService',
  'cpc.scoring.v1.ScoringService',
  'cpc.connection_manager.v1.ConnectionManagerService',
  'cpc.discovery.v1.DiscoveryService',
  'cpc.router.v1.RouterService',
  'cpc.protocol.v1.ProtocolService',
] as const
