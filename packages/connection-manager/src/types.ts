// The connection manager's public types: its components, init, events and answers.
import type { MessageSigner, MessageVerifier, NonceGenerator, PeerState, Priority, common } from '@cpc/protocol'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { BackoffInit } from './backoff.js'
import type { CpcChannel } from './channel.js'
import type { Clock, RandomSource } from './clock.js'
import type { LinkMonitorLike } from './link-seam.js'
import type { Logger } from './logger.js'
import type { ConnectionManagerMetrics } from './metrics.js'
import type { GoodbyeRecord } from './peer-record.js'
import type { Watermarks } from './pruner.js'
import type { PeerScorerLike } from './scorer.js'
import type { StateChange } from './state-machine.js'

export type ManagerNode = Pick<Libp2p, 'dial' | 'hangUp' | 'getConnections' | 'peerStore' | 'addEventListener' | 'removeEventListener'>

export interface ConnectionManagerComponents {
  libp2p: ManagerNode
  channel: Pick<CpcChannel, 'send' | 'closeStream' | 'forget' | 'addMessageHandler' | 'removeMessageHandler'>
  /** Signs our CONTROL messages (the node's own identity). */
  signer: Pick<MessageSigner, 'sign'>
  /** Verifies inbound CONTROL messages (default: a new MessageVerifier). */
  verifier?: Pick<MessageVerifier, 'verify'>
  nonces?: Pick<NonceGenerator, 'next'>
  scorer?: PeerScorerLike
  linkMonitor?: LinkMonitorLike
  metrics?: ConnectionManagerMetrics
  /** Every timer of the manager (retries, dial/goodbye/stop timeouts) runs on this clock. */
  clock?: Clock
  random?: RandomSource
  logger?: Logger
}

export interface ConnectionManagerInit {
  backoff?: BackoffInit
  retryQueueCapacity?: number
  maxConcurrentRetries?: number
  watermarks?: Partial<Watermarks>
  dialTimeoutMs?: number
  goodbyeTimeoutMs?: number
  remoteGoodbyeCloseMs?: number
  /** Bound on all the goodbyes stop() sends, together (default DEFAULT_STOP_GOODBYE_TIMEOUT_MS). */
  stopGoodbyeTimeoutMs?: number
}

export interface PeerStateEventDetail extends StateChange {
  /** Set on goodbye, remote-goodbye and pruned transitions, and on the Disconnected that follows. */
  goodbye?: GoodbyeRecord
}

export interface ConnectionManagerEvents {
  'peer:state': CustomEvent<PeerStateEventDetail>
}

export interface ConnectOptions {
  priority?: Priority
  signal?: AbortSignal
  /** Addresses to dial; added to the peer store first. */
  multiaddrs?: Multiaddr[]
}

export interface PeerInfo {
  state: PeerState
  sinceMs: number
  dialAttempts: number
  link?: common.LinkStats
  goodbye?: GoodbyeRecord
}
