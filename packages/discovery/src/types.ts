// The narrow interfaces @cpc/discovery needs from its collaborators, and its public data types.
// Collaborators are described structurally so that the libp2p node, @cpc/connection-manager's
// ConnectionManager/CpcChannel and @cpc/scoring's PeerScorer fit without this package importing them.
import type { AbortOptions, PeerDiscovery, PeerId, PeerInfo, PeerStore, TypedEventTarget } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CpcMessage, MessageSigner, MessageVerifier, NonceGenerator } from '@cpc/protocol'
import type { DiscoveryMetrics } from './metrics.js'
import type { DiscoveryError } from './errors.js'

/** Where a peer was learned from (bounded: these are metric labels too). */
export type DiscoverySourceName = 'bootstrap' | 'dht' | 'mdns' | 'exchange'

/** What discoverPeers looks for. */
export type DiscoveryTarget = { peerId: PeerId } | 'random' | { group: string }

/** A peer as discovery knows it. */
export interface DiscoveredPeer {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  /** Where it was first learned from. */
  source: DiscoverySourceName
  /** When it was last seen by any source (ms, injected clock). */
  lastSeenMs: number
}

export interface PeerDiscoveredDetail {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  source: DiscoverySourceName
}

/** A rejected DISCOVERY message (typed error, already penalized and counted). */
export interface ProtocolErrorDetail {
  peer: PeerId
  error: DiscoveryError
}

export interface DiscoveryEvents {
  'peer:discovered': CustomEvent<PeerDiscoveredDetail>
  'protocol:error': CustomEvent<ProtocolErrorDetail>
}

/** The DHT operations discovery uses (a @libp2p/kad-dht KadDHT fits). */
export type DiscoveryDht = Pick<KadDHT, 'findPeer' | 'getClosestPeers' | 'provide' | 'findProviders' | 'cancelReprovide' | 'getMode'>

/** The parts of a libp2p v3 node discovery uses. */
export interface DiscoveryLibp2p {
  peerId: PeerId
  peerStore: Pick<PeerStore, 'get' | 'has' | 'merge' | 'consumePeerRecord'>
  dial(peer: PeerId | Multiaddr | Multiaddr[], options?: AbortOptions): Promise<unknown>
  getPeers(): PeerId[]
  getMultiaddrs(): Multiaddr[]
  /** `dht` from discoveryServices(); `mdns` only when enabled. */
  services: { dht?: DiscoveryDht; mdns?: PeerDiscovery; [name: string]: unknown }
}

/** What discovery needs from @cpc/connection-manager's ConnectionManager. */
export interface DiscoveryConnectionManager {
  connect(peer: PeerId, options?: { priority?: number; signal?: AbortSignal; multiaddrs?: Multiaddr[] }): Promise<unknown>
  protect(peer: PeerId, tag: string): unknown
}

/** One decoded frame from CpcChannel's 'message' event. */
export interface ChannelMessageDetail {
  peer: PeerId
  message: CpcMessage
  bytes: number
  limited: boolean
}

/** What discovery needs from @cpc/connection-manager's CpcChannel (owner of `/cpc/1.0.0`). */
export interface DiscoveryChannel {
  send(peer: PeerId, frames: Uint8Array | Uint8Array[], options?: AbortOptions): unknown
  addEventListener(type: 'message', listener: (evt: CustomEvent<ChannelMessageDetail>) => void): void
  removeEventListener(type: 'message', listener: (evt: CustomEvent<ChannelMessageDetail>) => void): void
}

/** Penalty kinds discovery reports (a subset of @cpc/scoring's PenaltyKind). */
export type DiscoveryPenaltyKind = 'protocol-error' | 'invalid-signature' | 'rate-limit' | 'malformed'

/** What discovery needs from @cpc/scoring's PeerScorer. */
export interface DiscoveryScorer {
  composite(peerId: string): number
  penalize(peerId: string, kind: DiscoveryPenaltyKind): void
}

/** Pino-like structured logger; the default logs nothing. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface DiscoveryComponents {
  libp2p: DiscoveryLibp2p
  connectionManager?: DiscoveryConnectionManager
  channel?: DiscoveryChannel
  /** Signs outgoing DISCOVERY messages; peer exchange is off without it. */
  signer?: MessageSigner
  /** Verifies incoming DISCOVERY messages (default: a new MessageVerifier). */
  verifier?: MessageVerifier
  /** Nonces for outgoing DISCOVERY messages (default: a new NonceGenerator). */
  nonces?: NonceGenerator
  scorer?: DiscoveryScorer
  metrics?: DiscoveryMetrics
  /** Milliseconds since the epoch (default Date.now). */
  clock?: () => number
  logger?: Logger
}

export type { TypedEventTarget, PeerInfo }
