// Inbound: the channel's gate runs the per-peer rate limiter on every frame of every message type,
// before any consumer does work. EVENT messages then go through: duplicate check by (origin, nonce)
// (a lookup only) → signature verification → expiry and recipient checks → record in the dedup set
// (only now, so a forged copy cannot pre-empt the real message) → forward (broadcast All, ttl > 0) →
// chunk reassembly → capped decompression → 'message'. Every rejection is counted by reason; those
// the sender is to blame for lower its score (see README for the table).
import type { PeerId } from '@libp2p/interface'
import { MessageType, ProtocolError, Route, bytesEqual, decompressPayload, peerIdToString, type CpcMessage, type Reassembler, type MessageVerifier } from '@cpc/protocol'
import type { Tracer } from '@opentelemetry/api'
import type { Clock, TimerHandle } from './clock.js'
import type { DedupCache } from './inbound/dedup-cache.js'
import type { RateLimiter } from './inbound/rate-limiter.js'
import type { Logger } from './logger.js'
import type { RouterMetrics } from './metrics.js'
import { messageTypeLabel, priorityLabel } from './priority.js'
import type { DeliveredMessage, MessageRejectedDetail, PenaltyKind, RouterChannelGated, RouterChannelMessage, RouterScorer } from './types.js'

export interface InboundComponents {
  /** Our own peer id's multihash bytes (for recipient checks). */
  localPeer: Uint8Array
  verifier: Pick<MessageVerifier, 'verify'> & Partial<Pick<MessageVerifier, 'cachedRoots'>>
  rateLimiter: RateLimiter
  dedup: DedupCache
  reassembler: Reassembler
  clock: Clock
  logger: Logger
  metrics?: RouterMetrics
  scorer?: RouterScorer
  tracer?: Tracer
  /** Broadcast All: pass a verified, first-seen message with ttl > 0 on. */
  forward(message: CpcMessage, from: PeerId): void
  deliver(message: DeliveredMessage): void
  reject(detail: MessageRejectedDetail): void
}

export interface InboundInit {
  maxDecompressedBytes?: number
  /** A broadcast (ttl > 0) older than this is neither delivered nor forwarded: dedup may have forgotten it. */
  staleAfterMs: number
  reassemblySweepMs: number
}

/** Rejection reason → the penalty it costs the neighbor it came from (none: not the sender's fault). */
const PENALTY: Record<string, PenaltyKind | undefined> = {
  rate_limited: 'rate-limit',
  invalid_signature: 'invalid-signature',
  wrong_recipient: 'protocol-error',
  chunk_invalid: 'malformed',
  too_large: 'protocol-error',
  decompression: 'malformed',
  malformed: 'malformed',
}

const REASON_BY_CODE: Record<string, string> = {
  ERR_INVALID_SIGNATURE: 'invalid_signature',
  ERR_MISSING_SIGNATURE: 'invalid_signature',
  ERR_INVALID_ORIGIN: 'invalid_signature',
  // A batch proof that cannot be folded is a bad signature: same drop, same penalty.
  ERR_INVALID_BATCH_PROOF: 'invalid_signature',
  ERR_INVALID_CHUNK: 'chunk_invalid',
  ERR_PAYLOAD_TOO_LARGE: 'too_large',
  ERR_REASSEMBLY_LIMIT: 'reassembly_limit',
  ERR_REASSEMBLY_TIMEOUT: 'reassembly_timeout',
  ERR_DECOMPRESSION: 'decompression',
  ERR_DECOMPRESSED_TOO_LARGE: 'too_large',
  ERR_MESSAGE_EXPIRED: 'expired',
  ERR_WRONG_RECIPIENT: 'wrong_recipient',
}

export class Inbound {
  private readonly c: InboundComponents
  private readonly init: InboundInit
  private gateReason?: string
  private sweepTimer?: TimerHandle
  private running = false

  constructor(components: InboundComponents, init: InboundInit) {
    this.c = components
    this.init = init
  }

  start(): void {
    this.running = true
    this.scheduleSweep()
  }

  stop(): void {
    this.running = false
    if (this.sweepTimer !== undefined) this.c.clock.clearTimeout(this.sweepTimer)
    this.sweepTimer = undefined
    this.c.reassembler.clear()
    this.c.metrics?.reassemblyBytes.set(0)
  }

  /** The channel's inbound gate: cheap, synchronous, every message type. */
  readonly gate = (peer: PeerId, message: CpcMessage, _bytes: number): boolean => {
    this.gateReason = undefined
    const p = message.priority as number
    if (p !== 0 && p !== 1 && p !== 2) {
      this.gateReason = 'malformed'
      return false
    }
    if (this.c.rateLimiter.check(peer.toString(), message.messageType, message.priority).allowed) return true
    this.gateReason = 'rate_limited'
    return false
  }

  /** 'message:gated': the channel dropped a frame our gate refused (dispatched right after the gate). */
  readonly onGated = (evt: CustomEvent<RouterChannelGated>): void => {
    const reason = this.gateReason ?? 'rate_limited'
    this.gateReason = undefined
    this.rejected(evt.detail.peer.toString(), reason, reason === 'rate_limited' ? 'ERR_RATE_LIMITED' : 'ERR_MALFORMED')
  }

  readonly onMessage = (evt: CustomEvent<RouterChannelMessage>): void => {
    const { peer, message: msg, bytes, limited } = evt.detail
    if (msg.messageType !== MessageType.EVENT) return
    const from = peer.toString()
    this.c.metrics?.bytesIn.inc({ type: 'event', priority: priorityLabel(msg.priority) }, bytes)
    const origin = msg.origin.length > 0 ? msg.origin : peer.toMultihash().bytes
    if (this.c.dedup.has(origin, msg.nonce)) {
      this.c.metrics?.dedupHits.inc()
      this.rejected(from, 'duplicate', 'ERR_DUPLICATE')
      return
    }
    const now = this.c.clock.now()
    try {
      // A batched message whose root verified before costs a leaf hash and a path fold (cached).
      const outcome = this.c.verifier.verify(msg, msg.origin.length > 0 ? undefined : origin)
      if (this.c.metrics !== undefined) {
        this.c.metrics.verified.inc({ result: outcome === 'cached' ? 'cached' : 'verified' })
        if (this.c.verifier.cachedRoots !== undefined) this.c.metrics.verifiedRoots.set(this.c.verifier.cachedRoots)
      }
    } catch (err) {
      this.failed(from, err)
      return
    }
    if (msg.expiresAtMs !== 0n && BigInt(Math.floor(now)) > msg.expiresAtMs) {
      this.rejected(from, 'expired', 'ERR_MESSAGE_EXPIRED')
      return
    }
    if (msg.recipient.length > 0 && !bytesEqual(msg.recipient, this.c.localPeer)) {
      this.rejected(from, 'wrong_recipient', 'ERR_WRONG_RECIPIENT')
      return
    }
    if (msg.ttl > 0 && now - Number(msg.timestampMs) > this.init.staleAfterMs) {
      this.rejected(from, 'stale', 'ERR_STALE')
      return
    }
    this.c.dedup.seen(origin, msg.nonce)
    if (msg.ttl > 0) this.c.forward(msg, peer)

    let payload: Uint8Array | undefined
    try {
      const whole = this.c.reassembler.add(origin, msg)
      this.c.metrics?.reassemblyBytes.set(this.c.reassembler.bufferedBytes)
      if (whole === undefined) return
      payload = decompressPayload(whole, msg.compression, { maxBytes: this.init.maxDecompressedBytes })
    } catch (err) {
      this.c.metrics?.reassemblyBytes.set(this.c.reassembler.bufferedBytes)
      this.failed(from, err)
      return
    }
    const timestampMs = Number(msg.timestampMs)
    const latencyMs = Math.max(0, now - timestampMs)
    const labels = { type: messageTypeLabel(msg.messageType), priority: priorityLabel(msg.priority) }
    this.c.metrics?.messagesIn.inc(labels)
    this.c.metrics?.delivered.inc(labels)
    this.c.metrics?.deliveryLatency.observe({ priority: labels.priority }, latencyMs / 1000)
    const delivered: DeliveredMessage = {
      from,
      origin: peerIdToString(origin),
      nonce: msg.chunk?.messageId ?? msg.nonce,
      priority: msg.priority,
      type: msg.messageType,
      payload,
      group: msg.group,
      timestampMs,
      latencyMs,
      route: limited ? Route.ROUTE_RELAY : Route.ROUTE_DIRECT,
    }
    if (this.c.tracer !== undefined) {
      this.c.tracer
        .startSpan('cpc.router.deliver', {
          attributes: { 'cpc.from': from, 'cpc.origin': delivered.origin, 'cpc.priority': labels.priority, 'cpc.bytes': payload.byteLength, 'cpc.latency_ms': latencyMs },
        })
        .end()
    }
    this.c.deliver(delivered)
  }

  /** Drops timed-out partial messages now (also runs every reassemblySweepMs). */
  sweep(): void {
    for (const err of this.c.reassembler.expire()) {
      this.c.metrics?.rejected.inc({ reason: 'reassembly_timeout' })
      this.c.reject({ peer: peerIdToString(err.origin), reason: 'reassembly_timeout', code: err.code })
    }
    this.c.metrics?.reassemblyBytes.set(this.c.reassembler.bufferedBytes)
  }

  private scheduleSweep(): void {
    if (!this.running) return
    this.sweepTimer = this.c.clock.setTimeout(() => {
      this.sweepTimer = undefined
      this.sweep()
      this.scheduleSweep()
    }, this.init.reassemblySweepMs)
  }

  private failed(from: string, err: unknown): void {
    if (err instanceof ProtocolError) {
      this.rejected(from, REASON_BY_CODE[err.code] ?? 'malformed', err.code)
      return
    }
    this.c.logger.warn({ peer: from, err }, 'unexpected inbound error')
    this.rejected(from, 'malformed', 'ERR_MALFORMED')
  }

  private rejected(peer: string, reason: string, code: string): void {
    this.c.metrics?.rejected.inc({ reason })
    const penalty = PENALTY[reason]
    if (penalty !== undefined) this.c.scorer?.penalize(peer, penalty)
    this.c.reject({ peer, reason, code })
  }
}
