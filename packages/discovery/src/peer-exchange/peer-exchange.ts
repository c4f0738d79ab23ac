// Peer exchange over DISCOVERY messages on /cpc/1.0.0, through the CpcChannel (never its own
// handler): answers requests with the best-scored connected peers' signed records, rate limited and
// size bounded; asks peers for theirs and verifies what comes back.
import { CpcMessage, MessageType, MessageVerifier, NonceGenerator, PeerInfo, Priority, bytesEqual, encodeFrame } from '@cpc/protocol'
import type { Discovery, MessageSigner } from '@cpc/protocol'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import type { PeerId, PrivateKey } from '@libp2p/interface'
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
  InvalidDiscoveryInputError,
  InvalidDiscoverySignatureError,
  InvalidPeerRecordError,
  MalformedDiscoveryMessageError,
  OversizedDiscoveryMessageError,
  PeerExchangeRateLimitedError,
  PeerExchangeTimeoutError,
} from '../errors.js'
import type { GroupDirectory } from '../group-directory.js'
import { validateGroupName } from '../group-key.js'
import type { DiscoveryMetrics } from '../metrics.js'
import type { ChannelMessageDetail, DiscoveryChannel, DiscoveryLibp2p, DiscoveryPenaltyKind, DiscoveryScorer, Logger } from '../types.js'
import { decodeDiscovery, encodeDiscovery, type PexLimits } from './codec.js'
import { RateLimiter } from './rate-limit.js'
import { toPeerInfo, verifyPeerInfo, type VerifiedPeer } from './records.js'

/** The multicodec of /p2p/, stripped from the addresses in our own peer record (as identify does). */
const P2P_CODE = 421

/** Group names in a request or announcement must be valid names (bounds are checked by the codec). */
function checkGroupNames(groups: readonly string[], error: (msg: string) => DiscoveryError): void {
  for (const g of groups) {
    try {
      validateGroupName(g)
    } catch {
      throw error(`Invalid group name in DISCOVERY message`)
    }
  }
}

export interface PeerExchangeInit {
  /** Most peers asked for or given in one exchange (default DEFAULT_PEX_MAX_PEERS). */
  maxPeers?: number
  /** Largest DISCOVERY payload (default DEFAULT_PEX_MAX_PAYLOAD_BYTES). */
  maxPayloadBytes?: number
  maxAddrsPerPeer?: number
  maxRecordBytes?: number
  /**
   * Requests answered per peer: burst and refill interval (defaults DEFAULT_PEX_RATE_*). Incoming
   * announcements get their own per-peer buckets with the same bounds.
   */
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
  /** Group memberships learned from announcements; answers requests that filter by group. */
  groups?: GroupDirectory
  /** Signs our own peer record for announcements (see DiscoveryComponents.privateKey). */
  privateKey?: PrivateKey
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
  private readonly announceLimiter: RateLimiter
  private selfRecord: { addrs: string; envelope: Uint8Array } | undefined
  private readonly pending = new Map<bigint, Pending>()
  private readonly verifier: MessageVerifier
  private readonly nonces: NonceGenerator
  private readonly selfBytes: Uint8Array
  private readonly init: Required<Pick<PeerExchangeInit, 'requestTimeoutMs' | 'minScore' | 'allowUnsignedRecords'>>
  private running = false
  private nextRequestId = 1n
  private readonly onMessage = (detail: ChannelMessageDetail): void => {
    const { peer, message } = detail
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
    const rate = { burst: init.rateBurst ?? DEFAULT_PEX_RATE_BURST, intervalMs: init.rateIntervalMs ?? DEFAULT_PEX_RATE_INTERVAL_MS, maxPeers: DEFAULT_PEX_RATE_MAX_PEERS }
    this.limiter = new RateLimiter(rate, components.clock)
    this.announceLimiter = new RateLimiter(rate, components.clock)
    this.verifier = components.verifier ?? new MessageVerifier()
    this.nonces = components.nonces ?? new NonceGenerator({ clock: components.clock })
    this.selfBytes = components.libp2p.peerId.toMultihash().bytes
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.components.channel.addMessageHandler(MessageType.DISCOVERY, this.onMessage)
  }

  stop(): void {
    if (!this.running) return
    this.running = false
    this.components.channel.removeMessageHandler(MessageType.DISCOVERY, this.onMessage)
    for (const p of [...this.pending.values()]) p.reject(new DiscoveryAbortedError('Peer exchange stopped'))
    this.limiter.clear()
    this.announceLimiter.clear()
  }

  /**
   * Asks `peer` for up to `limit` peers; resolves with the verified ones. With `groups`, the peer
   * answers only with peers it knows to be members of at least one of them (possibly none).
   */
  async request(peer: PeerId, options: { limit?: number; groups?: string[]; signal?: AbortSignal } = {}): Promise<VerifiedPeer[]> {
    if (!this.running) throw new DiscoveryAbortedError('Peer exchange is not running')
    const groups = options.groups ?? []
    checkGroupNames(groups, (msg) => new InvalidDiscoveryInputError(msg))
    if (this.pending.size >= DEFAULT_PEX_MAX_PENDING) throw new PeerExchangeRateLimitedError('Too many outstanding peer-exchange requests')
    options.signal?.throwIfAborted()
    const limit = Math.max(1, Math.min(options.limit ?? this.limits.maxPeers, this.limits.maxPeers))
    const requestId = this.nextRequestId++
    const payload: Discovery = { kind: { $case: 'request', value: { limit, groups, requestId } } }
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
    // The timeout or an abort can reject `result` while the send below is still waiting (a slow dial
    // under load): mark it handled now, or that rejection is unhandled and ends the process. The
    // caller still gets it through `return result`.
    result.catch(() => {})
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
        this.takeToken(this.limiter, peer, 'request')
        checkGroupNames(kind.value.groups, (msg) => new MalformedDiscoveryMessageError(msg))
        await this.answer(peer, kind.value.requestId, kind.value.limit, kind.value.groups)
        return
      case 'response':
        return this.onResponse(peer, kind.value.requestId, kind.value.peers)
      case 'announce': {
        // Checked before any verification work: a flood costs us a decode per message, no more.
        this.takeToken(this.announceLimiter, peer, 'announce')
        const self = kind.value.self
        if (self === undefined) return
        if (!bytesEqual(self.peerId, peerBytes)) throw new InvalidPeerRecordError('Announcement of another peer')
        checkGroupNames(kind.value.groups, (msg) => new MalformedDiscoveryMessageError(msg))
        // A forged record rejects the whole announcement, groups included.
        const verified = await verifyPeerInfo(self, this.init.allowUnsignedRecords)
        if (verified !== undefined && !verified.peerId.equals(peer)) throw new InvalidPeerRecordError('Announcement of another peer')
        // The groups are the sender's own claim, authenticated by the message signature, so they
        // count even when the announcement carries no record.
        this.components.groups?.setMemberships(peer, kind.value.groups)
        if (verified !== undefined) await this.accept([verified], peer)
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

  /** Sends our own record and `groups` to `peer` (an announcement). */
  async announce(peer: PeerId, groups: string[], signal?: AbortSignal): Promise<void> {
    if (!this.running) throw new DiscoveryAbortedError('Peer exchange is not running')
    const self = await this.selfInfo()
    await this.send(peer, { kind: { $case: 'announce', value: { self, groups } } }, 'announce', signal)
  }

  /** Our PeerInfo: current addresses and, with the private key, a signed record (cached per address set). */
  private async selfInfo(): Promise<PeerInfo> {
    const { libp2p, privateKey } = this.components
    const addrs = libp2p
      .getMultiaddrs()
      .map((ma) => ma.decapsulateCode(P2P_CODE))
      .slice(0, this.limits.maxAddrsPerPeer)
    const key = addrs.map(String).join(' ')
    if (privateKey !== undefined && this.selfRecord?.addrs !== key) {
      const envelope = await RecordEnvelope.seal(new PeerRecord({ peerId: libp2p.peerId, multiaddrs: addrs }), privateKey)
      this.selfRecord = { addrs: key, envelope: envelope.marshal() }
    }
    return PeerInfo.create({
      peerId: this.selfBytes,
      multiaddrs: addrs.map((a) => a.bytes),
      scoreHint: 1,
      signedRecord: privateKey !== undefined ? this.selfRecord!.envelope : new Uint8Array(0),
      seenAtMs: BigInt(Math.max(0, Math.floor(this.components.clock()))),
    })
  }

  private takeToken(limiter: RateLimiter, peer: PeerId, kind: 'request' | 'announce'): void {
    if (limiter.tryTake(peer.toString())) return
    this.components.metrics?.peerExchangeRateLimitedTotal.inc({ kind })
    throw new PeerExchangeRateLimitedError(`Peer-exchange ${kind} rate limited`)
  }

  /**
   * The best connected peers (by score) other than the asker, bounded in entries and bytes. With
   * `groups`, only peers known (GroupDirectory) to be members of one of them, connected or not.
   */
  private async answer(peer: PeerId, requestId: bigint, requested: number, groups: string[]): Promise<void> {
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
    const pool = groups.length > 0 ? (this.components.groups?.members(groups) ?? []) : libp2p.getPeers()
    const candidates = pool
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
