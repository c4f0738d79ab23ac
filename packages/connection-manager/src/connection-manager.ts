// ConnectionManager: one state machine per peer, driven by our dials and libp2p's connection
// events; retries through backoff + the retry queue; graceful goodbyes; watermark pruning.
import {
  Control,
  CpcMessage,
  GoodbyeReason,
  MessageType,
  MessageVerifier,
  NonceGenerator,
  PeerState,
  Priority,
  encodeFrame,
  type Goodbye,
  type MessageSigner,
  type common,
} from '@cpc/protocol'
import { TypedEventEmitter, type Connection, type Libp2p, type PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { Registry } from 'prom-client'
import { Backoff, type BackoffInit } from './backoff.js'
import type { CpcChannel, ChannelMessageDetail } from './channel.js'
import { systemClock, type Clock, type RandomSource, type TimerHandle } from './clock.js'
import {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_GOODBYE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_RETRIES,
  DEFAULT_REMOTE_GOODBYE_CLOSE_MS,
  HIGH_TRAFFIC_TAG,
} from './constants.js'
import { AbortedError, DialFailedError, NotStartedError, RetryQueueFullError } from './errors.js'
import type { LinkMonitorLike } from './link-seam.js'
import { noopLogger, type Logger } from './logger.js'
import { createConnectionManagerMetrics, type ConnectionManagerMetrics } from './metrics.js'
import { PeerRecord, type DialRecord, type GoodbyeRecord } from './peer-record.js'
import { resolveWatermarks, selectPruneVictims, type Watermarks } from './pruner.js'
import { RetryQueue } from './retry-queue.js'
import type { PeerScorerLike } from './scorer.js'
import { stateName, type StateChange, type TransitionReason } from './state-machine.js'
import { combinedSignal, raceSignal } from './wait.js'

const { PEER_STATE_DISCONNECTED: DISCONNECTED, PEER_STATE_CONNECTING: CONNECTING, PEER_STATE_CONNECTED: CONNECTED, PEER_STATE_DISCONNECTING: DISCONNECTING } =
  PeerState

/** After a remote goodbye, a protected peer's retries start at this backoff attempt (a longer wait). */
const RETRY_ATTEMPT_AFTER_GOODBYE = 4

export type ManagerNode = Pick<Libp2p, 'dial' | 'hangUp' | 'getConnections' | 'peerStore' | 'addEventListener' | 'removeEventListener'>

export interface ConnectionManagerComponents {
  libp2p: ManagerNode
  channel: Pick<CpcChannel, 'send' | 'closeStream' | 'forget' | 'addEventListener' | 'removeEventListener'>
  /** Signs our CONTROL messages (the node's own identity). */
  signer: Pick<MessageSigner, 'sign'>
  /** Verifies inbound CONTROL messages (default: a new MessageVerifier). */
  verifier?: Pick<MessageVerifier, 'verify'>
  nonces?: Pick<NonceGenerator, 'next'>
  scorer?: PeerScorerLike
  linkMonitor?: LinkMonitorLike
  metrics?: ConnectionManagerMetrics
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

export class ConnectionManager extends TypedEventEmitter<ConnectionManagerEvents> {
  readonly #c: ConnectionManagerComponents
  readonly #clock: Clock
  readonly #log: Logger
  readonly #metrics: ConnectionManagerMetrics
  readonly #verifier: Pick<MessageVerifier, 'verify'>
  readonly #nonces: Pick<NonceGenerator, 'next'>
  readonly #backoff: Backoff
  readonly #queue: RetryQueue
  readonly #marks: Watermarks
  readonly #maxConcurrentRetries: number
  readonly #dialTimeoutMs: number
  readonly #goodbyeTimeoutMs: number
  readonly #remoteGoodbyeCloseMs: number
  readonly #peers = new Map<string, PeerRecord>()
  #stop = new AbortController()
  #started = false
  #retryTimer: TimerHandle | undefined
  #retriesInFlight = 0
  #pruneScheduled = false

  constructor(components: ConnectionManagerComponents, init: ConnectionManagerInit = {}) {
    super()
    this.#c = components
    this.#clock = components.clock ?? systemClock
    this.#log = components.logger ?? noopLogger
    this.#metrics = components.metrics ?? createConnectionManagerMetrics(new Registry())
    this.#verifier = components.verifier ?? new MessageVerifier()
    this.#nonces = components.nonces ?? new NonceGenerator({ clock: () => this.#clock.now() })
    this.#backoff = new Backoff(init.backoff, components.random)
    this.#queue = new RetryQueue({ capacity: init.retryQueueCapacity })
    this.#marks = resolveWatermarks(init.watermarks)
    this.#maxConcurrentRetries = init.maxConcurrentRetries ?? DEFAULT_MAX_CONCURRENT_RETRIES
    this.#dialTimeoutMs = init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS
    this.#goodbyeTimeoutMs = init.goodbyeTimeoutMs ?? DEFAULT_GOODBYE_TIMEOUT_MS
    this.#remoteGoodbyeCloseMs = init.remoteGoodbyeCloseMs ?? DEFAULT_REMOTE_GOODBYE_CLOSE_MS
  }

  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#stop = new AbortController()
    this.#c.libp2p.addEventListener('connection:open', this.#onConnectionOpen)
    this.#c.libp2p.addEventListener('connection:close', this.#onConnectionClose)
    this.#c.channel.addEventListener('message', this.#onMessage)
    await this.#c.linkMonitor?.start?.()
    // Adopt connections that opened before we started.
    for (const conn of this.#c.libp2p.getConnections()) this.#adopt(conn)
  }

  async stop(): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#stop.abort()
    this.#c.libp2p.removeEventListener('connection:open', this.#onConnectionOpen)
    this.#c.libp2p.removeEventListener('connection:close', this.#onConnectionClose)
    this.#c.channel.removeEventListener('message', this.#onMessage)
    if (this.#retryTimer != null) this.#clock.clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    this.#queue.clear()
    this.#metrics.retryQueueSize.set(0)
    const dials: Array<Promise<void>> = []
    for (const rec of this.#peers.values()) {
      rec.clearGoodbyeTimer(this.#clock)
      if (rec.dial != null) dials.push(rec.dial.promise.catch(() => {}))
    }
    await Promise.all(dials)
    await this.#c.linkMonitor?.stop?.()
  }

  /** Resolves once the peer is Connected; reuses an open libp2p connection when there is one. */
  async connect(peer: PeerId, options: ConnectOptions = {}): Promise<void> {
    this.#assertStarted()
    const rec = this.#ensure(peer)
    rec.keep = true
    if (options.priority != null) rec.priority = options.priority
    if (this.#queue.remove(rec.id)) this.#metrics.retryQueueSize.set(this.#queue.size)
    if (options.multiaddrs != null && options.multiaddrs.length > 0) {
      await this.#c.libp2p.peerStore.merge(peer, { multiaddrs: options.multiaddrs })
    }
    if (rec.state === DISCONNECTING) await this.#waitForState(rec, DISCONNECTED, options.signal)
    if (rec.state === CONNECTED) return
    if (rec.state === CONNECTING && rec.dial != null) return raceSignal(rec.dial.promise, options.signal)
    await this.#dial(rec, 'dial', options.signal)
  }

  /** Sends a signed CONTROL Goodbye with `reason`, then closes every connection to the peer. */
  async disconnect(peer: PeerId, reason: GoodbyeReason = GoodbyeReason.USER_REQUESTED, options: { signal?: AbortSignal; detail?: string } = {}): Promise<void> {
    this.#assertStarted()
    const rec = this.#peers.get(peer.toString())
    if (rec == null) return
    rec.keep = false
    if (this.#queue.remove(rec.id)) this.#metrics.retryQueueSize.set(this.#queue.size)
    switch (rec.state) {
      case CONNECTING:
        rec.dial?.controller.abort()
        await rec.dial?.promise.catch(() => {})
        return
      case DISCONNECTING:
        await this.#waitForState(rec, DISCONNECTED, options.signal)
        return
      case DISCONNECTED:
        this.#settle(rec, false)
        return
    }
    rec.goodbye = { direction: 'out', reason, detail: options.detail ?? '' }
    this.#transition(rec, DISCONNECTING, reason === GoodbyeReason.PRUNED ? 'pruned' : 'goodbye')
    this.#metrics.goodbyes.inc({ direction: 'out', reason: GoodbyeReason[reason] ?? 'UNKNOWN' })
    const { signal, clear } = combinedSignal([options.signal, this.#stop.signal], this.#goodbyeTimeoutMs)
    try {
      await this.sendControl(peer, { kind: { $case: 'goodbye', value: { reason, detail: options.detail ?? '' } } }, { signal })
      // Half-close flushes the goodbye to the transport before the connection goes.
      await this.#c.channel.closeStream(peer, { signal })
    } catch (err) {
      this.#log.debug({ peer: rec.id, err }, 'goodbye not delivered')
    } finally {
      clear()
    }
    await this.#c.libp2p.hangUp(peer).catch((err: unknown) => this.#log.debug({ peer: rec.id, err }, 'hangUp failed'))
    // Normally connection:close already moved it on; this covers a hangUp that emitted nothing.
    if ((rec.state as PeerState) === DISCONNECTING && this.#openConnection(peer) == null) {
      this.#transition(rec, DISCONNECTED, 'closed')
      this.#settle(rec, false)
    }
  }

  /** Signs `control` as a CONTROL message and sends it on the channel (also used by the link monitor). */
  async sendControl(peer: PeerId, control: Control, options: { signal?: AbortSignal } = {}): Promise<void> {
    const message = this.#c.signer.sign(
      CpcMessage.fromPartial({
        nonce: this.#nonces.next(),
        priority: Priority.HIGH,
        messageType: MessageType.CONTROL,
        payload: Control.encode(control).finish(),
        timestampMs: BigInt(this.#clock.now()),
        recipient: peer.toMultihash().bytes,
      }),
    )
    await this.#c.channel.send(peer, encodeFrame(message), options)
  }

  state(peer: PeerId | string): PeerState {
    return this.#peers.get(peer.toString())?.state ?? DISCONNECTED
  }

  info(peer: PeerId | string): PeerInfo {
    const rec = this.#peers.get(peer.toString())
    if (rec == null) return { state: DISCONNECTED, sinceMs: 0, dialAttempts: 0 }
    return { state: rec.state, sinceMs: rec.since, dialAttempts: rec.dialAttempts, link: this.#link(rec), goodbye: rec.goodbye }
  }

  /** Ids of every tracked peer (connected, connecting, or waiting for a retry). */
  peers(): string[] {
    return [...this.#peers.keys()]
  }

  connectedPeers(): PeerId[] {
    return [...this.#peers.values()].filter((r) => r.state === CONNECTED).map((r) => r.peerId)
  }

  summaries(): common.PeerSummary[] {
    return [...this.#peers.values()].map((rec) => {
      const conns = this.#c.libp2p.getConnections(rec.peerId).filter((c) => c.status === 'open')
      return {
        peerId: rec.id,
        state: rec.state,
        multiaddrs: conns.map((c) => c.remoteAddr.toString()),
        score: this.#c.scorer == null ? undefined : { ...EMPTY_SCORE, peerId: rec.id, composite: this.#score(rec.id) },
        link: this.#link(rec),
        protected: rec.isProtected,
        relayed: conns.length > 0 && conns.every((c) => c.limits != null),
        tags: [...rec.tags],
      }
    })
  }

  /** Keeps the peer: never pruned, retried after a loss. Tags name why (bootstrap, relay, ...). */
  protect(peer: PeerId, tag = 'protected'): void {
    const rec = this.#ensure(peer)
    rec.tags.add(tag)
    this.#updateProtectedGauge()
  }

  unprotect(peer: PeerId | string, tag?: string): void {
    const rec = this.#peers.get(peer.toString())
    if (rec == null) return
    if (tag == null) rec.tags.clear()
    else rec.tags.delete(tag)
    this.#updateProtectedGauge()
    if (rec.state === DISCONNECTED) this.#settle(rec, false)
  }

  /** HIGH traffic queued for the peer: protect it and retry it before others (called by the router). */
  markHighTraffic(peer: PeerId, high: boolean): void {
    const rec = high ? this.#ensure(peer) : this.#peers.get(peer.toString())
    if (rec == null) return
    if (high) rec.tags.add(HIGH_TRAFFIC_TAG)
    else rec.tags.delete(HIGH_TRAFFIC_TAG)
    this.#queue.update(rec.id, { highTraffic: rec.highTraffic })
    this.#updateProtectedGauge()
  }

  /** Disconnects (goodbye PRUNED) the lowest-scored unprotected peers if above the high watermark. */
  async prune(): Promise<string[]> {
    const connected = [...this.#peers.values()].filter((r) => r.state === CONNECTED)
    const victims = selectPruneVictims(
      connected.map((r) => ({ peerId: r.id, score: this.#score(r.id), protected: r.isProtected, connectedAt: r.connectedAt })),
      this.#marks,
    )
    if (victims.length === 0) return victims
    this.#log.info({ connected: connected.length, victims: victims.length }, 'pruning above high watermark')
    this.#metrics.pruned.inc(victims.length)
    await Promise.all(
      victims.map(async (id) => {
        const rec = this.#peers.get(id)
        if (rec != null) await this.disconnect(rec.peerId, GoodbyeReason.PRUNED).catch((err: unknown) => this.#log.warn({ peer: id, err }, 'prune failed'))
      }),
    )
    return victims
  }

  // --- transitions -------------------------------------------------------------------------

  #transition(rec: PeerRecord, to: PeerState, reason: TransitionReason): void {
    const change = rec.machine.transition(to, reason, this.#clock.now())
    this.#metrics.transitions.inc({ from: stateName(change.from), to: stateName(to), reason })
    this.#metrics.peers.dec({ state: stateName(change.from) })
    this.#metrics.peers.inc({ state: stateName(to) })
    if (to === CONNECTED) {
      rec.retryAttempt = 0
      rec.goodbye = undefined
      rec.connectedAt = change.at
      this.#c.scorer?.connected(rec.id)
      this.#c.linkMonitor?.addPeer(rec.peerId, { remoteHost: this.#remoteHost(rec.peerId) })
      this.#schedulePrune()
    } else if (change.from === CONNECTED) {
      this.#c.scorer?.disconnected(rec.id, { error: reason === 'error' })
      this.#c.linkMonitor?.removePeer(rec.peerId)
    }
    this.#log.debug({ peer: rec.id, from: stateName(change.from), to: stateName(to), reason }, 'peer state')
    this.safeDispatchEvent('peer:state', { detail: { ...change, goodbye: rec.goodbye } })
  }

  /** A Disconnected peer: schedule a retry if we keep it, forget it if nothing pins it. */
  #settle(rec: PeerRecord, retry: boolean): void {
    if (rec.state !== DISCONNECTED) return
    if (retry && this.#started && (rec.keep || rec.isProtected)) this.#scheduleRetry(rec)
    if (!rec.keep && !rec.isProtected && !this.#queue.has(rec.id) && rec.dial == null) {
      this.#peers.delete(rec.id)
      this.#metrics.peers.dec({ state: stateName(DISCONNECTED) })
      this.#c.channel.forget(rec.id)
    }
  }

  // --- dialling and retries ------------------------------------------------------------------

  async #dial(rec: PeerRecord, kind: 'dial' | 'retry', callerSignal?: AbortSignal): Promise<void> {
    this.#transition(rec, CONNECTING, kind)
    rec.dialAttempts++
    if (this.#openConnection(rec.peerId) != null) {
      // Pooling: libp2p already holds a connection to the peer (e.g. it dialled us).
      this.#transition(rec, CONNECTED, 'reused')
      this.#metrics.dials.inc({ kind, result: 'reused' })
      this.#c.scorer?.dialSucceeded(rec.id)
      return
    }
    const controller = new AbortController()
    const { signal, clear } = combinedSignal([callerSignal, controller.signal, this.#stop.signal], this.#dialTimeoutMs)
    const dial: DialRecord = { kind, startedAt: this.#clock.now(), controller, promise: Promise.resolve(), accounted: false }
    dial.promise = (async () => {
      try {
        await this.#c.libp2p.dial(rec.peerId, { signal })
        // Usually connection:open got here first and did this already.
        if (rec.state === CONNECTING) this.#transition(rec, CONNECTED, 'connected')
        this.#dialSucceeded(rec, dial)
      } catch (err) {
        const aborted = callerSignal?.aborted === true || controller.signal.aborted || this.#stop.signal.aborted
        const result = aborted ? 'aborted' : 'failure'
        this.#metrics.dials.inc({ kind, result })
        this.#metrics.dialDuration.observe({ result }, (this.#clock.now() - dial.startedAt) / 1000)
        if (!aborted) this.#c.scorer?.dialFailed(rec.id)
        if (callerSignal?.aborted === true) rec.keep = false
        rec.dial = undefined
        if (rec.state === CONNECTING) {
          this.#transition(rec, DISCONNECTED, aborted ? 'aborted' : 'dial-failed')
          this.#settle(rec, !aborted)
        }
        this.#log.debug({ peer: rec.id, kind, err }, 'dial failed')
        throw aborted ? new AbortedError('dial aborted') : new DialFailedError(rec.id, { cause: err })
      } finally {
        clear()
        if (rec.dial === dial) rec.dial = undefined
      }
    })()
    rec.dial = dial
    await dial.promise
  }

  /** Accounts a successful dial once, whether connection:open or dial() reported it first. */
  #dialSucceeded(rec: PeerRecord, dial: DialRecord): void {
    if (dial.accounted) return
    dial.accounted = true
    this.#metrics.dials.inc({ kind: dial.kind, result: 'success' })
    this.#metrics.dialDuration.observe({ result: 'success' }, (this.#clock.now() - dial.startedAt) / 1000)
    this.#c.scorer?.dialSucceeded(rec.id)
  }

  #scheduleRetry(rec: PeerRecord): void {
    const attempt = rec.retryAttempt
    const delay = this.#backoff.delay(attempt)
    if (delay == null) {
      this.#log.info({ peer: rec.id, attempts: attempt }, 'giving up retries')
      this.#metrics.retries.inc({ outcome: 'given_up' })
      rec.keep = false
      rec.retryAttempt = 0
      return
    }
    rec.retryAttempt = attempt + 1
    try {
      const evicted = this.#queue.push({ peerId: rec.id, dueAt: this.#clock.now() + delay, attempt, highTraffic: rec.highTraffic || rec.priority === Priority.HIGH, score: this.#score(rec.id) })
      if (evicted != null) {
        this.#metrics.retries.inc({ outcome: 'evicted' })
        const other = this.#peers.get(evicted.peerId)
        if (other != null) this.#settle(other, false)
      }
    } catch (err) {
      if (!(err instanceof RetryQueueFullError)) throw err
      this.#metrics.retries.inc({ outcome: 'dropped' })
      this.#log.warn({ peer: rec.id }, 'retry queue full, retry dropped')
      return
    }
    this.#metrics.retries.inc({ outcome: 'scheduled' })
    this.#metrics.backoffDelay.observe(delay / 1000)
    this.#metrics.retryQueueSize.set(this.#queue.size)
    this.#armRetryTimer()
  }

  #armRetryTimer(): void {
    if (this.#retryTimer != null) this.#clock.clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    const next = this.#queue.nextDueAt()
    // With every retry slot busy, the next finishing dial re-arms the timer.
    if (!this.#started || next == null || this.#retriesInFlight >= this.#maxConcurrentRetries) return
    this.#retryTimer = this.#clock.setTimeout(() => this.#runDueRetries(), Math.max(0, next - this.#clock.now()))
  }

  #runDueRetries(): void {
    this.#retryTimer = undefined
    this.#queue.rescore((id) => this.#score(id))
    const due = this.#queue.takeDue(this.#clock.now(), this.#maxConcurrentRetries - this.#retriesInFlight)
    this.#metrics.retryQueueSize.set(this.#queue.size)
    for (const entry of due) {
      const rec = this.#peers.get(entry.peerId)
      if (rec == null || rec.state !== DISCONNECTED) continue
      this.#retriesInFlight++
      this.#dial(rec, 'retry')
        .catch(() => {})
        .finally(() => {
          this.#retriesInFlight--
          this.#armRetryTimer()
        })
    }
    this.#armRetryTimer()
  }

  // --- libp2p and channel events ---------------------------------------------------------------

  #onConnectionOpen = (evt: CustomEvent<Connection>): void => this.#adopt(evt.detail)

  #adopt(conn: Connection): void {
    if (!this.#started || conn.status !== 'open') return
    const rec = this.#ensure(conn.remotePeer)
    if (rec.state === DISCONNECTED) {
      if (this.#queue.remove(rec.id)) this.#metrics.retryQueueSize.set(this.#queue.size)
      this.#transition(rec, CONNECTING, conn.direction === 'inbound' ? 'inbound' : 'dial')
      this.#transition(rec, CONNECTED, conn.direction === 'inbound' ? 'inbound' : 'connected')
    } else if (rec.state === CONNECTING) {
      this.#transition(rec, CONNECTED, 'connected')
      if (rec.dial != null) this.#dialSucceeded(rec, rec.dial)
    }
  }

  #onConnectionClose = (evt: CustomEvent<Connection>): void => {
    const rec = this.#peers.get(evt.detail.remotePeer.toString())
    if (rec == null || this.#openConnection(rec.peerId) != null) return
    if (rec.state === CONNECTED) {
      // No goodbye came first: the remote crashed or the network failed.
      this.#transition(rec, DISCONNECTED, 'error')
      this.#settle(rec, true)
    } else if (rec.state === DISCONNECTING) {
      rec.clearGoodbyeTimer(this.#clock)
      this.#transition(rec, DISCONNECTED, 'closed')
      this.#settle(rec, rec.goodbye?.direction === 'in')
    }
  }

  #onMessage = (evt: CustomEvent<ChannelMessageDetail>): void => {
    const { peer, message } = evt.detail
    if (message.messageType !== MessageType.CONTROL) return
    let control: Control
    try {
      this.#verifier.verify(message, peer.toMultihash().bytes)
      control = Control.decode(message.payload)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      this.#metrics.controlRejected.inc({ reason: typeof code === 'string' ? code : 'ERR_MALFORMED' })
      this.#log.warn({ peer: peer.toString(), err }, 'CONTROL message rejected')
      return
    }
    switch (control.kind?.$case) {
      case 'goodbye':
        this.#onGoodbye(peer, control.kind.value)
        break
      case 'ping':
      case 'pong':
        this.#c.linkMonitor?.handleControl(peer, control)
        break
      default:
        this.#log.debug({ peer: peer.toString(), kind: control.kind?.$case }, 'CONTROL message ignored')
    }
  }

  #onGoodbye(peer: PeerId, goodbye: Goodbye): void {
    this.#metrics.goodbyes.inc({ direction: 'in', reason: GoodbyeReason[goodbye.reason] ?? 'UNKNOWN' })
    const rec = this.#peers.get(peer.toString())
    if (rec == null || rec.state !== CONNECTED) return
    rec.goodbye = { direction: 'in', reason: goodbye.reason, detail: goodbye.detail }
    // The remote chose to leave: no retries unless we must keep it, and then only after a longer wait.
    rec.keep = false
    rec.retryAttempt = Math.max(rec.retryAttempt, RETRY_ATTEMPT_AFTER_GOODBYE)
    this.#transition(rec, DISCONNECTING, 'remote-goodbye')
    rec.goodbyeTimer = this.#clock.setTimeout(() => {
      rec.goodbyeTimer = undefined
      if (rec.state === DISCONNECTING) void this.#c.libp2p.hangUp(peer).catch(() => {})
    }, this.#remoteGoodbyeCloseMs)
  }

  // --- helpers -------------------------------------------------------------------------------

  #ensure(peer: PeerId): PeerRecord {
    const id = peer.toString()
    let rec = this.#peers.get(id)
    if (rec == null) {
      rec = new PeerRecord(peer, this.#clock.now())
      this.#peers.set(id, rec)
      this.#metrics.peers.inc({ state: stateName(DISCONNECTED) })
    }
    return rec
  }

  #openConnection(peer: PeerId): Connection | undefined {
    return this.#c.libp2p.getConnections(peer).find((c) => c.status === 'open')
  }

  #score(id: string): number {
    return this.#c.scorer?.composite(id) ?? 0
  }

  #link(rec: PeerRecord): common.LinkStats | undefined {
    if (rec.state !== CONNECTED) return undefined
    const s = this.#c.linkMonitor?.stats(rec.peerId)
    if (s == null) return undefined
    return { rttMsEwma: s.rttMsEwma, lossRatio: s.lossRatio, bytesInPerSec: s.bytesInPerSec, bytesOutPerSec: s.bytesOutPerSec, heartbeatIntervalMs: s.heartbeatIntervalMs }
  }

  /** The IP of a direct connection to the peer (none for relayed ones: no UDP path to probe). */
  #remoteHost(peer: PeerId): string | undefined {
    const conn = this.#c.libp2p.getConnections(peer).find((c) => c.status === 'open' && c.limits == null)
    const parts = conn?.remoteAddr.toString().split('/')
    return parts != null && (parts[1] === 'ip4' || parts[1] === 'ip6') ? parts[2] : undefined
  }

  #schedulePrune(): void {
    if (this.#pruneScheduled) return
    this.#pruneScheduled = true
    queueMicrotask(() => {
      this.#pruneScheduled = false
      if (this.#started) void this.prune()
    })
  }

  #updateProtectedGauge(): void {
    let n = 0
    for (const rec of this.#peers.values()) if (rec.isProtected) n++
    this.#metrics.protectedPeers.set(n)
  }

  async #waitForState(rec: PeerRecord, state: PeerState, signal?: AbortSignal): Promise<void> {
    if (rec.state === state) return
    const { signal: combined, clear } = combinedSignal([signal, this.#stop.signal], this.#dialTimeoutMs)
    try {
      await new Promise<void>((resolve, reject) => {
        const onState = (evt: CustomEvent<PeerStateEventDetail>): void => {
          if (evt.detail.peerId === rec.id && evt.detail.to === state) done()
        }
        const onAbort = (): void => done(new AbortedError())
        const done = (err?: Error): void => {
          this.removeEventListener('peer:state', onState)
          combined.removeEventListener('abort', onAbort)
          if (err == null) resolve()
          else reject(err)
        }
        this.addEventListener('peer:state', onState)
        combined.addEventListener('abort', onAbort)
      })
    } finally {
      clear()
    }
  }

  #assertStarted(): void {
    if (!this.#started) throw new NotStartedError('ConnectionManager')
  }
}

const EMPTY_SCORE: common.PeerScore = { peerId: '', uptime: 0, responsiveness: 0, stability: 0, penalty: 0, composite: 0, updatedAtMs: 0n }
