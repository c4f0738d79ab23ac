// Builds the parts of a NetworkHandler over one libp2p node: scorer, signer/verifier/nonces, channel,
// connection manager, discovery, outbox and router, each with its metrics on the given registry.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConnectionManager, CpcChannel, LinkMonitor, createConnectionManagerMetrics, createLinkMetrics, type LinkMonitorLike } from '@cpc/connection-manager'
import { Discovery, createDiscoveryMetrics } from '@cpc/discovery'
import type { Logger, Tracer } from '@cpc/observability'
import { MessageSigner, MessageType, MessageVerifier, NonceGenerator, Priority } from '@cpc/protocol'
import {
  DEFAULT_ROUTER_MAX_PAYLOAD_BYTES,
  DEFAULT_ROUTER_PEER_QUEUE_MAX_BYTES,
  Outbox,
  Router,
  createLibp2pRelays,
  createRouterMetrics,
  systemClock,
  type Clock,
  type RateLimitsInit,
  type RouterInit,
} from '@cpc/router'
import { InvalidScoringStateError, PeerScorer, createScoringMetrics, type ScoringInit } from '@cpc/scoring'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Registry } from 'prom-client'
import type { NetworkConfig } from './config.js'
import { OUTBOX_DIR } from './constants.js'
import type { BuiltNode } from './libp2p-node.js'

export interface NetworkHandlerComponents {
  /** Every cpc_* metric and libp2p's own go here (one registry per node). Omitted: no metrics. */
  registry?: Registry
  /** pino (or any logger of @cpc/observability's shape); each part gets a child with `component`. */
  logger?: Logger
  /** OpenTelemetry tracer for the router's spans (send, route decision, delivery). */
  tracer?: Tracer
  /** Wall clock and timers of the connection manager, router and scorer (default: the system's). */
  clock?: Clock
  /**
   * Link metrics (RTT, loss, heartbeat) driven by the connection manager. Default: a LinkMonitor built
   * from `config.link` (unless `link.enabled` is false); pass one to replace it.
   */
  linkMonitor?: LinkMonitorLike
}

export interface Parts {
  libp2p: Libp2p
  closeDatastore(): Promise<void>
  removeTemp(): Promise<void>
  clock: Clock
  log: Logger
  scorer: PeerScorer
  signer: MessageSigner
  verifier: MessageVerifier
  nonces: NonceGenerator
  channel: CpcChannel
  cm: ConnectionManager
  discovery: Discovery
  outbox: Outbox
  router: Router
  linkMonitor?: LinkMonitorLike
  /** The relays configured in relay.listenVia (protected, and tried by the router for relayed sends). */
  relayPeers: PeerId[]
}

export interface BuildInputs {
  built: BuiltNode
  privateKey: PrivateKey
  lastNonce?: bigint
  /** The scorer state saved by the last stop(), if any. */
  scores?: unknown
}

// A local no-op logger: importing @cpc/observability's value exports loads OpenTelemetry and pino.
const noop = (): void => {}
const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => noopLogger }

function child(logger: Logger, component: string): Logger {
  return typeof logger.child === 'function' ? logger.child({ component }) : logger
}

function makeScorer(config: NetworkConfig, clock: Clock, registry: Registry | undefined, saved: unknown, log: Logger): PeerScorer {
  const components = { clock: () => clock.now(), metrics: registry === undefined ? undefined : createScoringMetrics(registry) }
  const init: ScoringInit = config.scoring.retentionMs === undefined ? {} : { retentionMs: config.scoring.retentionMs }
  if (saved === undefined) return new PeerScorer(components, init)
  try {
    return PeerScorer.fromState(components, init, saved)
  } catch (err) {
    if (!(err instanceof InvalidScoringStateError)) throw err
    log.warn({ err }, 'saved scores are invalid; starting from neutral scores')
    return new PeerScorer(components, init)
  }
}

export function routerInit(config: NetworkConfig): RouterInit {
  const p = config.protocol
  const init: RouterInit = { defaultTtlMs: config.router.defaultTtlMs }
  // One dial bound for both: the router's send() waits this long for a dial before queueing.
  if (config.connections.dialTimeoutMs !== undefined) init.dialTimeoutMs = config.connections.dialTimeoutMs
  if (config.router.broadcastTtl !== undefined) init.broadcastTtl = config.router.broadcastTtl
  if (config.router.shedding !== undefined) init.shedding = config.router.shedding
  if (p.chunkBytes !== undefined) init.chunkBytes = p.chunkBytes
  if (p.compressionThresholdBytes !== undefined) init.compressionThresholdBytes = p.compressionThresholdBytes
  if (p.maxFrameBytes !== undefined) init.maxFrameBytes = p.maxFrameBytes
  if (p.maxDecompressedBytes !== undefined) init.maxDecompressedBytes = p.maxDecompressedBytes
  if (config.router.rateLimits !== undefined) init.rateLimits = rateLimits(config.router.rateLimits)
  const maxPayload = config.router.maxPayloadBytes
  if (maxPayload !== undefined) {
    init.maxPayloadBytes = maxPayload
    // A message is queued whole: its peer's queue must hold it plus the traffic around it.
    if (maxPayload + PEER_QUEUE_HEADROOM_BYTES > DEFAULT_ROUTER_PEER_QUEUE_MAX_BYTES) init.peerQueueMaxBytes = maxPayload + PEER_QUEUE_HEADROOM_BYTES
  }
  return init
}

/** Room left beside the largest payload in a peer's queue (the router's defaults: 48 MiB for 32 MiB). */
const PEER_QUEUE_HEADROOM_BYTES = DEFAULT_ROUTER_PEER_QUEUE_MAX_BYTES - DEFAULT_ROUTER_MAX_PAYLOAD_BYTES

type PriorityLimits = NonNullable<NonNullable<NetworkConfig['router']['rateLimits']>['event']>

/** config.router.rateLimits (names) → the router's RateLimitsInit (enum keys). */
function rateLimits(cfg: NonNullable<NetworkConfig['router']['rateLimits']>): RateLimitsInit {
  const byPriority = (p: PriorityLimits | undefined): Partial<Record<Priority.HIGH | Priority.MEDIUM | Priority.LOW, { ratePerSec: number; burst: number }>> => {
    const out: Partial<Record<Priority.HIGH | Priority.MEDIUM | Priority.LOW, { ratePerSec: number; burst: number }>> = {}
    if (p?.high !== undefined) out[Priority.HIGH] = p.high
    if (p?.medium !== undefined) out[Priority.MEDIUM] = p.medium
    if (p?.low !== undefined) out[Priority.LOW] = p.low
    return out
  }
  const out: RateLimitsInit = {}
  if (cfg.event !== undefined) out[MessageType.EVENT] = byPriority(cfg.event)
  if (cfg.discovery !== undefined) out[MessageType.DISCOVERY] = byPriority(cfg.discovery)
  if (cfg.control !== undefined) out[MessageType.CONTROL] = byPriority(cfg.control)
  return out
}

export async function buildComponents(config: NetworkConfig, components: NetworkHandlerComponents, inputs: BuildInputs): Promise<Parts> {
  const { libp2p } = inputs.built
  const registry = components.registry
  const clock = components.clock ?? systemClock
  const log = components.logger ?? noopLogger
  const scorer = makeScorer(config, clock, registry, inputs.scores, log)
  const signer = new MessageSigner(inputs.privateKey)
  const verifier = new MessageVerifier()
  const nonces = new NonceGenerator({ clock: () => clock.now() }, inputs.lastNonce === undefined ? {} : { lastNonce: inputs.lastNonce })
  const cmMetrics = registry === undefined ? undefined : createConnectionManagerMetrics(registry)
  const channel = new CpcChannel(
    { libp2p, logger: child(log, 'channel'), metrics: cmMetrics, clock },
    config.protocol.maxFrameBytes === undefined ? {} : { maxFrameBytes: config.protocol.maxFrameBytes },
  )
  const c = config.connections
  // The monitor sends its pings through the manager, which drives it: bound once the manager exists.
  const late: { cm?: ConnectionManager } = {}
  const linkMonitor = components.linkMonitor ?? buildLinkMonitor(config, registry, child(log, 'link'), scorer, () => late.cm)
  const cm = new ConnectionManager(
    { libp2p, channel, signer, verifier, nonces, scorer, linkMonitor, metrics: cmMetrics, clock, logger: child(log, 'connection-manager') },
    {
      watermarks: { low: c.low, high: c.high },
      ...(c.backoff !== undefined ? { backoff: c.backoff } : {}),
      ...(c.dialTimeoutMs !== undefined ? { dialTimeoutMs: c.dialTimeoutMs } : {}),
    },
  )
  late.cm = cm
  const discovery = new Discovery(
    {
      libp2p: libp2p as never,
      connectionManager: cm,
      channel,
      signer,
      verifier,
      nonces,
      scorer,
      metrics: registry === undefined ? undefined : createDiscoveryMetrics(registry),
      clock: () => clock.now(),
      // Signs our own peer record in announcements (joinGroup, address change).
      privateKey: inputs.privateKey,
      logger: child(log, 'discovery'),
    },
    { bootstrap: config.bootstrap },
  )
  // Without a data dir the outbox lives in a temp dir removed on stop (LevelDB has no memory mode).
  const temp = config.dataDir === undefined ? await mkdtemp(path.join(tmpdir(), 'cpc-outbox-')) : undefined
  const routerMetrics = registry === undefined ? undefined : createRouterMetrics(registry)
  const outbox = new Outbox(
    { clock, logger: child(log, 'outbox'), metrics: routerMetrics },
    { location: temp ?? path.join(config.dataDir!, OUTBOX_DIR), ...stripUndefined(config.router.outbox) },
  )
  const relayPeers = config.relay.listenVia.map(relayPeerId)
  const router = new Router(
    {
      peerId: libp2p.peerId,
      channel,
      connectionManager: cm,
      relays: createLibp2pRelays(libp2p, { relays: () => relayPeers }),
      groups: { members: async (group, options) => (await discovery.discoverPeers({ group }, options)).map((p) => p.peerId) },
      signer,
      verifier,
      nonces,
      outbox,
      scorer,
      metrics: routerMetrics,
      clock,
      logger: child(log, 'router'),
      tracer: components.tracer,
    },
    routerInit(config),
  )
  return {
    libp2p,
    closeDatastore: inputs.built.closeDatastore,
    removeTemp: async () => (temp === undefined ? undefined : rm(temp, { recursive: true, force: true })),
    clock,
    log,
    scorer,
    signer,
    verifier,
    nonces,
    channel,
    cm,
    discovery,
    outbox,
    router,
    linkMonitor,
    relayPeers,
  }
}

/** The relay's peer id from its multiaddr (config validation guarantees the /p2p/ part). */
function relayPeerId(addr: string): PeerId {
  const id = multiaddr(addr).getComponents().findLast((c) => c.name === 'p2p')?.value
  return peerIdFromString(id!)
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** The default link monitor: RTT, one-way loss from UDP probes on the host of the first IP listener, throughput. */
function buildLinkMonitor(
  config: NetworkConfig,
  registry: Registry | undefined,
  logger: Logger,
  scorer: PeerScorer,
  manager: () => ConnectionManager | undefined,
): LinkMonitor | undefined {
  if (!config.link.enabled) return undefined
  const host = probeHost(config.listen)
  return new LinkMonitor(
    {
      sendControl: async (peer, control, options) => {
        await manager()?.sendControl(peer, control, options)
      },
      ...(registry !== undefined ? { metrics: createLinkMetrics(registry) } : {}),
      scorer: {
        rtt: (peer, ms) => scorer.rtt(peer, ms),
        requestTimedOut: (peer) => scorer.requestTimedOut(peer),
        requestAnswered: (peer) => scorer.requestAnswered(peer),
      },
      ...(config.link.probes ? {} : { udpSocketFactory: null }),
      logger,
    },
    {
      ...(host !== undefined ? { probeHost: host } : {}),
      ...(config.link.probeIntervalMs !== undefined ? { probeIntervalMs: config.link.probeIntervalMs } : {}),
    },
  )
}

/** UDP probes bind to the host of the first IP TCP listener (so a loopback node stays on loopback). */
function probeHost(listen: readonly string[]): string | undefined {
  for (const addr of listen) {
    try {
      const ip = multiaddr(addr).getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')
      if (ip?.value !== undefined) return ip.value
    } catch {
      // Validated by the config schema already.
    }
  }
  return undefined
}
