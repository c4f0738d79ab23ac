// Broadcast scopes. The origin builds and signs the message once; every copy on the wire is the
// origin's signed frames, byte for byte.
//   - neighbors: every connected peer, ttl 0 (receivers deliver, never forward).
//   - group: the group's members from discovery (dialled if needed), ttl 0, `group` set.
//   - all: ttl >= 1 marks the message as forwardable. The origin sends it to its `fanout` best-scored
//     neighbors; each receiver, the first time it sees (origin, nonce) and after verifying it, delivers
//     it and sends the same bytes to its own best `fanout` neighbors, except the one it came from and
//     the origin. ttl is covered by the signature, so nobody decrements it: the flood ends because each
//     node forwards a given (origin, nonce) at most once (dedup), which also makes delivery exactly once.
//     At most N × fanout transmissions per message for N nodes.
import type { PeerId } from '@libp2p/interface'
import { encodeFrame, peerIdToString as peerIdString, type CpcMessage } from '@cpc/protocol'
import type { Outbound } from './outbound.js'
import type { KnownPriority } from './priority.js'
import type { RouterConnections, RouterScorer } from './types.js'
import type { RouterMetrics } from './metrics.js'
import { QueueFullError } from './errors.js'
import type { Logger } from './logger.js'

export interface BroadcastComponents {
  self: PeerId
  connectionManager: Pick<RouterConnections, 'connectedPeers'>
  outbound: Outbound
  scorer?: RouterScorer
  metrics?: RouterMetrics
  logger: Logger
}

export interface BroadcastInit {
  fanout: number
  maxFrameBytes?: number
}

export class Broadcaster {
  private readonly c: BroadcastComponents
  private readonly init: BroadcastInit

  constructor(components: BroadcastComponents, init: BroadcastInit) {
    this.c = components
    this.init = init
  }

  /** Connected peers, best composite score first (ties: stable by id), at most `limit`. */
  bestNeighbors(limit: number, exclude: ReadonlySet<string> = new Set()): PeerId[] {
    const peers = this.c.connectionManager.connectedPeers().filter((p) => !exclude.has(p.toString()) && !p.equals(this.c.self))
    const scorer = this.c.scorer
    if (scorer !== undefined) {
      const score = new Map(peers.map((p) => [p.toString(), scorer.composite(p.toString())]))
      peers.sort((a, b) => (score.get(b.toString()) ?? 0) - (score.get(a.toString()) ?? 0) || cmp(a.toString(), b.toString()))
    }
    return peers.slice(0, limit)
  }

  /**
   * Queues the frames for each peer (not owned: a copy that fails is counted, not retried). Returns how
   * many took it. `forward`: the copies pass on someone else's broadcast (see shedding/forward-policy.ts).
   */
  sendTo(
    peers: PeerId[],
    frames: Uint8Array[],
    priority: KnownPriority,
    type: CpcMessage['messageType'],
    nonce: bigint,
    forward = false,
  ): number {
    let sent = 0
    for (const peer of peers) {
      const job = { peer, nonce, frames, priority, type, expiresAtMs: 0, owned: false, forward }
      try {
        const r = this.c.outbound.enqueue(job)
        if (r.accepted) sent++
      } catch (err) {
        if (!(err instanceof QueueFullError)) throw err
        this.c.logger.debug({ peer: peer.toString() }, 'broadcast copy refused: queue full')
        // A shed is counted by the queues; a HIGH copy refused outright is counted here.
        if (forward) this.c.outbound.forwardDropped(job, 'queue_full')
      }
    }
    return sent
  }

  /**
   * A verified, first-seen message with ttl > 0 from `from`: pass the same bytes on. Forwards are not
   * shed for event-loop delay; those dropped for another reason are counted and announced by Outbound.
   */
  forward(message: CpcMessage, from: PeerId): void {
    const exclude = new Set([from.toString()])
    const origin = originString(message)
    if (origin !== undefined) exclude.add(origin)
    const peers = this.bestNeighbors(this.init.fanout, exclude)
    if (peers.length === 0) return
    const frame = encodeFrame(message, { maxFrameBytes: this.init.maxFrameBytes })
    const n = this.sendTo(peers, [frame], message.priority as KnownPriority, message.messageType, message.nonce, true)
    this.c.metrics?.forwarded.inc(n)
  }
}

function originString(message: CpcMessage): string | undefined {
  try {
    return message.origin.length > 0 ? peerIdString(message.origin) : undefined
  } catch {
    return undefined
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
