// ConnectionManager: one state machine per peer, driven by our dials and libp2p's connection
// events (libp2p-events.ts); retries (retry-scheduler.ts); signed CONTROL and goodbyes
// (control.ts); watermark pruning; protection mirrored into libp2p's peer store.
import { GoodbyeReason, MessageType, PeerState, type Control, type Goodbye, type common } from '@cpc/protocol'
import { TypedEventEmitter, type Connection, type PeerId } from '@libp2p/interface'
import { Registry } from 'prom-client'
import { systemClock, type Clock } from './clock.js'
import { DEFAULT_DIAL_TIMEOUT_MS, DEFAULT_GOODBYE_TIMEOUT_MS, DEFAULT_REMOTE_GOODBYE_CLOSE_MS, DEFAULT_STOP_GOODBYE_TIMEOUT_MS, HIGH_TRAFFIC_TAG } from './constants.js'
import { ControlPlane } from './control.js'
import { NotStartedError } from './errors.js'
import { Dialer } from './dialer.js'
import { Libp2pEventFollower } from './libp2p-events.js'
import { noopLogger, type Logger } from './logger.js'
import { createConnectionManagerMetrics, type ConnectionManagerMetrics } from './metrics.js'
import { PeerRecord } from './peer-record.js'
import { PeerStoreTagger } from './peer-store-tags.js'
import { resolveWatermarks, selectPruneVictims, type Watermarks } from './pruner.js'
import { RetryScheduler } from './retry-scheduler.js'
import { stateName, type TransitionReason } from './state-machine.js'
import { directRemoteHost, peerSummary, protoLinkStats } from './summaries.js'
import type { ConnectOptions, ConnectionManagerComponents, ConnectionManagerEvents, ConnectionManagerInit, PeerInfo, PeerStateEventDetail } from './types.js'
import { combinedSignal, raceSignal, waitForEvent } from './wait.js'

export type { ConnectOptions, ConnectionManagerComponents, ConnectionManagerEvents, ConnectionManagerInit, ManagerNode, PeerInfo, PeerStateEventDetail } from './types.js'

const { PEER_STATE_DISCONNECTED: DISCONNECTED, PEER_STATE_CONNECTING: CONNECTING, PEER_STATE_CONNECTED: CONNECTED, PEER_STATE_DISCONNECTING: DISCONNECTING } =
  PeerState

/** After a remote goodbye, a protected peer's retries start at this backoff attempt (a longer wait). */
const RETRY_ATTEMPT_AFTER_GOODBYE = 4

export class ConnectionManager extends TypedEventEmitter<ConnectionManagerEvents> {
  readonly #c: ConnectionManagerComponents
  readonly #clock: Clock
  readonly #log: Logger
  readonly #metrics: ConnectionManagerMetrics
  readonly #control: ControlPlane
  readonly #retries: RetryScheduler
  readonly #events: Libp2pEventFollower
  readonly #dialer: Dialer
  readonly #tags: PeerStoreTagger
  readonly #marks: Watermarks
  readonly #dialTimeoutMs: number
  readonly #goodbyeTimeoutMs: number
  readonly #remoteGoodbyeCloseMs: number
  readonly #stopGoodbyeTimeoutMs: number
  readonly #peers = new Map<string, PeerRecord>()
  #stop = new AbortController()
  #started = false
  #pruneScheduled = false

  constructor(components: ConnectionManagerComponents, init: ConnectionManagerInit = {}) {
    super()
    this.#c = components
    this.#clock = components.clock ?? systemClock
    this.#log = components.logger ?? noopLogger
    this.#metrics = components.metrics ?? createConnectionManagerMetrics(new Registry())
    this.#control = new ControlPlane(
      { ...components, clock: this.#clock, metrics: this.#metrics, logger: this.#log },
      { goodbye: (peer, goodbye) => this.#onGoodbye(peer, goodbye), link: (peer, control) => this.#c.linkMonitor?.handleControl(peer, control) },
    )
    this.#retries = new RetryScheduler(
      {
        peer: (id) => this.#peers.get(id),
        score: (id) => this.#score(id),
        dial: async (rec) => this.#dialer.dial(rec, 'retry'),
        evicted: (rec) => this.#settle(rec, false),
      },
      { clock: this.#clock, metrics: this.#metrics, logger: this.#log, random: components.random },
      init,
    )
    this.#events = new Libp2pEventFollower(components.libp2p, {
      isStarted: () => this.#started,
      clock: this.#clock,
      ensure: (peer) => this.#ensure(peer),
      peer: (id) => this.#peers.get(id),
      transition: (rec, to, reason) => this.#transition(rec, to, reason),
      settle: (rec, retry) => this.#settle(rec, retry),
      openConnection: (peer) => this.#openConnection(peer),
      cancelRetry: (id) => this.#retries.remove(id),
      dialSucceeded: (rec, dial) => this.#dialer.succeeded(rec, dial),
    })
    this.#dialer = new Dialer(
      {
        libp2p: components.libp2p,
        clock: this.#clock,
        metrics: this.#metrics,
        logger: this.#log,
        scorer: components.scorer,
        stopSignal: () => this.#stop.signal,
        transition: (rec, to, reason) => this.#transition(rec, to, reason),
        settle: (rec, retry) => this.#settle(rec, retry),
        openConnection: (peer) => this.#openConnection(peer),
      },
      init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
    )
    this.#tags = new PeerStoreTagger(components.libp2p.peerStore, this.#log)
    this.#marks = resolveWatermarks(init.watermarks)
    this.#dialTimeoutMs = init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS
    this.#goodbyeTimeoutMs = init.goodbyeTimeoutMs ?? DEFAULT_GOODBYE_TIMEOUT_MS
    this.#remoteGoodbyeCloseMs = init.remoteGoodbyeCloseMs ?? DEFAULT_REMOTE_GOODBYE_CLOSE_MS
    this.#stopGoodbyeTimeoutMs = init.stopGoodbyeTimeoutMs ?? DEFAULT_STOP_GOODBYE_TIMEOUT_MS
  }

  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#stop = new AbortController()
    this.#events.start()
    this.#c.channel.addMessageHandler(MessageType.CONTROL, this.#control.onMessage)
    this.#retries.start()
    await this.#c.linkMonitor?.start?.()
    this.#events.adoptExisting()
  }

  /**
   * Aborts dials in flight, says goodbye (SHUTDOWN) to every connected peer in parallel within
   * stopGoodbyeTimeoutMs in total, closes their connections, then releases every timer and listener.
   */
  async stop(): Promise<void> {
    if (!this.#started) return
    this.#retries.stop()
    const dials: Array<Promise<void>> = []
    for (const rec of this.#peers.values()) {
      if (rec.dial != null) {
        rec.dial.controller.abort()
        dials.push(rec.dial.promise.catch(() => {}))
      }
    }
    await Promise.all(dials)
    await this.#goodbyeAll()
    this.#started = false
    this.#stop.abort()
    this.#events.stop()
    this.#c.channel.removeMessageHandler(MessageType.CONTROL, this.#control.onMessage)
    this.#retries.stop()
    for (const rec of this.#peers.values()) rec.clearGoodbyeTimer(this.#clock)
    await this.#tags.settled()
    await this.#c.linkMonitor?.stop?.()
  }

  /** Resolves once the peer is Connected; reuses an open libp2p connection when there is one. */
  async connect(peer: PeerId, options: ConnectOptions = {}): Promise<void> {
    this.#assertStarted()
    const rec = this.#ensure(peer)
    const keptBefore = rec.keep || rec.isProtected
    rec.keep = true
    if (options.priority != null) rec.priority = options.priority
    this.#retries.remove(rec.id)
    if (options.multiaddrs != null && options.multiaddrs.length > 0) {
      await this.#c.libp2p.peerStore.merge(peer, { multiaddrs: options.multiaddrs })
    }
    if (rec.state === DISCONNECTING) await this.#waitForState(rec, DISCONNECTED, options.signal)
    if (rec.state === CONNECTED) return
    if (rec.state === CONNECTING && rec.dial != null) return raceSignal(rec.dial.promise, options.signal)
    await this.#dialer.dial(rec, 'dial', options.signal, { keepOnAbort: keptBefore })
  }

  /** Sends a signed CONTROL Goodbye with `reason`, then closes every connection to the peer. */
  async disconnect(peer: PeerId, reason: GoodbyeReason = GoodbyeReason.USER_REQUESTED, options: { signal?: AbortSignal; detail?: string } = {}): Promise<void> {
    this.#assertStarted()
    const rec = this.#peers.get(peer.toString())
    if (rec == null) return
    rec.keep = false
    this.#retries.remove(rec.id)
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
    // One bound for the goodbye and the hangUp: past it, libp2p aborts the connection.
    const { signal, clear } = combinedSignal([options.signal, this.#stop.signal], this.#goodbyeTimeoutMs, this.#clock)
    try {
      try {
        await this.sendControl(peer, { kind: { $case: 'goodbye', value: { reason, detail: options.detail ?? '' } } }, { signal })
        // Half-close flushes the goodbye to the transport before the connection goes.
        await this.#c.channel.closeStream(peer, { signal })
      } catch (err) {
        this.#log.debug({ peer: rec.id, err }, 'goodbye not delivered')
      }
      await this.#c.libp2p.hangUp(peer, { signal }).catch((err: unknown) => this.#log.debug({ peer: rec.id, err }, 'hangUp failed'))
    } finally {
      clear()
    }
    // Normally connection:close already moved it on; this covers a hangUp that emitted nothing.
    if ((rec.state as PeerState) === DISCONNECTING && this.#openConnection(peer) == null) {
      this.#transition(rec, DISCONNECTED, 'closed')
      this.#settle(rec, false)
    }
  }

  /** Signs `control` as a CONTROL message and sends it on the channel (also used by the link monitor). */
  async sendControl(peer: PeerId, control: Control, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#control.send(peer, control, options)
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
    return [...this.#peers.values()].map((rec) =>
      peerSummary(rec, this.#c.libp2p.getConnections(rec.peerId), this.#c.scorer == null ? undefined : this.#score(rec.id), this.#link(rec)),
    )
  }

  /**
   * Keeps the peer: never pruned, retried after a loss. Tags name why (bootstrap, relay, ...). The
   * peer is also tagged in libp2p's peer store (PEER_STORE_PROTECT_TAG) while any tag remains, so
   * libp2p's own pruner keeps it too.
   */
  protect(peer: PeerId, tag = 'protected'): void {
    const rec = this.#ensure(peer)
    rec.tags.add(tag)
    this.#protectionChanged(rec)
  }

  unprotect(peer: PeerId | string, tag?: string): void {
    const rec = this.#peers.get(peer.toString())
    if (rec == null) return
    if (tag == null) rec.tags.clear()
    else rec.tags.delete(tag)
    this.#protectionChanged(rec)
    if (rec.state === DISCONNECTED) this.#settle(rec, false)
  }

  /** HIGH traffic queued for the peer: protect it and retry it before others (called by the router). */
  markHighTraffic(peer: PeerId, high: boolean): void {
    const rec = high ? this.#ensure(peer) : this.#peers.get(peer.toString())
    if (rec == null) return
    if (high) rec.tags.add(HIGH_TRAFFIC_TAG)
    else rec.tags.delete(HIGH_TRAFFIC_TAG)
    this.#retries.setHighTraffic(rec.id, rec.highTraffic)
    this.#protectionChanged(rec)
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
      this.#c.linkMonitor?.addPeer(rec.peerId, { remoteHost: directRemoteHost(this.#c.libp2p.getConnections(rec.peerId)) })
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
    if (retry && this.#started && (rec.keep || rec.isProtected)) this.#retries.schedule(rec)
    if (!rec.keep && !rec.isProtected && !this.#retries.has(rec.id) && rec.dial == null) {
      this.#peers.delete(rec.id)
      this.#metrics.peers.dec({ state: stateName(DISCONNECTED) })
      this.#c.channel.forget(rec.id)
    }
  }

  // --- goodbyes ------------------------------------------------------------------------------

  /** A verified CONTROL Goodbye from the peer. */
  #onGoodbye(peer: PeerId, goodbye: Goodbye): void {
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
    return rec.state === CONNECTED ? protoLinkStats(this.#c.linkMonitor?.stats(rec.peerId)) : undefined
  }

  #schedulePrune(): void {
    if (this.#pruneScheduled) return
    this.#pruneScheduled = true
    queueMicrotask(() => {
      this.#pruneScheduled = false
      if (this.#started) void this.prune()
    })
  }

  #protectionChanged(rec: PeerRecord): void {
    this.#tags.set(rec.peerId, rec.isProtected)
    let n = 0
    for (const r of this.#peers.values()) if (r.isProtected) n++
    this.#metrics.protectedPeers.set(n)
  }

  async #waitForState(rec: PeerRecord, state: PeerState, signal?: AbortSignal): Promise<void> {
    if (rec.state === state) return
    const { signal: combined, clear } = combinedSignal([signal, this.#stop.signal], this.#dialTimeoutMs, this.#clock)
    try {
      await waitForEvent(this, 'peer:state', (d: PeerStateEventDetail) => d.peerId === rec.id && d.to === state, combined)
    } finally {
      clear()
    }
  }

  /** stop()'s goodbye to every connected peer: in parallel, all within stopGoodbyeTimeoutMs. */
  async #goodbyeAll(): Promise<void> {
    const connected = [...this.#peers.values()].filter((r) => r.state === CONNECTED)
    if (connected.length === 0) return
    const { signal, clear } = combinedSignal([], this.#stopGoodbyeTimeoutMs, this.#clock)
    try {
      await Promise.all(
        connected.map(async (rec) =>
          this.disconnect(rec.peerId, GoodbyeReason.SHUTDOWN, { signal }).catch((err: unknown) => this.#log.debug({ peer: rec.id, err }, 'shutdown goodbye failed')),
        ),
      )
    } finally {
      clear()
    }
  }

  #assertStarted(): void {
    if (!this.#started) throw new NotStartedError('ConnectionManager')
  }
}

