// Discovery: bootstrap, Kademlia DHT, mDNS and peer exchange behind one Startable service.
import { setMaxListeners } from 'node:events'
import { TypedEventEmitter } from '@libp2p/interface'
import type { PeerId, PeerInfo, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { connectBootstrap, parseBootstrapList, type BootstrapPeer } from './bootstrap.js'
import {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_GROUP_DIRECTORY_MAX_GROUPS,
  DEFAULT_GROUP_DIRECTORY_MAX_MEMBERS,
  DEFAULT_DISCOVER_LIMIT,
  DEFAULT_DISCOVER_TIMEOUT_MS,
  DEFAULT_GROUP_RECORD_TTL_MS,
  DEFAULT_MAX_DIAL_QUEUE,
  DEFAULT_MAX_KNOWN_PEERS,
  DEFAULT_MAX_PARALLEL_DIALS,
} from './constants.js'
import { findPeer, findProviders, randomWalk, timed } from './dht-queries.js'
import { Dialer } from './dialer.js'
import { DiscoveryNotStartedError, InvalidDiscoveryInputError, MissingComponentError } from './errors.js'
import { groupKey, validateGroupName } from './group-key.js'
import { GroupDirectory } from './group-directory.js'
import { GroupMemberships } from './groups.js'
import { KnownPeers } from './known-peers.js'
import { Announcer, type AnnounceInit, type AnnounceTrigger } from './peer-exchange/announcer.js'
import { PeerExchange, type PeerExchangeInit } from './peer-exchange/peer-exchange.js'
import { PeriodicExchange, type PeriodicExchangeInit } from './peer-exchange/periodic.js'
import { nodeTimers } from './timers.js'
import type { VerifiedPeer } from './peer-exchange/records.js'
import type {
  DiscoveredPeer,
  DiscoveryComponents,
  DiscoveryDht,
  DiscoveryEvents,
  DiscoverySourceName,
  DiscoveryTarget,
  DiscoveryTimers,
  Logger,
  PeerDiscoveredDetail,
} from './types.js'

export interface DiscoveryInit {
  /** Bootstrap multiaddrs, each with /p2p/<peer id>. */
  bootstrap?: readonly string[]
  /** Which sources' peers are dialled on discovery (default: bootstrap, mdns, exchange; not dht). */
  dialOn?: Partial<Record<DiscoverySourceName, boolean>>
  maxKnownPeers?: number
  /** Default time limit of discoverPeers (ms). */
  discoverTimeoutMs?: number
  dialTimeoutMs?: number
  maxParallelDials?: number
  maxDialQueue?: number
  /** Validity of group provider records; keep equal to discoveryServices' groupRecordTtlMs. */
  groupRecordTtlMs?: number
  /** Peer-exchange bounds, or false to disable it even with a channel and signer. */
  peerExchange?: PeerExchangeInit | false
  /** The periodic exchange while under-connected (default on, see DEFAULT_PERIODIC_EXCHANGE_*), or false. */
  periodicExchange?: PeriodicExchangeInit | false
  /** Announcing our record and groups to the best neighbours (default on, see DEFAULT_ANNOUNCE_*), or false. */
  announce?: AnnounceInit | false
}

export interface DiscoverOptions {
  signal?: AbortSignal
  /** Most peers returned (default DEFAULT_DISCOVER_LIMIT). */
  limit?: number
}

export interface ExchangeOptions extends DiscoverOptions {
  /** Ask only for peers the other side knows to be members of one of these groups. */
  groups?: string[]
}

const DEFAULT_DIAL_ON: Record<DiscoverySourceName, boolean> = { bootstrap: true, mdns: true, exchange: true, dht: false }
const noop = (): void => {}
const silent: Logger = { debug: noop, info: noop, warn: noop, error: noop }

type PeerListener = (evt: CustomEvent<PeerInfo>) => void
interface PeerEventSource {
  addEventListener(type: 'peer', listener: PeerListener): void
  removeEventListener(type: 'peer', listener: PeerListener): void
}

function asPeerEventSource(service: unknown): PeerEventSource | undefined {
  const s = service as Partial<PeerEventSource> | undefined
  return typeof s?.addEventListener === 'function' && typeof s.removeEventListener === 'function' ? (s as PeerEventSource) : undefined
}

export class Discovery extends TypedEventEmitter<DiscoveryEvents> implements Startable {
  private readonly clock: () => number
  private readonly log: Logger
  private readonly known: KnownPeers
  private readonly dialer: Dialer
  private readonly groupMemberships: GroupMemberships
  private readonly directory: GroupDirectory
  private readonly timers: DiscoveryTimers
  private periodic: PeriodicExchange | undefined
  private announcer: Announcer | undefined
  private announcedAddrs = ''
  private readonly bootstrapPeers: BootstrapPeer[]
  private readonly dialOn: Record<DiscoverySourceName, boolean>
  private readonly discoverTimeoutMs: number
  private readonly dialTimeoutMs: number
  private peerExchange: PeerExchange | undefined
  private controller: AbortController | undefined
  private bootstrapping: Promise<unknown> | undefined
  private readonly unsubscribe: Array<() => void> = []

  constructor(
    private readonly components: DiscoveryComponents,
    private readonly init: DiscoveryInit = {},
  ) {
    super()
    this.clock = components.clock ?? Date.now
    this.timers = components.timers ?? nodeTimers
    this.log = components.logger ?? silent
    this.known = new KnownPeers(init.maxKnownPeers ?? DEFAULT_MAX_KNOWN_PEERS)
    this.bootstrapPeers = parseBootstrapList(init.bootstrap ?? [])
    this.dialOn = { ...DEFAULT_DIAL_ON, ...init.dialOn }
    this.discoverTimeoutMs = init.discoverTimeoutMs ?? DEFAULT_DISCOVER_TIMEOUT_MS
    this.dialTimeoutMs = init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS
    this.dialer = new Dialer(
      { libp2p: components.libp2p, connectionManager: components.connectionManager, scorer: components.scorer, metrics: components.metrics, logger: this.log },
      { maxParallel: init.maxParallelDials ?? DEFAULT_MAX_PARALLEL_DIALS, maxQueue: init.maxDialQueue ?? DEFAULT_MAX_DIAL_QUEUE, timeoutMs: this.dialTimeoutMs },
    )
    this.groupMemberships = new GroupMemberships(
      { dht: () => this.requireDht(), metrics: components.metrics, logger: this.log },
      { recordTtlMs: init.groupRecordTtlMs ?? DEFAULT_GROUP_RECORD_TTL_MS, queryTimeoutMs: this.discoverTimeoutMs },
    )
    this.directory = new GroupDirectory(
      { maxGroups: DEFAULT_GROUP_DIRECTORY_MAX_GROUPS, maxMembersPerGroup: DEFAULT_GROUP_DIRECTORY_MAX_MEMBERS, ttlMs: init.groupRecordTtlMs ?? DEFAULT_GROUP_RECORD_TTL_MS },
      this.clock,
    )
  }

  readonly [Symbol.toStringTag] = '@cpc/discovery'

  isStarted(): boolean {
    return this.controller !== undefined
  }

  async start(): Promise<void> {
    if (this.controller !== undefined) return
    const controller = new AbortController()
    // One listener per in-flight dial or query hangs off this signal: that is expected, not a leak.
    setMaxListeners(Infinity, controller.signal)
    this.controller = controller
    this.dialer.start()
    this.groupMemberships.start()
    const { libp2p, channel, signer, metrics } = this.components
    this.listen(libp2p.services.dht, 'dht')
    this.listen(libp2p.services.mdns, 'mdns')
    if (channel !== undefined && signer !== undefined && this.init.peerExchange !== false) {
      this.peerExchange = new PeerExchange(
        {
          libp2p,
          channel,
          signer,
          verifier: this.components.verifier,
          nonces: this.components.nonces,
          scorer: this.components.scorer,
          metrics,
          clock: this.clock,
          logger: this.log,
          groups: this.directory,
          privateKey: this.components.privateKey,
          onPeers: (peers) => this.onExchangedPeers(peers),
          onError: (peer, error) => this.safeDispatchEvent('protocol:error', { detail: { peer, error } }),
        },
        this.init.peerExchange ?? {},
      )
      this.peerExchange.start()
      this.startPeriodicWork(this.peerExchange)
    }
    metrics?.bindCollectors(
      () => this.routingTableSize(),
      () => this.known.size,
    )
    this.bootstrapping = Promise.allSettled(
      this.bootstrapPeers.map(async (peer) => {
        this.observe(peer.peerId, peer.multiaddrs, 'bootstrap', false)
        const { connectionManager, scorer } = this.components
        const ok = await connectBootstrap(connectionManager === undefined ? { libp2p, scorer, logger: this.log } : { libp2p, connectionManager, logger: this.log }, peer, {
          signal: controller.signal,
          timeoutMs: this.dialTimeoutMs,
        })
        this.components.metrics?.dialsTotal.inc({ source: 'bootstrap', outcome: ok ? 'success' : 'failure' })
      }),
    )
  }

  async stop(): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    this.controller = undefined
    controller.abort()
    for (const off of this.unsubscribe.splice(0)) off()
    this.periodic?.stop()
    this.periodic = undefined
    this.announcer?.stop()
    this.announcer = undefined
    this.directory.clear()
    this.peerExchange?.stop()
    this.peerExchange = undefined
    this.dialer.stop()
    this.groupMemberships.stop()
    this.components.metrics?.bindCollectors(undefined, undefined)
    await this.bootstrapping
    this.bootstrapping = undefined
  }

  /** Resolves once every configured bootstrap peer was connected or given up on. */
  async bootstrapped(): Promise<void> {
    await this.bootstrapping
  }

  /**
   * Finds peers: `{ peerId }` resolves that peer's addresses through the DHT (empty if not found);
   * `'random'` walks towards a random key, filling the routing table; `{ group }` returns the
   * members announced under the group's provider key (never ourselves).
   */
  async discoverPeers(target: DiscoveryTarget, options: DiscoverOptions = {}): Promise<DiscoveredPeer[]> {
    const stop = this.requireStarted()
    const dht = this.requireDht()
    const limit = Math.max(1, options.limit ?? DEFAULT_DISCOVER_LIMIT)
    const signals = [stop, AbortSignal.timeout(this.discoverTimeoutMs)]
    if (options.signal !== undefined) signals.push(options.signal)
    const signal = AbortSignal.any(signals)
    const self = this.components.libp2p.peerId
    const { metrics } = this.components
    let found: PeerInfo[]
    if (target === 'random') {
      found = await timed(metrics, 'random_walk', () => randomWalk(dht, self, limit, signal), (v) => v.length === 0)
    } else if ('peerId' in target) {
      if (target.peerId.equals(self)) throw new InvalidDiscoveryInputError('Cannot discover ourselves')
      const info = await timed(
        metrics,
        'find_peer',
        () => findPeer(dht, target.peerId, signal).catch((err: Error) => (err.name === 'NotFoundError' ? undefined : Promise.reject(err))),
        (v) => v === undefined,
      )
      found = info === undefined ? [] : [info]
    } else if ('group' in target) {
      validateGroupName(target.group)
      const key = await groupKey(target.group)
      found = await timed(metrics, 'find_providers', () => findProviders(dht, key, self, limit, signal), (v) => v.length === 0)
      for (const p of found) this.directory.add(target.group, p.id)
    } else {
      throw new InvalidDiscoveryInputError('Unknown discovery target')
    }
    return found.map((p) => {
      this.observe(p.id, p.multiaddrs, 'dht', this.dialOn.dht)
      return this.known.get(p.id) ?? { peerId: p.id, multiaddrs: p.multiaddrs, source: 'dht', lastSeenMs: this.clock() }
    })
  }

  /**
   * Asks a connected peer for up to `limit` peers (peer exchange); they are dialled per dialOn.
   * With `groups`, only peers it knows to be members of one of them (possibly none).
   */
  async exchangePeers(peer: PeerId, options: ExchangeOptions = {}): Promise<DiscoveredPeer[]> {
    this.requireStarted()
    if (this.peerExchange === undefined) throw new MissingComponentError('Peer exchange needs the channel and signer components')
    const peers = await this.peerExchange.request(peer, { limit: options.limit, groups: options.groups, signal: options.signal })
    return peers.map((p) => this.known.get(p.peerId) ?? { peerId: p.peerId, multiaddrs: p.multiaddrs, source: 'exchange', lastSeenMs: this.clock() })
  }

  /** Announces membership of `name`; resolves with every group joined. */
  async joinGroup(name: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    this.requireStarted()
    const joined = await this.groupMemberships.join(name, options)
    this.announce('group')
    return joined
  }

  async leaveGroup(name: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    this.requireStarted()
    validateGroupName(name)
    const before = this.groupMemberships.list().length
    const groups = await this.groupMemberships.leave(name, options)
    if (groups.length !== before) this.announce('group')
    return groups
  }

  /** The periodic exchange, if running (its delay and tick() are for tests and diagnostics). */
  get periodicExchange(): PeriodicExchange | undefined {
    return this.periodic
  }

  /** The announcer, if running (tests and diagnostics). */
  get announcements(): Announcer | undefined {
    return this.announcer
  }

  groups(): string[] {
    return this.groupMemberships.list()
  }

  /** Peers discovery has learned (bounded, most recently seen first). */
  knownPeers(options: { source?: DiscoverySourceName; limit?: number } = {}): DiscoveredPeer[] {
    const all = this.known.list(options.source)
    return options.limit !== undefined && options.limit > 0 ? all.slice(0, options.limit) : all
  }

  /** Peers in the Kademlia routing table, if the DHT exposes it. */
  routingTableSize(): number | undefined {
    return (this.components.libp2p.services.dht as { routingTable?: { size: number } } | undefined)?.routingTable?.size
  }

  /** Resolves when no dial of a discovered peer is queued or running. */
  async dialsIdle(): Promise<void> {
    await this.dialer.idle()
  }

  private requireStarted(): AbortSignal {
    if (this.controller === undefined) throw new DiscoveryNotStartedError()
    return this.controller.signal
  }

  private requireDht(): DiscoveryDht {
    const dht = this.components.libp2p.services.dht
    if (dht === undefined) throw new MissingComponentError('The libp2p node has no dht service (see discoveryServices)')
    return dht
  }

  private listen(service: unknown, source: 'dht' | 'mdns'): void {
    const target = asPeerEventSource(service)
    if (target === undefined) return
    const listener: PeerListener = (evt) => this.observe(evt.detail.id, evt.detail.multiaddrs, source, this.dialOn[source])
    target.addEventListener('peer', listener)
    this.unsubscribe.push(() => target.removeEventListener('peer', listener))
  }

  private startPeriodicWork(pex: PeerExchange): void {
    const { libp2p } = this.components
    const common = {
      connectedPeers: () => libp2p.getPeers(),
      scoreOf: (peer: PeerId) => this.scoreOf(peer),
      clock: this.clock,
      timers: this.timers,
      metrics: this.components.metrics,
      logger: this.log,
    }
    const periodic = this.init.periodicExchange
    if (periodic !== false && periodic?.enabled !== false) {
      this.periodic = new PeriodicExchange({ ...common, exchange: async (peer, limit, signal) => this.exchangeNew(pex, peer, limit, signal) }, periodic ?? {})
      this.periodic.start()
    }
    const announce = this.init.announce
    if (announce !== false && announce?.enabled !== false) {
      this.announcer = new Announcer({ ...common, send: async (peer, signal) => pex.announce(peer, this.groups(), signal) }, announce ?? {})
      this.announcer.start()
      this.announcedAddrs = this.addressKey()
      const onSelfUpdate = (): void => {
        const key = this.addressKey()
        if (key === this.announcedAddrs) return
        this.announcedAddrs = key
        this.announce('address')
      }
      libp2p.addEventListener?.('self:peer:update', onSelfUpdate)
      this.unsubscribe.push(() => libp2p.removeEventListener?.('self:peer:update', onSelfUpdate))
    }
  }

  /** One exchange; resolves with how many of the returned peers were unknown before it. */
  private async exchangeNew(pex: PeerExchange, peer: PeerId, limit: number, signal: AbortSignal): Promise<number> {
    const before = new Set(this.known.list().map((p) => p.peerId.toString()))
    const peers = await pex.request(peer, { limit, signal })
    return peers.filter((p) => !before.has(p.peerId.toString())).length
  }

  private announce(trigger: AnnounceTrigger): void {
    this.announcer?.trigger(trigger).catch((err: unknown) => this.log.debug({ err, trigger }, 'announcement failed'))
  }

  private addressKey(): string {
    return this.components.libp2p
      .getMultiaddrs()
      .map(String)
      .sort()
      .join(' ')
  }

  private scoreOf(peer: PeerId): number {
    try {
      return this.components.scorer?.composite(peer.toString()) ?? 0.5
    } catch {
      return 0
    }
  }

  private onExchangedPeers(peers: VerifiedPeer[]): void {
    for (const p of peers) this.observe(p.peerId, p.multiaddrs, 'exchange', this.dialOn.exchange)
  }

  private observe(peerId: PeerId, multiaddrs: Multiaddr[], source: DiscoverySourceName, dial: boolean): void {
    if (this.controller === undefined || peerId.equals(this.components.libp2p.peerId)) return
    const isNew = this.known.observe(peerId, multiaddrs, source, this.clock())
    if (isNew) {
      this.components.metrics?.peersDiscoveredTotal.inc({ source })
      const detail: PeerDiscoveredDetail = { peerId, multiaddrs, source }
      this.safeDispatchEvent('peer:discovered', { detail })
    }
    if (!dial) return
    const signal = this.controller.signal
    // The peer store must hold the addresses before a dial by peer id.
    const stored = multiaddrs.length > 0 ? this.components.libp2p.peerStore.merge(peerId, { multiaddrs }, { signal }) : Promise.resolve()
    stored.then(
      () => this.dialer.enqueue(peerId, multiaddrs, source),
      (err: unknown) => this.log.debug({ peer: peerId.toString(), err }, 'could not store discovered addresses'),
    )
  }
}
