// The NetworkHandler's typed event stream. Every detail carries `peerId` (a string: the peer the
// event is about, or the neighbor a message arrived from) and `atMs` (the node's clock), so one
// consumer can treat them alike; the gRPC Subscribe stream carries the same events.
import type { DiscoverySourceName } from '@cpc/discovery'
import type { MessageType, PeerState, Priority, Route } from '@cpc/protocol'
import type { PeerScoreSnapshot } from '@cpc/scoring'

/** Where a peer was learned from; 'connection' = it connected to us before any other source named it. */
export type PeerSource = DiscoverySourceName | 'connection'

export interface MessageEventDetail {
  /** The neighbor it arrived from. */
  peerId: string
  /** Its origin (differs from peerId when forwarded or relayed). */
  origin: string
  nonce: bigint
  priority: Priority
  type: MessageType
  /** Verified, reassembled, decompressed. */
  payload: Uint8Array
  group: string
  timestampMs: number
  latencyMs: number
  route: Route
  atMs: number
}

export interface PeerStateEventDetail {
  peerId: string
  from: PeerState
  to: PeerState
  /** The connection manager's TransitionReason (dial, connected, goodbye, error, ...). */
  reason: string
  atMs: number
}

export interface PeerDiscoveredEventDetail {
  peerId: string
  multiaddrs: string[]
  source: PeerSource
  atMs: number
}

export interface ScoreChangedEventDetail {
  peerId: string
  score: PeerScoreSnapshot
  atMs: number
}

export interface MessageExpiredEventDetail {
  /** The peer the message was for. */
  peerId: string
  nonce: bigint
  reason: string
  atMs: number
}

export interface NetworkEvents {
  message: CustomEvent<MessageEventDetail>
  'peer:state': CustomEvent<PeerStateEventDetail>
  'peer:discovered': CustomEvent<PeerDiscoveredEventDetail>
  'score:changed': CustomEvent<ScoreChangedEventDetail>
  'message:expired': CustomEvent<MessageExpiredEventDetail>
}

export type NetworkEventKind = keyof NetworkEvents
export const NETWORK_EVENT_KINDS: readonly NetworkEventKind[] = ['message', 'peer:state', 'peer:discovered', 'score:changed', 'message:expired']

/** One item of `events()`: the kind and its detail, as a discriminated union. */
export type NetworkEvent = {
  [K in NetworkEventKind]: { kind: K; detail: NetworkEvents[K]['detail'] }
}[NetworkEventKind]
