// Following libp2p's own view of connections: a connection that opens (ours, the remote's, or one
// another libp2p component dialled) moves the peer to Connected; the last one closing without a
// goodbye first is a crash or a network failure, and schedules a retry.
import { PeerState } from '@cpc/protocol'
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import type { Clock } from './clock.js'
import type { DialRecord, PeerRecord } from './peer-record.js'
import type { TransitionReason } from './state-machine.js'

const { PEER_STATE_DISCONNECTED: DISCONNECTED, PEER_STATE_CONNECTING: CONNECTING, PEER_STATE_CONNECTED: CONNECTED, PEER_STATE_DISCONNECTING: DISCONNECTING } =
  PeerState

/** What the follower needs from the manager. */
export interface ConnectionEventsHost {
  isStarted(): boolean
  readonly clock: Clock
  ensure(peer: PeerId): PeerRecord
  peer(id: string): PeerRecord | undefined
  transition(rec: PeerRecord, to: PeerState, reason: TransitionReason): void
  /** A Disconnected peer: retry it (if kept) or forget it. */
  settle(rec: PeerRecord, retry: boolean): void
  openConnection(peer: PeerId): Connection | undefined
  cancelRetry(id: string): void
  dialSucceeded(rec: PeerRecord, dial: DialRecord): void
}

export class Libp2pEventFollower {
  readonly #node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getConnections'>
  readonly #host: ConnectionEventsHost

  constructor(node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getConnections'>, host: ConnectionEventsHost) {
    this.#node = node
    this.#host = host
  }

  start(): void {
    this.#node.addEventListener('connection:open', this.#onOpen)
    this.#node.addEventListener('connection:close', this.#onClose)
  }

  /** Takes in connections that opened before we started. */
  adoptExisting(): void {
    for (const conn of this.#node.getConnections()) this.#adopt(conn)
  }

  stop(): void {
    this.#node.removeEventListener('connection:open', this.#onOpen)
    this.#node.removeEventListener('connection:close', this.#onClose)
  }

  #onOpen = (evt: CustomEvent<Connection>): void => this.#adopt(evt.detail)

  #adopt(conn: Connection): void {
    const h = this.#host
    if (!h.isStarted() || conn.status !== 'open') return
    const rec = h.ensure(conn.remotePeer)
    if (rec.state === DISCONNECTED) {
      h.cancelRetry(rec.id)
      h.transition(rec, CONNECTING, conn.direction === 'inbound' ? 'inbound' : 'dial')
      h.transition(rec, CONNECTED, conn.direction === 'inbound' ? 'inbound' : 'connected')
    } else if (rec.state === CONNECTING) {
      h.transition(rec, CONNECTED, 'connected')
      if (rec.dial != null) h.dialSucceeded(rec, rec.dial)
    }
  }

  #onClose = (evt: CustomEvent<Connection>): void => {
    const h = this.#host
    const rec = h.peer(evt.detail.remotePeer.toString())
    if (rec == null || h.openConnection(rec.peerId) != null) return
    if (rec.state === CONNECTED) {
      // No goodbye came first: the remote crashed or the network failed.
      h.transition(rec, DISCONNECTED, 'error')
      h.settle(rec, true)
    } else if (rec.state === DISCONNECTING) {
      rec.clearGoodbyeTimer(h.clock)
      h.transition(rec, DISCONNECTED, 'closed')
      h.settle(rec, rec.goodbye?.direction === 'in')
    }
  }
}
