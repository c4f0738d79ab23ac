// NetworkHandler: the public API of a cpc-net node. One libp2p node composed with the channel,
// connection manager, discovery, scoring and router; a typed event stream re-emitted from them with
// one detail shape (events.ts). Wiring of the parts is in components.ts; this file is the lifecycle
// and the API.
import { mkdir } from 'node:fs/promises'
import type { Discovery, DiscoveredPeer, DiscoverOptions } from '@cpc/discovery'
import { MessageType, Priority, type common } from '@cpc/protocol'
import type { PeerScoreSnapshot, PeerScorer } from '@cpc/scoring'
import type { ConnectionManager, LinkMonitorLike } from '@cpc/connection-manager'
import { RelayKeeper } from './relay-keeper.js'
import type { Router } from '@cpc/router'
import type { BroadcastResult, BroadcastScope, SendResult } from '@cpc/router'
import { TypedEventEmitter, type Libp2p, type PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { PeerState } from '@cpc/protocol'
import { buildComponents, type NetworkHandlerComponents, type Parts } from './components.js'
import { parseConfig, type NetworkConfig } from './config.js'
import { NETWORK_VERSION } from './constants.js'
import { InvalidArgumentError, NetworkError, NotStartedError } from './errors.js'
import { EventSubscription, type EventsOptions } from './event-stream.js'
import type { NetworkEvent, NetworkEventKind, NetworkEvents, PeerSource } from './events.js'
import { loadOrCreateIdentity } from './identity.js'
import { buildLibp2p } from './libp2p-node.js'
import { createNetworkMetrics } from './metrics.js'
import { PeerIdCache } from './peer-id-cache.js'
import { BoundedSet, toPeerId } from './peers.js'
import { reachability, relayReservations, type Reachability } from './status.js'
import { loadLastNonce, loadScores, saveLastNonce, saveScores } from './state-files.js'

export type { NetworkHandlerComponents } from './components.js'

/** What NetworkHandler.parts exposes. */
export interface NetworkParts {
  scorer: PeerScorer
  connectionManager: ConnectionManager
  discovery: Discovery
  router: Router
  /** The link monitor (RTT, loss, throughput, heartbeat); undefined when config.link.enabled is false. */
  linkMonitor?: LinkMonitorLike
}

export interface SendMessageOptions {
  /** How long the message may wait for its peer in the outbox (default config.router.defaultTtlMs). */
  ttlMs?: number
  signal?: AbortSignal
}

export interface BroadcastMessageOptions {
  signal?: AbortSignal
}

/** What discoverPeers looks for: a peer's addresses, a random walk, or a group's members. */
export type DiscoverTarget = { peerId: PeerId | string } | 'random' | { group: string }

export interface NetworkStatus {
  peerId: string
  multiaddrs: string[]
  version: string
  uptimeMs: number
  connectedPeers: number
  knownPeers: number
  reachability: Reachability
  relayReservations: number
  outboxDepth: number
  groups: string[]
}

export type PeerSummary = common.PeerSummary

const PRIORITIES = new Set<number>([Priority.LOW, Priority.MEDIUM, Priority.HIGH])
/** Peers remembered as already reported by 'peer:discovered'. */
const MAX_REPORTED_PEERS = 10_000

export class NetworkHandler extends TypedEventEmitter<NetworkEvents> {
  readonly config: NetworkConfig
  readonly #p: Parts
  readonly #reported = new BoundedSet(MAX_REPORTED_PEERS)
  /** Peer id strings given to the API, parsed once (peer-id-cache.ts). */
  readonly #peerIds: PeerIdCache
  readonly #subscribers = new Set<(event: NetworkEvent) => void>()
  readonly #closeListeners = new Set<() => void>()
  readonly #unlisten: Array<() => void> = []
  #state: 'created' | 'starting' | 'started' | 'stopping' | 'stopped' = 'created'
  #stopping: Promise<void> | undefined
  #startedAtMs = 0
  #maintenance: ReturnType<typeof setInterval> | undefined
  #relayKeeper: RelayKeeper | undefined
  #joining: Promise<unknown> | undefined

  /**
   * Validates `config` (ConfigError naming the field otherwise), loads or creates the identity and the
   * saved state in the data dir, and builds every part. Nothing listens or dials until start().
   */
  static async create(config: unknown, components: NetworkHandlerComponents = {}): Promise<NetworkHandler> {
    const cfg = parseConfig(config)
    if (cfg.dataDir !== undefined) await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 })
    const { privateKey } = await loadOrCreateIdentity(cfg.dataDir)
    const lastNonce = cfg.dataDir === undefined ? undefined : await loadLastNonce(cfg.dataDir)
    const scores = cfg.dataDir === undefined ? undefined : await loadScores(cfg.dataDir)
    const built = await buildLibp2p(cfg, { privateKey, registry: components.registry })
    try {
      const parts = await buildComponents(cfg, components, { built, privateKey, lastNonce, scores })
      const peerIds = new PeerIdCache(undefined, components.registry === undefined ? undefined : createNetworkMetrics(components.registry))
      return new NetworkHandler(cfg, parts, peerIds)
    } catch (err) {
      await Promise.resolve(built.libp2p.stop()).catch(() => {})
      await built.closeDatastore().catch(() => {})
      throw err
    }
  }

  private constructor(config: NetworkConfig, parts: Parts, peerIds: PeerIdCache) {
    super()
    this.config = config
    this.#p = parts
    this.#peerIds = peerIds
    this.#listen()
  }

  get peerId(): PeerId {
    return this.#p.libp2p.peerId
  }

  /** The addresses the node is reachable on (listen, announce, relay circuits), each with /p2p/<id>. */
  get multiaddrs(): Multiaddr[] {
    return this.#p.libp2p.getMultiaddrs()
  }

  /** The underlying libp2p node (for apps that mount more protocols; do not stop it directly). */
  get libp2p(): Libp2p {
    return this.#p.libp2p
  }

  get discovery(): Discovery {
    return this.#p.discovery
  }

  /**
   * The composed components, for mounting their gRPC services beside NodeService (apps/*). Use them
   * read-only: the handler owns their lifecycle.
   */
  get parts(): NetworkParts {
    const p = this.#p
    return { scorer: p.scorer, connectionManager: p.cm, discovery: p.discovery, router: p.router, linkMonitor: p.linkMonitor }
  }

  get started(): boolean {
    return this.#state === 'started'
  }

  async start(): Promise<void> {
    if (this.#state === 'started' || this.#state === 'starting') return
    if (this.#state !== 'created') throw new NetworkError('ERR_STOPPED', 'a stopped NetworkHandler cannot be restarted: create a new one from the same data dir')
    this.#state = 'starting'
    const p = this.#p
    try {
      await p.outbox.open()
      await p.libp2p.start()
      await p.channel.start()
      await p.cm.start()
      for (const relay of p.relayPeers) p.cm.protect(relay, 'relay')
      await p.router.start()
      await p.discovery.start()
      this.#relayKeeper = this.#keepRelays()
    } catch (err) {
      this.#state = 'started'
      await this.stop().catch((e: unknown) => p.log.warn({ err: e }, 'cleanup after failed start'))
      throw err
    }
    this.#startedAtMs = p.clock.now()
    this.#maintenance = setInterval(() => this.#maintain(), this.config.scoring.maintenanceIntervalMs)
    this.#maintenance.unref()
    if (this.config.groups.length > 0) {
      this.#joining = Promise.all(
        this.config.groups.map(async (g) => p.discovery.joinGroup(g).catch((err: unknown) => p.log.warn({ group: g, err }, 'joining group failed'))),
      )
    }
    this.#state = 'started'
    p.log.info({ peer: this.peerId.toString(), addrs: this.multiaddrs.map(String) }, 'network started')
  }

  /**
   * Stops everything and leaves no timer, socket or stream: the router (queued messages go to the
   * outbox), discovery, the connection manager (goodbye to every connected peer), the channel, libp2p;
   * then saves the scores and the last nonce and closes the outbox and the datastore. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#state === 'created') {
      this.#state = 'stopped'
      await this.#release()
      return
    }
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping'
    const p = this.#p
    if (this.#maintenance !== undefined) clearInterval(this.#maintenance)
    this.#relayKeeper?.stop()
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn()
      } catch (err) {
        p.log.warn({ err, step: name }, 'stop step failed')
      }
    }
    await step('router', async () => p.router.stop())
    await step('discovery', async () => p.discovery.stop())
    await step('groups', async () => this.#joining)
    await step('connection-manager', async () => p.cm.stop())
    await step('channel', async () => p.channel.stop())
    await step('libp2p', async () => p.libp2p.stop())
    await this.#release()
    this.#state = 'stopped'
    for (const fn of [...this.#closeListeners]) fn()
    p.log.info({}, 'network stopped')
  }

  /** Re-reserves the configured relays whenever a reservation is lost (js-libp2p #3601). */
  #keepRelays(): RelayKeeper | undefined {
    const p = this.#p
    if (this.config.relay.listenVia.length === 0) return undefined
    // The transport manager is not on the public Libp2p interface; the node createLibp2p returns has it.
    const tm = (p.libp2p as unknown as { components?: { transportManager?: { listen(addrs: Multiaddr[]): Promise<void> } } }).components?.transportManager
    if (tm === undefined) {
      p.log.warn({}, 'no transport manager: lost relay reservations will not be renewed')
      return undefined
    }
    const keeper = new RelayKeeper(
      {
        addresses: () => p.libp2p.getMultiaddrs(),
        listen: async (addr) => tm.listen([addr]),
        onAddressChange: (fn) => {
          p.libp2p.addEventListener('self:peer:update', fn)
          return () => p.libp2p.removeEventListener('self:peer:update', fn)
        },
        logger: p.log,
      },
      { relays: this.config.relay.listenVia },
    )
    keeper.start()
    return keeper
  }

  /** Persists state and closes the stores (also for a handler that was created but never started). */
  async #release(): Promise<void> {
    const p = this.#p
    for (const fn of this.#unlisten.splice(0)) fn()
    const dataDir = this.config.dataDir
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn()
      } catch (err) {
        p.log.warn({ err, step: name }, 'release step failed')
      }
    }
    if (dataDir !== undefined) {
      await step('nonce', async () => saveLastNonce(dataDir, p.nonces.lastNonce))
      await step('scores', async () => saveScores(dataDir, p.scorer.exportState()))
    }
    await step('outbox', async () => p.outbox.close())
    await step('datastore', async () => p.closeDatastore())
    await step('temp', async () => p.removeTemp())
  }

  /** Queues one signed EVENT for `peer`: sent directly, via a relay, or kept in the outbox until ttl. */
  async sendMessage(peer: PeerId | string, message: Uint8Array, priority: Priority, options: SendMessageOptions = {}): Promise<SendResult> {
    this.#requireStarted()
    const peerId = this.#peerIds.get(peer)
    checkPriority(priority)
    if (!(message instanceof Uint8Array)) throw new InvalidArgumentError('message must be a Uint8Array')
    if (peerId.equals(this.peerId)) throw new InvalidArgumentError('cannot send a message to ourselves')
    return this.#p.router.send(peerId, message, {
      priority,
      type: MessageType.EVENT,
      ttlMs: options.ttlMs ?? this.config.router.defaultTtlMs,
      signal: options.signal,
    })
  }

  /** Sends one signed EVENT to a scope: every reachable node, the neighbors, or a group. */
  async broadcast(message: Uint8Array, priority: Priority, scope: BroadcastScope, options: BroadcastMessageOptions = {}): Promise<BroadcastResult> {
    this.#requireStarted()
    checkPriority(priority)
    if (!(message instanceof Uint8Array)) throw new InvalidArgumentError('message must be a Uint8Array')
    const resolved: BroadcastScope = scope.kind === 'all' && scope.ttl === undefined && this.config.router.broadcastTtl !== undefined ? { kind: 'all', ttl: this.config.router.broadcastTtl } : scope
    return this.#p.router.broadcast(message, { priority, scope: resolved, signal: options.signal })
  }

  /** Finds a peer's addresses, random-walks the DHT, or finds a group's members. */
  async discoverPeers(target: DiscoverTarget, options: DiscoverOptions = {}): Promise<DiscoveredPeer[]> {
    this.#requireStarted()
    if (target === 'random') return this.#p.discovery.discoverPeers('random', options)
    if (typeof target === 'object' && target !== null && 'peerId' in target) return this.#p.discovery.discoverPeers({ peerId: toPeerId(target.peerId) }, options)
    if (typeof target === 'object' && target !== null && 'group' in target) return this.#p.discovery.discoverPeers({ group: target.group }, options)
    throw new InvalidArgumentError("target must be { peerId }, 'random' or { group }")
  }

  /** The connection manager's state of `peer` (Disconnected when it knows nothing of it). */
  connectionState(peer: PeerId | string): PeerState {
    return this.#p.cm.state(this.#peerIds.get(peer))
  }

  /** Since when `peer` has been in its state (ms on the node's clock; 0 when unknown). */
  connectionInfo(peer: PeerId | string): { state: PeerState; sinceMs: number } {
    const info = this.#p.cm.info(this.#peerIds.get(peer))
    return { state: info.state, sinceMs: info.sinceMs }
  }

  /** Every peer the node knows: those the connection manager tracks, then the rest discovery knows. */
  peers(): PeerSummary[] {
    const out = this.#p.cm.summaries()
    const seen = new Set(out.map((s) => s.peerId))
    for (const known of this.#p.discovery.knownPeers()) {
      const id = known.peerId.toString()
      if (seen.has(id)) continue
      seen.add(id)
      out.push({
        peerId: id,
        state: PeerState.PEER_STATE_DISCONNECTED,
        multiaddrs: known.multiaddrs.map(String),
        score: undefined,
        link: undefined,
        protected: false,
        relayed: false,
        tags: [`source:${known.source}`],
      })
    }
    return out
  }

  /** The peer's score (neutral with `known: false` for a peer the scorer does not track). */
  score(peer: PeerId | string): PeerScoreSnapshot {
    return this.#p.scorer.score(toPeerId(peer).toString())
  }

  /** Announces membership of `group` (DHT provider record, re-announced); returns the groups joined. */
  async joinGroup(group: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    this.#requireStarted()
    return this.#p.discovery.joinGroup(group, options)
  }

  async leaveGroup(group: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    this.#requireStarted()
    return this.#p.discovery.leaveGroup(group, options)
  }

  groups(): string[] {
    return this.#p.discovery.groups()
  }

  status(): NetworkStatus {
    const p = this.#p
    const addrs = p.libp2p.getMultiaddrs()
    const known = new Set([...p.cm.peers(), ...p.discovery.knownPeers().map((k) => k.peerId.toString())])
    return {
      peerId: this.peerId.toString(),
      multiaddrs: addrs.map(String),
      version: NETWORK_VERSION,
      uptimeMs: this.#state === 'started' ? Math.max(0, p.clock.now() - this.#startedAtMs) : 0,
      connectedPeers: p.cm.connectedPeers().length,
      knownPeers: known.size,
      reachability: reachability(addrs, this.config.nat.announce),
      relayReservations: relayReservations(addrs),
      outboxDepth: this.#state === 'started' ? p.router.queueDepth().outbox : 0,
      groups: p.discovery.groups(),
    }
  }

  /**
   * The event stream as an async iterator (for the gRPC Subscribe stream). Ends when `signal` aborts
   * or the node stops; a consumer more than `bufferSize` events behind loses the oldest (`dropped`).
   */
  events(options: EventsOptions = {}): EventSubscription {
    return new EventSubscription(
      {
        subscribe: (listener) => {
          this.#subscribers.add(listener)
          return () => this.#subscribers.delete(listener)
        },
        onClose: (listener) => {
          if (this.#state === 'stopped') queueMicrotask(listener)
          this.#closeListeners.add(listener)
          return () => this.#closeListeners.delete(listener)
        },
      },
      options,
    )
  }

  #emit<K extends NetworkEventKind>(kind: K, detail: NetworkEvents[K]['detail']): void {
    this.safeDispatchEvent(kind, { detail } as never)
    const event = { kind, detail } as NetworkEvent
    for (const s of this.#subscribers) s(event)
  }

  #discovered(peerId: string, multiaddrs: string[], source: PeerSource): void {
    this.#reported.add(peerId)
    this.#emit('peer:discovered', { peerId, multiaddrs, source, atMs: this.#p.clock.now() })
  }

  #listen(): void {
    const p = this.#p
    const on = <T>(target: EventTarget, type: string, fn: (detail: T) => void): void => {
      const listener = (evt: Event): void => fn((evt as CustomEvent<T>).detail)
      target.addEventListener(type, listener)
      this.#unlisten.push(() => target.removeEventListener(type, listener))
    }
    on<{ peerId: string; from: PeerState; to: PeerState; reason: string; at: number }>(p.cm, 'peer:state', (d) => {
      // A peer that reached us before any discovery source named it is discovered by its connection.
      if (d.reason === 'inbound' && !this.#reported.has(d.peerId)) {
        const addrs = p.libp2p.getConnections(toPeerId(d.peerId)).map((c) => c.remoteAddr.toString())
        this.#discovered(d.peerId, addrs, 'connection')
      }
      this.#emit('peer:state', { peerId: d.peerId, from: d.from, to: d.to, reason: d.reason, atMs: d.at })
    })
    on<{ peerId: PeerId; multiaddrs: Multiaddr[]; source: PeerSource }>(p.discovery, 'peer:discovered', (d) =>
      this.#discovered(d.peerId.toString(), d.multiaddrs.map(String), d.source),
    )
    on<{ peerId: string; score: PeerScoreSnapshot }>(p.scorer, 'score:changed', (d) => this.#emit('score:changed', { peerId: d.peerId, score: d.score, atMs: p.clock.now() }))
    on<{ from: string; origin: string; nonce: bigint; priority: Priority; type: MessageType; payload: Uint8Array; group: string; timestampMs: number; latencyMs: number; route: number }>(
      p.router,
      'message',
      (d) =>
        this.#emit('message', {
          peerId: d.from,
          origin: d.origin,
          nonce: d.nonce,
          priority: d.priority,
          type: d.type,
          payload: d.payload,
          group: d.group,
          timestampMs: d.timestampMs,
          latencyMs: d.latencyMs,
          route: d.route,
          atMs: p.clock.now(),
        }),
    )
    on<{ peer: string; nonce: bigint; reason: string }>(p.router, 'message:expired', (d) =>
      this.#emit('message:expired', { peerId: d.peer, nonce: d.nonce, reason: d.reason, atMs: p.clock.now() }),
    )
  }

  #maintain(): void {
    try {
      this.#p.scorer.gc()
    } catch (err) {
      this.#p.log.warn({ err }, 'score gc failed')
    }
  }

  #requireStarted(): void {
    if (this.#state !== 'started') throw new NotStartedError()
  }
}

function checkPriority(priority: Priority): void {
  if (!PRIORITIES.has(priority)) throw new InvalidArgumentError(`unknown priority ${String(priority)}: expected LOW (0), MEDIUM (1) or HIGH (2)`)
}
