// The Router's public types (docs/design/router-api.md): its narrow components, init, options,
// results and events.
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { CpcMessage, MessageSigner, MessageType, MessageVerifier, NonceGenerator, PeerState, Priority, Route } from '@cpc/protocol'
import type { Tracer } from '@opentelemetry/api'
import type { Clock } from './clock.js'
import type { Logger } from './logger.js'
import type { RouterMetrics } from './metrics.js'
import type { Outbox } from './outbox/outbox.js'
import type { RateLimitsInit } from './inbound/rate-limiter.js'
import type { EventLoopDelaySource, LoadShedderInit } from './shedding/load-shedder.js'

/** Who a broadcast reaches. */
export type BroadcastScope =
  | { kind: 'all'; ttl?: number } // forwarded to a bounded number of best-scored neighbors, dedup
  | { kind: 'neighbors' } // every connected peer, no forwarding
  | { kind: 'group'; group: string } // members of a named group (from discovery)

/** What the router needs of CpcChannel (structurally compatible with it). */
export interface RouterChannel {
  send(peer: PeerId, frames: Uint8Array | Uint8Array[], options?: AbortOptions): Promise<void>
  setInboundGate(gate: ((peer: PeerId, message: CpcMessage, bytes: number) => boolean) | undefined): void
  /** EVENT frames come through a direct handler: one call per frame, no Event object. */
  addMessageHandler(type: MessageType, handler: (detail: RouterChannelMessage) => void): void
  removeMessageHandler(type: MessageType, handler: (detail: RouterChannelMessage) => void): void
  addEventListener(type: 'message:gated', listener: (evt: CustomEvent<RouterChannelGated>) => void): void
  removeEventListener(type: 'message:gated', listener: (evt: CustomEvent<RouterChannelGated>) => void): void
}

export interface RouterChannelMessage {
  peer: PeerId
  message: CpcMessage
  bytes: number
  limited: boolean
}

export interface RouterChannelGated {
  peer: PeerId
  message: CpcMessage
  bytes: number
}

export interface RouterPeerStateChange {
  peerId: string
  from: PeerState
  to: PeerState
}

/** What the router needs of ConnectionManager (structurally compatible with it). */
export interface RouterConnections {
  state(peer: PeerId | string): PeerState
  connect(peer: PeerId, options?: { priority?: Priority; signal?: AbortSignal }): Promise<void>
  connectedPeers(): PeerId[]
  markHighTraffic(peer: PeerId, high: boolean): void
  addEventListener(type: 'peer:state', listener: (evt: CustomEvent<RouterPeerStateChange>) => void): void
  removeEventListener(type: 'peer:state', listener: (evt: CustomEvent<RouterPeerStateChange>) => void): void
}

/**
 * Circuit relay v2 access (see createLibp2pRelays): whether a peer is reachable only over a limited
 * (relayed) connection, and opening one through a relay when a direct dial failed.
 */
export interface RouterRelays {
  /** True when every open connection to the peer is limited (relayed). */
  isRelayed(peer: PeerId): boolean
  /** Opens a connection to the peer through a circuit relay; resolves true once one is open. */
  dialViaRelay(peer: PeerId, options?: AbortOptions): Promise<boolean>
}

/** Discovery's group lookup (Discovery.discoverPeers({ group })). */
export interface RouterGroups {
  members(group: string, options?: AbortOptions): Promise<PeerId[]>
}

export type PenaltyKind = 'invalid-signature' | 'rate-limit' | 'protocol-error' | 'malformed'

/** PeerScorer's view the router uses: neighbor choice and penalties. */
export interface RouterScorer {
  composite(peer: string): number
  penalize(peer: string, kind: PenaltyKind): void
}

export interface RouterComponents {
  peerId: PeerId
  channel: RouterChannel
  connectionManager: RouterConnections
  relays?: RouterRelays
  groups?: RouterGroups
  signer: MessageSigner
  verifier: MessageVerifier
  nonces: NonceGenerator
  /** Opened by the caller in the node's data dir; the router lists, removes and expires entries. */
  outbox: Outbox
  scorer?: RouterScorer
  metrics?: RouterMetrics
  /** Wall clock (ms since the epoch): every timer of the router runs on it. */
  clock?: Clock
  logger?: Logger
  /** Optional OpenTelemetry tracer: spans for send, route decision, broadcast and delivery. */
  tracer?: Tracer
  /** Event-loop delay source for load shedding (default monitorEventLoopDelay). */
  delaySource?: EventLoopDelaySource
}

export interface RouterInit {
  /** Per-peer outbound queue bounds (PeerQueues). */
  peerQueueMaxFrames?: number
  peerQueueMaxBytes?: number
  /** All peers' queues together; their fill drives LoadShedder's queue signal. */
  totalQueueMaxBytes?: number
  mediumWeight?: number
  lowWeight?: number
  maxBatchBytes?: number
  maxBatchFrames?: number
  /**
   * Frames signed under one Merkle root (one Ed25519 signature), at most: a writer's batch of this
   * node's unsigned frames, and a broadcast's chunks (default DEFAULT_MAX_SIGN_BATCH, 16; 1..64).
   */
  maxSignBatch?: number
  writeTimeoutMs?: number
  /** buildMessages options. */
  chunkBytes?: number
  compressionThresholdBytes?: number
  maxPayloadBytes?: number
  /** Largest frame written (must match the receivers' CpcChannel maxFrameBytes). */
  maxFrameBytes?: number
  /** Receive side. */
  maxDecompressedBytes?: number
  reassemblyTimeoutMs?: number
  reassemblyMaxBytes?: number
  reassemblyMaxMessageBytes?: number
  reassemblySweepMs?: number
  dedupWindowMs?: number
  dedupMaxEntries?: number
  rateLimits?: RateLimitsInit
  rateLimitMaxPeers?: number
  shedding?: LoadShedderInit
  /** Routing. */
  dialTimeoutMs?: number
  defaultTtlMs?: number
  /** Retry. */
  outboxExpireIntervalMs?: number
  outboxFlushBatch?: number
  retryDelayMs?: number
  /** Broadcast All. */
  broadcastFanout?: number
  broadcastTtl?: number
  groupDialConcurrency?: number
}

export interface SendOptions extends AbortOptions {
  /** Default MEDIUM. */
  priority?: Priority
  /** Default EVENT. */
  type?: MessageType
  /** Time to live: queued messages expire after this (default DEFAULT_SEND_TTL_MS); also sets expires_at_ms. */
  ttlMs?: number
}

export interface SendResult {
  nonce: bigint
  route: Route
}

export interface BroadcastOptions extends AbortOptions {
  /** Default MEDIUM. */
  priority?: Priority
  scope: BroadcastScope
}

export interface BroadcastResult {
  nonce: bigint
  /** Neighbors (or group members) the message was queued for by this node. */
  sentTo: number
}

export interface DeliveredMessage {
  /** Neighbor it arrived from. */
  from: string
  /** Origin peer id (differs when forwarded). */
  origin: string
  /** The message's nonce (a chunked message's: its first chunk's, = chunk.message_id). */
  nonce: bigint
  priority: Priority
  type: MessageType
  /** Verified, reassembled, decompressed. */
  payload: Uint8Array
  group: string
  timestampMs: number
  latencyMs: number
  /** RELAY when it arrived over a limited (relayed) connection, DIRECT otherwise. */
  route: Route
}

export interface MessageExpiredDetail {
  peer: string
  nonce: bigint
  /** 'expired' (outbox ttl passed), or the shed reason ('queue_full', 'event_loop_delay', 'queue_pressure'), or 'outbox_full'. */
  reason: string
}

export interface MessageRejectedDetail {
  /** The neighbor the message (or frame) came from. */
  peer: string
  /** A bounded reason: rate_limited, invalid_signature, malformed, ... (see README). */
  reason: string
  /** The underlying error code (ERR_*), or the reason's own code. */
  code: string
}

export interface RouterEvents {
  message: CustomEvent<DeliveredMessage>
  'message:expired': CustomEvent<MessageExpiredDetail>
  'message:rejected': CustomEvent<MessageRejectedDetail>
  /** A broadcast All forward that did not go out to one neighbor: it and the subtree behind miss it. */
  'forward:dropped': CustomEvent<ForwardDroppedDetail>
}

export interface ForwardDroppedDetail {
  /** The neighbor the copy was for. */
  peer: string
  nonce: bigint
  priority: Priority
  /** queue_full, queue_pressure or write_failed (forwards are never shed for event_loop_delay). */
  reason: string
}

export interface QueueDepth {
  high: number
  medium: number
  low: number
  outbox: number
}
