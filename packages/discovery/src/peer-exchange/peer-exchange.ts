// Peer exchange over DISCOVERY messages on /cpc/1.0.0, through the CpcChannel (never its own
// handler): answers requests with the best-scored connected peers' signed records, rate limited and
// size bounded; asks peers for theirs and verifies what comes back.
import { CpcMessage, MessageType, MessageVerifier, NonceGenerator, PeerInfo, Priority, bytesEqual, encodeFrame } from '@cpc/protocol'
import type { Discovery, MessageSigner } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import {
  DEFAULT_PEX_MAX_ADDRS_PER_PEER,
  DEFAULT_PEX_MAX_PAYLOAD_BYTES,
  DEFAULT_PEX_MAX_PEERS,
  DEFAULT_PEX_MAX_PENDING,
  DEFAULT_PEX_MAX_RECORD_BYTES,
  DEFAULT_PEX_MIN_SCORE,
  DEFAULT_PEX_RATE_BURST,
  DEFAULT_PEX_RATE_INTERVAL_MS,
  DEFAULT_PEX_RATE_MAX_PEERS,
  DEFAULT_PEX_REQUEST_TIMEOUT_MS,
} from '../constants.js'
import {
  DiscoveryAbortedError,
  DiscoveryError,
  InvalidDiscoverySignatureError,
  InvalidPeerRecordError,
  MalformedDiscoveryMessageError,
  OversizedDiscoveryMessageError,
  PeerExchangeRateLimitedError,
  PeerExchangeTimeoutError,
} from '../errors.js'
import type { DiscoveryMetrics } from '../metrics.js'
import type { ChannelMessageDetail, DiscoveryChannel, DiscoveryLibp2p, DiscoveryPenaltyKind, DiscoveryScorer, Logger } from '../types.js'
import { decodeDiscovery, encodeDiscovery, type PexLimits } from './codec.js'
import { RateLimiter } from './rate-limit.js'
import { toPeerInfo, verifyPeerInfo, type VerifiedPeer } from './records.js'

export interface PeerExchangeInit {
  /** Most peers asked for or given in one exchange (default DEFAULT_PEX_MAX_PEERS). */
  maxPeers?: number
  /** Largest DISCOVERY payload (default DEFAULT_PEX_MAX_PAYLOAD_BYTES). */
  maxPayloadBytes?: number
  maxAddrsPerPeer?: number
  maxRecordBytes?: number
  /** Requests answered per peer: burst and refill interval (defaults DEFAULT_PEX_RATE_*). */
  rateBurst?: number
  rateIntervalMs?: number
  requestTimeoutMs?: number
  /** Peers scoring below this are never shared (default DEFAULT_PEX_MIN_SCORE; needs a scorer). */
  minScore?: number
  /** Accept entries without a signed peer record (default false: records are required). */
  allowUnsignedRecords?: boolean
}

export interface PeerExchangeComponents {
  libp2p: DiscoveryLibp2p
  channel: DiscoveryChannel
  signer: MessageSigner
  verifier?: MessageVerifier
  nonces?: NonceGenerator
  scorer?: DiscoveryScorer
  metrics?: DiscoveryMetrics
  clock: () => number
  logger: Logger
  /** Called with the verified peers of every response and announcement. */
  onPeers(peers: VerifiedPeer[], from: PeerId): void
  /** Called with every rejected message, after it was penalized and counted. */
  onError(peer: PeerId, error: DiscoveryError): void
}

interface Pending {
  peer: string
  limit: number
  resolve(peers: VerifiedPeer[]): void
  reject(err: Error): void
  cleanup(): void
}

export class PeerExchange {
  private readonly limits: PexLimits
  private readonly limiter: RateLimiter
  private readonly pending = new Map<bigint, Pending>()
  private readonly verifier: MessageVerifier
  private readonly nonces: NonceGenerator
  private readonly selfBytes: Uint8Array
  private readonly init: Required<Pick<PeerExchangeInit, 'requestTimeoutMs' | 'minScore' | 'allowUnsignedRecords'>>
  private running = false
  private nextRequestId = 1n
  private readonly onMessage = (evt: CustomEvent<ChannelMessageDetail>): void => {
    const { peer, message } = evt.detail
    if (message.messageType !== MessageType.DISCOVERY) return
    this.handle(peer, message).catch((err: unknown) => this.reject(peer, err))
  }

  constructor(
    private readonly components: PeerExchangeComponents,
    init: PeerExchangeInit = {},
  ) {
    this.limits = {
      maxPeers: init.maxPeers ?? DEFAULT_PEX_MAX_PEERS,
      maxPayloadBytes: init.maxPayloadBytes ?? DEFAULT_PEX_MAX_PAYLOAD_BYTES,
      maxAddrsPerPeer: init.maxAddrsPerPeer ?? DEFAULT_PEX_MAX_ADDRS_PER_PEER,
      maxRecordBytes: init.maxRecordBytes ?? DEFAULT_PEX_MAX_RECORD_BYTES,
    }
    this.init = {
      requestTimeoutMs: init.requestTimeoutMs ?? DEFAULT_PEX_REQUEST_TIMEOUT_MS,
      minScore: init.minScore ?? DEFAULT_PEX_MIN_SCORE,
      allowUnsignedRecords: init.allowUnsignedRecords ?? false,
    }
    this.limiter = new RateLimiter(
      { burst: init.rateBurst ?? DEFAULT_PEX_RATE_BURST, intervalMs: init.rateIntervalMs ?? DEFAULT_PEX_RATE_INTERVAL_MS, maxPeers: DEFAULT_PEX_RATE_MAX_PEERS },
      components.clock,
    )
    this.verifier = components.verifier ?? new MessageVerifier()
    this.nonces = components.nonces ?? new NonceGenerator({ clock: components.clock })
    this.selfBytes = components.libp2p.peerId.toMultihash().bytes
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.components.channel.addEventListener('message', this.onMessage)
  }

  stop(): void {
    if (!this.running) return
    this.running = false
    this.components.channel.removeEventListener('message', this.onMessage)
    for (const p of [...this.pending.values()]) p.reject(new DiscoveryAbortedError('Peer exchange stopped'))
    this.limiter.clear()
  }

  /** Asks `peer` for up to `limit` peers; resolves with the verified ones. */
  async request(peer: PeerId, options: { limit?: number; groups?: string[]; signal?: AbortSignal } = {}): Promise<VerifiedPeer[]> {
    if (!this.running) throw new DiscoveryAbortedError('Peer exchange is not running')
    if (this.pending.size >= DEFAULT_PEX_MAX_PENDING) throw new PeerExchangeRateLimitedError('Too many outstanding peer-exchange requests')
    options.signal?.throwIfAborted()
    const limit = Math.max(1, Math.min(options.limit ?? this.limits.maxPeers, this.limits.maxPeers))
    const requestId = this.nextRequestId++
    const payload: Discovery = { kind: { $case: 'request', value: { limit, groups: options.groups ?? [], requestId } } }
    const result = new Promise<VerifiedPeer[]>((resolve, reject) => {
      const timer = setTimeout(() => entry.reject(new PeerExchangeTimeoutError()), this.init.requestTimeoutMs)
      timer.unref?.()
      const onAbort = (): void => entry.reject(new DiscoveryAbortedError())
      options.signal?.addEventListener('abort', onAbort, { once: true })
      const entry: Pending = {
        peer: peer.toString(),
        limit,
        cleanup: () => {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', onAbort)
          this.pending.delete(requestId)
        },
        resolve: (peers) => {
          entry.cleanup()
          resolve(peers)
        },
        reject: (err) => {
          entry.cleanup()
          reject(err)
        },
      }
      this.pending.set(requestId, entry)
    })
    try {
      await this.send(peer, payload, 'request', options.signal)
    } catch (err) {
      this.pending.get(requestId)?.reject(err as Error)
    }
    return result
  }

  /** Handles one DISCOVERY message from `peer`; throws a DiscoveryError when it is rejected. */
  async handle(peer: PeerId, message: CpcMessage): Promise<void> {
    const peerBytes = peer.toMultihash().bytes
    try {
      this.verifier.verify(message, peerBytes)
    } catch (err) {
      throw new InvalidDiscoverySignatureError(undefined, { cause: err })
    }
    if (message.chunk !== undefined || message.compression !== 0) {
      throw new MalformedDiscoveryMessageError('DISCOVERY messages are never chunked or compressed')
    }
    if (message.recipient.length > 0 && !bytesEqual(message.recipient, this.selfBytes)) {
      throw new MalformedDiscoveryMessageError('DISCOVERY message addressed to another peer')
    }
    const discovery = decodeDiscovery(message.payload, this.limits)
    const kind = discovery.kind
    if (kind === undefined) return
    this.components.metrics?.peerExchangeMessagesTotal.inc({ direction: 'in', kind: kind.$case })
    switch (kind.$case) {
      case 'request':
        if (!this.limiter.tryTake(peer.toString())) throw new PeerExchangeRateLimitedError()
        await this.answer(peer, kind.value.requestId, kind.value.limit)
        return
      case 'response':
        return this.onResponse(peer, kind.value.requestId, kind.value.peers)
      case 'announce': {
        if (kind.value.self === undefined) return
        const verified = await verifyPeerInfo(kind.value.self, this.init.allowUnsignedRecords)
        if (verified === undefined) return
        if (!verified.peerId.equals(peer)) throw new InvalidPeerRecordError('Announcement of another peer')
        await this.accept([verified], peer)
      }
    }
  }

  private async onResponse(peer: PeerId, requestId: bigint, infos: PeerInfo[]): Promise<void> {
    const pending = this.pending.get(requestId)
    if (pending === undefined || pending.peer !== peer.toString()) {
      throw new MalformedDiscoveryMessageError('Unsolicited peer-exchange response')
    }
    if (infos.length > pending.limit) {
      const err = new OversizedDiscoveryMessageError(`${infos.length} peers in a response to a request for ${pending.limit}`)
      pending.reject(err)
      throw err
    }
    const verified: VerifiedPeer[] = []
    try {
      for (const info of infos) {
        const v = await verifyPeerInfo(info, this.init.allowUnsignedRecords)
        if (v !== undefined && !v.peerId.equals(this.components.libp2p.peerId)) verified.push(v)
      }
    } catch (err) {
      pending.reject(err as Error)
      throw err
    }
    await this.accept(verified, peer)
    pending.resolve(verified)
  }

  private async accept(peers: VerifiedPeer[], from: PeerId): Promise<void> {
    const store = this.components.libp2p.peerStore
    for (const p of peers) {
      try {
        if (p.envelope !== undefined) await store.consumePeerRecord(p.envelope, { expectedPeer: p.peerId })
        else await store.merge(p.peerId, { multiaddrs: p.multiaddrs })
      } catch (err) {
        this.components.logger.debug({ peer: p.peerId.toString(), err }, 'could not store exchanged peer')
      }
    }
    if (peers.length > 0) this.components.onPeers(peers, from)
  }

  /** The best connected peers (by score) other than the asker, bounded in entries and bytes. */
  private async answer(peer: PeerId, requestId: bigint, requested: number): Promise<void> {
    const limit = Math.max(0, Math.min(requested === 0 ? this.limits.maxPeers : requested, this.limits.maxPeers))
    const { libp2p, scorer } = this.components
    const scoreOf = (id: PeerId): number => {
      if (scorer === undefined) return 0.5
      try {
        return scorer.composite(id.toString())
      } catch {
        return 0
      }
    }
    const candidates = libp2p
      .getPeers()
      .filter((id) => !id.equals(peer) && !id.equals(libp2p.peerId))
      .map((id) => ({ id, score: scoreOf(id) }))
      .filter((c) => scorer === undefined || c.score >= this.init.minScore)
      .sort((a, b) => b.score - a.score)
    const infos: PeerInfo[] = []
    // A response frame carries the Discovery wrapper and CpcMessage fields around the entries.
    let bytes = 256
    const now = this.components.clock()
    for (const c of candidates) {
      if (infos.length >= limit) break
      let info: PeerInfo | undefined
      try {
        info = toPeerInfo(await libp2p.peerStore.get(c.id), c.score, this.limits, now)
      } catch {
        continue
      }
      if (info === undefined) continue
      const size = PeerInfo.encode(info).finish().length + 8
      if (bytes + size > this.limits.maxPayloadBytes) break
      bytes += size
      infos.push(info)
    }
    await this.send(peer, { kind: { $case: 'response', value: { requestId, peers: infos } } }, 'response')
  }

  private async send(peer: PeerId, payload: Discovery, kind: string, signal?: AbortSignal): Promise<void> {
    const body = encodeDiscovery(payload)
    if (body.length > this.limits.maxPayloadBytes) throw new OversizedDiscoveryMessageError('Outgoing DISCOVERY payload too large')
    const message = this.components.signer.sign(
      CpcMessage.create({
        nonce: this.nonces.next(),
        priority: Priority.MEDIUM,
        messageType: MessageType.DISCOVERY,
        payload: body,
        timestampMs: BigInt(Math.floor(this.components.clock())),
        recipient: peer.toMultihash().bytes,
      }),
    )
    await this.components.channel.send(peer, encodeFrame(message), { signal: signal ?? AbortSignal.timeout(this.init.requestTimeoutMs) })
    this.components.metrics?.peerExchangeMessagesTotal.inc({ direction: 'out', kind })
  }

  /** Penalizes, counts and reports a rejected message; never throws. */
  private reject(peer: PeerId, err: unknown): void {
    const error = err instanceof DiscoveryError ? err : new MalformedDiscoveryMessageError(String(err), { cause: err })
    const kind: DiscoveryPenaltyKind =
      error.code === PeerExchangeRateLimitedError.code
        ? 'rate-limit'
        : error.code === InvalidPeerRecordError.code || error.code === InvalidDiscoverySignatureError.code
          ? 'invalid-signature'
          : 'protocol-error'
    try {
      this.components.scorer?.penalize(peer.toString(), kind)
    } catch (e) {
      this.components.logger.warn({ err: e }, 'scorer.penalize failed')
    }
    this.components.metrics?.peerExchangeRejectedTotal.inc({ code: error.code })
    this.components.logger.debug({ peer: peer.toString(), code: error.code }, 'DISCOVERY message rejected')
    this.components.onError(peer, error)
  }
}
