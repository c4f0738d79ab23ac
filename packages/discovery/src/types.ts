// The narrow interfaces @cpc/discovery needs from its collaborators, and its public data types.
// Collaborators are described structurally so that the libp2p node, @cpc/connection-manager's
// ConnectionManager/CpcChannel and @cpc/scoring's PeerScorer fit without this package importing them.
import type { AbortOptions, PeerDiscovery, PeerId, PeerInfo, PeerStore, PrivateKey, TypedEventTarget } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CpcMessage, MessageSigner, MessageType, MessageVerifier, NonceGenerator } from '@cpc/protocol'
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
  /** libp2p's `self:peer:update` (our addresses changed): triggers an announcement when present. */
  addEventListener?(type: 'self:peer:update', listener: (evt: CustomEvent<unknown>) => void): void
  removeEventListener?(type: 'self:peer:update', listener: (evt: CustomEvent<unknown>) => void): void
}

/** What discovery needs from @cpc/connection-manager's ConnectionManager. */
export interface DiscoveryConnectionManager {
  connect(peer: PeerId, options?: { priority?: number; signal?: AbortSignal; multiaddrs?: Multiaddr[] }): Promise<unknown>
  protect(peer: PeerId, tag: string): unknown
}

/** One decoded frame, as CpcChannel hands it to a message handler. */
export interface ChannelMessageDetail {
  peer: PeerId
  message: CpcMessage
  bytes: number
  limited: boolean
}

/** What discovery needs from @cpc/connection-manager's CpcChannel (owner of `/cpc/1.0.0`). */
export interface DiscoveryChannel {
  send(peer: PeerId, frames: Uint8Array | Uint8Array[], options?: AbortOptions): unknown
  /** DISCOVERY frames come through a direct handler (no per-frame Event; see CpcChannel.addMessageHandler). */
  addMessageHandler(type: MessageType, handler: (detail: ChannelMessageDetail) => void): void
  removeMessageHandler(type: MessageType, handler: (detail: ChannelMessageDetail) => void): void
}

/** Penalty kinds discovery reports (a subset of @cpc/scoring's PenaltyKind). */
export type DiscoveryPenaltyKind = 'protocol-error' | 'invalid-signature' | 'rate-limit' | 'malformed'

/** What discovery needs from @cpc/scoring's PeerScorer. */
export interface DiscoveryScorer {
  composite(peerId: string): number
  penalize(peerId: string, kind: DiscoveryPenaltyKind): void
  /**
   * Outcomes of the dials discovery makes itself (only without a connection manager: the manager
   * reports its own dials). Optional so that a ranking-only scorer fits.
   */
  dialSucceeded?(peerId: string): void
  dialFailed?(peerId: string): void
}

/** Timers of the periodic exchange and the announcer (default: Node's, unref'd). Tests inject fakes. */
export interface DiscoveryTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
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
  /** Default: setTimeout/clearTimeout, unref'd so they never keep the process alive. */
  timers?: DiscoveryTimers
  /**
   * Our private key, to sign our own peer record in announcements (libp2p keeps no signed record
   * of ourselves in the peer store). Without it announcements carry no record, so receivers that
   * require records (the default) take only the groups from them.
   */
  privateKey?: PrivateKey
  logger?: Logger
}

export type { TypedEventTarget, PeerInfo }
