// Router: moves signed messages over the network, the urgent ahead of the bulk. The composition of
// its concerns, each in its own file: outbound.ts (per-peer queues and writers), routing.ts (direct →
// relay → queued), retry.ts (persistent outbox, expiry), inbound.ts (gate → dedup → verify →
// reassemble → decompress), broadcast.ts (scopes and forwarding). API: docs/design/router-api.md.
import { TypedEventEmitter, type PeerId, type Startable } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  MessageType,
  PeerState,
  Priority,
  ProtocolError,
  Reassembler,
  Route,
  buildMessages,
  encodeFrame,
  prepareMessage,
  type BuildMessageInput,
  type CpcMessage,
  type PreparedMessage,
} from '@cpc/protocol'
import { Broadcaster } from './broadcast.js'
import { systemClock, type Clock } from './clock.js'
import * as K from './constants.js'
import { InvalidMessageError, InvalidScopeError, MessageShedError, RouterNotStartedError } from './errors.js'
import { Inbound } from './inbound.js'
import { DedupCache } from './inbound/dedup-cache.js'
import { RateLimiter } from './inbound/rate-limiter.js'
import { noopLogger, type Logger } from './logger.js'
import { Outbound, type OutboundJob } from './outbound.js'
import { assertPriority, type KnownPriority } from './priority.js'
import { Retry } from './retry.js'
import { connectedRoute, resolveRoute } from './routing.js'
import { LoadShedder } from './shedding/load-shedder.js'
import type {
  BroadcastOptions,
  BroadcastResult,
  DeliveredMessage,
  MessageExpiredDetail,
  MessageRejectedDetail,
  QueueDepth,
  RouterComponents,
  RouterEvents,
  RouterInit,
  RouterChannelMessage,
  RouterPeerStateChange,
  SendOptions,
  SendResult,
} from './types.js'

const ROUTE_LABEL: Record<number, string> = { [Route.ROUTE_DIRECT]: 'direct', [Route.ROUTE_RELAY]: 'relay', [Route.ROUTE_QUEUED]: 'queued' }

export class Router extends TypedEventEmitter<RouterEvents> implements Startable {
  private readonly c: RouterComponents
  private readonly clock: Clock
  private readonly log: Logger
  private readonly init: Required<Pick<RouterInit, 'dialTimeoutMs' | 'defaultTtlMs' | 'broadcastTtl' | 'groupDialConcurrency' | 'broadcastFanout'>> & RouterInit
  private readonly self: Uint8Array
  readonly shedder: LoadShedder
  private readonly outbound: Outbound
  private readonly retry: Retry
  private readonly inbound: Inbound
  private readonly broadcaster: Broadcaster
  private readonly dedup: DedupCache
  private readonly rateLimiter: RateLimiter
  private readonly reassembler: Reassembler
  private readonly pending = new Set<Promise<unknown>>()
  private running = false
  private stopController = new AbortController()

  constructor(components: RouterComponents, init: RouterInit = {}) {
    super()
    this.c = components
    this.clock = components.clock ?? systemClock
    this.log = components.logger ?? noopLogger
    this.init = {
      ...init,
      dialTimeoutMs: init.dialTimeoutMs ?? K.DEFAULT_DIAL_TIMEOUT_MS,
      defaultTtlMs: init.defaultTtlMs ?? K.DEFAULT_SEND_TTL_MS,
      broadcastTtl: init.broadcastTtl ?? K.DEFAULT_BROADCAST_TTL,
      broadcastFanout: init.broadcastFanout ?? K.DEFAULT_BROADCAST_FANOUT,
      groupDialConcurrency: init.groupDialConcurrency ?? K.DEFAULT_GROUP_DIAL_CONCURRENCY,
    }
    this.self = components.peerId.toMultihash().bytes
    const { clock, log } = this
    const metrics = components.metrics
    const totalQueueMaxBytes = init.totalQueueMaxBytes ?? K.DEFAULT_TOTAL_QUEUE_MAX_BYTES
    this.shedder = new LoadShedder(
      { clock, logger: log, metrics, delaySource: components.delaySource, queueFill: () => this.outbound.bytes() / totalQueueMaxBytes },
      init.shedding,
    )
    this.outbound = new Outbound(
      { channel: components.channel, clock, logger: log, metrics, shedPolicy: this.shedder },
      {
        queues: { maxFrames: init.peerQueueMaxFrames, maxBytes: init.peerQueueMaxBytes ?? K.DEFAULT_ROUTER_PEER_QUEUE_MAX_BYTES, mediumWeight: init.mediumWeight, lowWeight: init.lowWeight },
        writer: { maxBatchBytes: init.maxBatchBytes, maxBatchFrames: init.maxBatchFrames, maxSignBatch: init.maxSignBatch, writeTimeoutMs: init.writeTimeoutMs },
      },
    )
    this.retry = new Retry(
      {
        outbox: components.outbox,
        outbound: this.outbound,
        connectionManager: components.connectionManager,
        clock,
        logger: log,
        metrics,
        peerFromString: (peer) => peerIdFromString(peer),
        expired: (detail) => this.expired(detail),
        isConnected: (peer) => components.connectionManager.state(peer) === PeerState.PEER_STATE_CONNECTED,
      },
      {
        expireIntervalMs: init.outboxExpireIntervalMs ?? K.DEFAULT_OUTBOX_EXPIRE_INTERVAL_MS,
        flushBatch: init.outboxFlushBatch ?? K.DEFAULT_OUTBOX_FLUSH_BATCH,
        retryDelayMs: init.retryDelayMs ?? K.DEFAULT_RETRY_DELAY_MS,
      },
    )
    this.dedup = new DedupCache({ clock, metrics }, { windowMs: init.dedupWindowMs, maxEntries: init.dedupMaxEntries })
    this.rateLimiter = new RateLimiter({ clock, metrics }, { limits: init.rateLimits, maxPeers: init.rateLimitMaxPeers })
    this.reassembler = new Reassembler(
      { clock: () => clock.now() },
      { timeoutMs: init.reassemblyTimeoutMs, maxBytes: init.reassemblyMaxBytes, maxMessageBytes: init.reassemblyMaxMessageBytes },
    )
    this.broadcaster = new Broadcaster(
      { self: components.peerId, connectionManager: components.connectionManager, outbound: this.outbound, scorer: components.scorer, metrics, logger: log },
      { fanout: this.init.broadcastFanout, maxFrameBytes: init.maxFrameBytes },
    )
    this.inbound = new Inbound(
      {
        localPeer: this.self,
        verifier: components.verifier,
        rateLimiter: this.rateLimiter,
        dedup: this.dedup,
        reassembler: this.reassembler,
        clock,
        logger: log,
        metrics,
        scorer: components.scorer,
        tracer: components.tracer,
        forward: (msg, from) => this.broadcaster.forward(msg, from),
        deliver: (msg) => this.safeDispatchEvent('message', { detail: msg }),
        reject: (detail) => this.rejected(detail),
      },
      {
        maxDecompressedBytes: init.maxDecompressedBytes,
        staleAfterMs: this.dedup.windowMs,
        reassemblySweepMs: init.reassemblySweepMs ?? K.DEFAULT_REASSEMBLY_SWEEP_MS,
      },
    )
    this.outbound.addEventListener('job:sent', (evt) => this.retry.sent(evt.detail))
    this.outbound.addEventListener('job:failed', (evt) => {
      void this.track(this.retry.requeue(evt.detail.peer, evt.detail.jobs))
    })
    this.outbound.addEventListener('job:shed', (evt) => {
      const { job, reason, incoming } = evt.detail
      // A send() whose own message is shed as it is queued learns it from MessageShedError instead.
      if (!job.owned || (incoming && job.outboxId === undefined)) return
      if (job.outboxId !== undefined) void this.track(this.retry.dropped(job))
      this.expired({ peer: job.peer.toString(), nonce: job.nonce, reason })
    })
    this.outbound.addEventListener('forward:dropped', (evt) => {
      const { peer, nonce, priority, reason } = evt.detail
      this.safeDispatchEvent('forward:dropped', { detail: { peer: peer.toString(), nonce, priority, reason } })
    })
  }

  /**
   * The channel's EVENT handler. Inbound.onMessage takes the 'message' event it used to be given and
   * reads only its detail; wrapping the detail keeps it as it is without building a real Event per
   * frame (that and the dispatch cost as much as decoding the frame).
   */
  private readonly onChannelEvent = (detail: RouterChannelMessage): void => {
    this.inbound.onMessage({ detail } as CustomEvent<RouterChannelMessage>)
  }

  get isStarted(): boolean {
    return this.running
  }

  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    this.stopController = new AbortController()
    const { channel, connectionManager } = this.c
    channel.setInboundGate(this.inbound.gate)
    channel.addMessageHandler(MessageType.EVENT, this.onChannelEvent)
    channel.addEventListener('message:gated', this.inbound.onGated)
    connectionManager.addEventListener('peer:state', this.onPeerState)
    this.shedder.start()
    this.outbound.start()
    this.inbound.start()
    this.retry.start()
  }

  /**
   * Stops every timer and writer. Messages accepted by send() and still queued in memory go to the
   * outbox (so a restart delivers them); waits for sends in flight.
   */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stopController.abort(new RouterNotStartedError())
    const { channel, connectionManager } = this.c
    channel.setInboundGate(undefined)
    channel.removeMessageHandler(MessageType.EVENT, this.onChannelEvent)
    channel.removeEventListener('message:gated', this.inbound.onGated)
    connectionManager.removeEventListener('peer:state', this.onPeerState)
    this.inbound.stop()
    this.shedder.stop()
    await Promise.allSettled([...this.pending])
    const jobs = await this.outbound.stop()
    for (const job of jobs) {
      if (job.outboxId === undefined && job.owned) await this.retry.persist(job).catch((err: unknown) => this.log.error({ err }, 'could not persist on stop'))
    }
    await this.retry.stop()
    await Promise.allSettled([...this.pending])
  }

  /**
   * Sends `payload` to `peer`: built (compressed, chunked, signed) once, then queued on a direct or
   * relayed connection, or put in the outbox until the peer is Connected. Throws MessageShedError
   * when a LOW/MEDIUM message is shed as it is queued, QueueFullError for a HIGH one that cannot
   * fit, OutboxFullError when it should be queued and the outbox is full.
   */
  async send(peer: PeerId, payload: Uint8Array, options: SendOptions = {}): Promise<SendResult> {
    this.assertStarted()
    options.signal?.throwIfAborted()
    if (peer.equals(this.c.peerId)) throw new InvalidMessageError('cannot send to ourselves')
    const priority = options.priority ?? Priority.MEDIUM
    assertPriority(priority)
    const type = options.type ?? MessageType.EVENT
    const ttlMs = options.ttlMs ?? this.init.defaultTtlMs
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new InvalidMessageError(`ttlMs must be positive, got ${ttlMs}`)
    const expiresAtMs = Math.floor(this.clock.now() + ttlMs)
    const prepared = this.prepare({ type, priority, payload, expiresAtMs, recipient: peer.toMultihash().bytes })
    const nonce = prepared.nonce
    const signal = options.signal === undefined ? this.stopController.signal : AbortSignal.any([options.signal, this.stopController.signal])
    const span = this.c.tracer?.startSpan('cpc.router.send', { attributes: { 'cpc.peer': peer.toString(), 'cpc.priority': priority, 'cpc.bytes': payload.byteLength } })
    try {
      const route = await this.track(resolveRoute({ connectionManager: this.c.connectionManager, relays: this.c.relays, logger: this.log }, peer, { priority, dialTimeoutMs: this.init.dialTimeoutMs, signal }))
      span?.setAttribute('cpc.route', ROUTE_LABEL[route] ?? 'unknown')
      this.assertStarted()
      // Signed as the peer's writer takes them, together with the other frames of that write (one
      // Merkle root per batch): a chunk's first frame is on the wire at once, HIGH frames still
      // overtake between chunks, and small messages queued together share one signature.
      const frames = prepared
      const job: OutboundJob = { peer, nonce, frames, priority, type, expiresAtMs, owned: true }
      this.c.metrics?.routes.inc({ route: ROUTE_LABEL[route] ?? 'unknown' })
      if (route === Route.ROUTE_QUEUED) {
        await this.track(this.retry.persist(job, { throwOnFull: true }))
        this.retry.flushIfConnected(peer.toString()) // it may have connected meanwhile
        return { nonce, route }
      }
      const result = this.outbound.enqueue(job)
      if (!result.accepted) throw new MessageShedError(result.reason, nonce)
      return { nonce, route }
    } finally {
      span?.end()
    }
  }

  /** Broadcasts `payload` to a scope (see broadcast.ts and the README for the semantics). */
  async broadcast(payload: Uint8Array, options: BroadcastOptions): Promise<BroadcastResult> {
    this.assertStarted()
    options.signal?.throwIfAborted()
    const priority = options.priority ?? Priority.MEDIUM
    assertPriority(priority)
    const scope = options.scope
    const span = this.c.tracer?.startSpan('cpc.router.broadcast', { attributes: { 'cpc.scope': scope.kind, 'cpc.priority': priority } })
    try {
      switch (scope.kind) {
        case 'neighbors': {
          const built = this.build({ type: MessageType.EVENT, priority, payload })
          const peers = this.c.connectionManager.connectedPeers().filter((p) => !p.equals(this.c.peerId))
          return { nonce: built.nonce, sentTo: this.broadcaster.sendTo(peers, built.frames, priority, MessageType.EVENT, built.nonce) }
        }
        case 'all': {
          const ttl = scope.ttl ?? this.init.broadcastTtl
          if (!Number.isInteger(ttl) || ttl < 1) throw new InvalidScopeError(`ttl must be an integer >= 1, got ${ttl}`)
          const built = this.build({ type: MessageType.EVENT, priority, payload, ttl })
          // Our own copies coming back are duplicates.
          for (const m of built.messages) this.dedup.seen(this.self, m.nonce)
          const peers = this.broadcaster.bestNeighbors(this.init.broadcastFanout)
          return { nonce: built.nonce, sentTo: this.broadcaster.sendTo(peers, built.frames, priority, MessageType.EVENT, built.nonce) }
        }
        case 'group': {
          if (typeof scope.group !== 'string' || scope.group.length === 0) throw new InvalidScopeError('group name is empty')
          if (this.c.groups === undefined) throw new InvalidScopeError('no group lookup (components.groups) configured')
          const members = (await this.c.groups.members(scope.group, { signal: options.signal })).filter((p) => !p.equals(this.c.peerId))
          const built = this.build({ type: MessageType.EVENT, priority, payload, group: scope.group })
          const reachable = await this.reach(members, priority, options.signal)
          return { nonce: built.nonce, sentTo: this.broadcaster.sendTo(reachable, built.frames, priority, MessageType.EVENT, built.nonce) }
        }
        default:
          throw new InvalidScopeError(`unknown kind ${(scope as { kind: unknown }).kind as string}`)
      }
    } finally {
      span?.end()
    }
  }

  queueDepth(): QueueDepth {
    return { ...this.outbound.depth(), outbox: this.c.outbox.isOpen ? this.c.outbox.size() : 0 }
  }

  /** Chunked messages being reassembled and the bytes they hold. */
  reassembly(): { bytes: number; messages: number } {
    return { bytes: this.reassembler.bufferedBytes, messages: this.reassembler.pendingMessages }
  }

  /** Messages shed from the outbound queues so far, by reason (all reasons without one). */
  shedCount(reason?: 'queue_full' | 'event_loop_delay' | 'queue_pressure'): number {
    return this.outbound.shedCount(reason)
  }

  /** Broadcast forwards that did not go out so far, by reason (all reasons without one). */
  forwardDropCount(reason?: 'queue_full' | 'queue_pressure' | 'write_failed'): number {
    return this.outbound.forwardDropCount(reason)
  }

  /** Resolves once every writer has nothing in flight. */
  async whenIdle(): Promise<void> {
    await this.outbound.whenIdle()
  }

  /** Expire due outbox entries now (also runs on a timer). Returns how many expired. */
  async expireNow(): Promise<number> {
    return this.retry.expireNow()
  }

  /** Drop timed-out partial messages now (also runs on a timer). */
  sweepReassembly(): void {
    this.inbound.sweep()
  }

  private readonly onPeerState = (evt: CustomEvent<RouterPeerStateChange>): void => {
    const { peerId, to } = evt.detail
    if (to === PeerState.PEER_STATE_CONNECTED) this.retry.flushIfConnected(peerId)
    else if (to === PeerState.PEER_STATE_DISCONNECTED) {
      const jobs = this.outbound.release(peerId)
      if (jobs.length > 0) void this.track(this.retry.requeue(peerIdFromString(peerId), jobs))
    }
  }

  /** Group members: connected ones, plus those a dial reaches within dialTimeoutMs (a few at a time). */
  private async reach(members: PeerId[], priority: KnownPriority, signal?: AbortSignal): Promise<PeerId[]> {
    const out: PeerId[] = []
    const todo = [...members]
    const worker = async (): Promise<void> => {
      for (let peer = todo.shift(); peer !== undefined; peer = todo.shift()) {
        const route = connectedRoute({ connectionManager: this.c.connectionManager, relays: this.c.relays, logger: this.log }, peer)
        if (route !== undefined) {
          out.push(peer)
          continue
        }
        const resolved = await resolveRoute({ connectionManager: this.c.connectionManager, relays: this.c.relays, logger: this.log }, peer, {
          priority,
          dialTimeoutMs: this.init.dialTimeoutMs,
          signal,
        })
        if (resolved !== Route.ROUTE_QUEUED) out.push(peer)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.init.groupDialConcurrency, members.length) }, worker))
    return out
  }

  private prepare(input: BuildMessageInput): PreparedMessage {
    try {
      return prepareMessage(input, this.c.signer, this.c.nonces, {
        chunkBytes: this.init.chunkBytes,
        compressionThresholdBytes: this.init.compressionThresholdBytes,
        maxPayloadBytes: this.init.maxPayloadBytes ?? K.DEFAULT_ROUTER_MAX_PAYLOAD_BYTES,
        maxFrameBytes: this.init.maxFrameBytes,
        now: this.clock.now(),
      })
    } catch (err) {
      if (err instanceof ProtocolError) throw new InvalidMessageError(`${err.code}: ${err.message}`, { cause: err })
      throw err
    }
  }

  private build(input: Omit<BuildMessageInput, 'payload'> & { payload: Uint8Array }): { messages: CpcMessage[]; frames: Uint8Array[]; nonce: bigint } {
    let messages: CpcMessage[]
    try {
      messages = buildMessages(input, this.c.signer, this.c.nonces, {
        chunkBytes: this.init.chunkBytes,
        compressionThresholdBytes: this.init.compressionThresholdBytes,
        maxPayloadBytes: this.init.maxPayloadBytes ?? K.DEFAULT_ROUTER_MAX_PAYLOAD_BYTES,
        now: this.clock.now(),
        // Built once, its bytes shared by every copy: chunks signed in batches, never per peer.
        maxBatch: this.init.maxSignBatch ?? K.DEFAULT_MAX_SIGN_BATCH,
      })
    } catch (err) {
      if (err instanceof ProtocolError) throw new InvalidMessageError(`${err.code}: ${err.message}`, { cause: err })
      throw err
    }
    const frames = messages.map((m) => encodeFrame(m, { maxFrameBytes: this.init.maxFrameBytes }))
    return { messages, frames, nonce: messages[0].nonce }
  }

  private expired(detail: MessageExpiredDetail): void {
    this.safeDispatchEvent('message:expired', { detail })
  }

  private rejected(detail: MessageRejectedDetail): void {
    this.safeDispatchEvent('message:rejected', { detail })
  }

  private assertStarted(): void {
    if (!this.running) throw new RouterNotStartedError()
  }

  private async track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p)
    try {
      return await p
    } finally {
      this.pending.delete(p)
    }
  }
}

export type { DeliveredMessage }
