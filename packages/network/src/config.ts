// NetworkConfig: the validated configuration of one node. `parseConfig` turns any input into a fully
// defaulted config or throws ConfigError naming every bad field by its dotted path
// (`config.listen[0]: not a multiaddr`). The rules use config-rules.ts, not zod: see there why.
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  DEFAULT_INBOUND_CONNECTION_THRESHOLD,
  DEFAULT_LISTEN,
  DEFAULT_MAINTENANCE_INTERVAL_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS,
  DEFAULT_MAX_STREAM_WINDOW_BYTES,
  DEFAULT_MESSAGE_TTL_MS,
  DEFAULT_RELAY_MAX_BYTES_PER_CONNECTION,
  DEFAULT_RELAY_MAX_DURATION_MS,
  DEFAULT_RELAY_MAX_RESERVATIONS,
  DEFAULT_RELAY_RESERVATION_TTL_MS,
  DEFAULT_WATERMARK_HIGH,
  DEFAULT_WATERMARK_LOW,
  MIN_STREAM_WINDOW_BYTES,
} from './constants.js'
import { BAD, array, boolean, issue, number, object, oneOf, optional, string, withDefault, type Ctx, type Issue, type Rule } from './config-rules.js'
import { ConfigError, type ConfigIssue } from './errors.js'

export type NodeRole = 'node' | 'bootstrap' | 'relay'

/** One inbound rate limit: sustained messages per second, and the burst a rested peer may send. */
export interface RateLimitConfig {
  ratePerSec: number
  burst: number
}

export interface PriorityLimitsConfig {
  high?: RateLimitConfig
  medium?: RateLimitConfig
  low?: RateLimitConfig
}

export interface SheddingThresholdsConfig {
  lowEnter?: number
  lowExit?: number
  mediumEnter?: number
  mediumExit?: number
}

/** The validated config with every default filled in. */
export interface NetworkConfig {
  /**
   * Directory holding the identity, peer store, outbox, scores and nonce state. Omitted: everything
   * is in memory and a new identity is generated on every create (tests, throwaway nodes).
   */
  dataDir?: string
  listen: string[]
  announce: string[]
  bootstrap: string[]
  role: NodeRole
  /** DHT mode; default 'server' for the bootstrap and relay roles, 'auto' for a node. */
  dhtMode: 'server' | 'client' | 'auto'
  /** 'private' keeps loopback/LAN addresses in the DHT (devnets, LANs); 'public' strips them. */
  addressScope: 'private' | 'public'
  mdns: boolean
  relay: {
    /** Relays to reserve a slot on (listen via `/p2p-circuit`), each with /p2p/<relay id>. */
    listenVia: string[]
    /** Limits of the relay server (role 'relay' only). */
    server: { maxReservations: number; maxBytesPerConnection: number; maxDurationMs: number; reservationTtlMs: number }
  }
  connections: {
    /** Our ConnectionManager prunes down to `low` once above `high`. */
    low: number
    high: number
    /** libp2p's hard cap on open connections. */
    maxConnections: number
    inboundConnectionThreshold: number
    /** libp2p: inbound connections handshaking at once; more are reset. */
    maxIncomingPendingConnections: number
    /** yamux: cap on one stream's receive window, i.e. on the bytes in flight per stream. */
    maxStreamWindowBytes: number
    dialTimeoutMs?: number
    backoff?: { baseMs?: number; capMs?: number; maxAttempts?: number }
  }
  router: {
    /**
     * Per-peer inbound rate limits by message type and priority, over the router's defaults (EVENT
     * HIGH 20/s, MEDIUM 100/s, LOW 200/s; see @cpc/router rate-limiter.ts). Raise them for bulk links.
     */
    rateLimits?: { event?: PriorityLimitsConfig; discovery?: PriorityLimitsConfig; control?: PriorityLimitsConfig }
    /** Largest payload sendMessage/broadcastMessage accept (router default 32 MiB). Above 32 MiB the per-peer queue grows to hold it. */
    maxPayloadBytes?: number
    /** How long a message may wait in the outbox when sendMessage gives no ttlMs. */
    defaultTtlMs: number
    /** Hops of a broadcast with scope 'all' when the caller gives none. */
    broadcastTtl?: number
    /** Load shedding of LOW/MEDIUM sends: event-loop delay (ms) and queue fill (0..1) thresholds. */
    shedding?: { delayMs?: SheddingThresholdsConfig; fill?: SheddingThresholdsConfig }
    outbox: { maxEntriesPerPeer?: number; maxBytesPerPeer?: number; maxEntries?: number; maxBytes?: number }
  }
  protocol: { maxFrameBytes?: number; chunkBytes?: number; compressionThresholdBytes?: number; maxDecompressedBytes?: number }
  groups: string[]
  /**
   * Link metrics (RTT from CONTROL ping/pong, one-way loss from authenticated UDP probes, throughput,
   * adaptive heartbeat; see @cpc/connection-manager src/link/README.md). On by default.
   */
  link: {
    enabled: boolean
    /** Milliseconds between UDP loss probes per peer (default 100: 10/s). Raise it on phones. */
    probeIntervalMs?: number
    /** false: RTT and throughput only, no UDP probe socket. */
    probes: boolean
  }
  /**
   * TCP hole punching (lab/README.md "NAT traversal"). Off unless punchPort is set: DCUtR's hole-punch
   * dials and dials to the `relay.listenVia` relays then leave from this local port, so the NAT mapping
   * the relay observes is the one a peer's punch hits. Never listened on (Node 20 cannot share it).
   */
  nat: {
    /** Local TCP port of hole-punch and relay dials; 0: off (every dial from an ephemeral port). */
    punchPort: number
    /** Multiaddrs appended to the announced ones: the NAT mapping of the punch port (`/ip4/<WAN>/tcp/<port>`). */
    announce: string[]
  }
  scoring: {
    /** How long a disconnected peer's score is kept. */
    retentionMs?: number
    /** How often stale scores are forgotten and expired outbox entries reported. */
    maintenanceIntervalMs: number
  }
}

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T

/** What callers write (every field but none required). */
export type NetworkConfigInput = DeepPartial<NetworkConfig>

function parseMultiaddr(value: string): Multiaddr | undefined {
  try {
    return multiaddr(value)
  } catch {
    return undefined
  }
}

const multiaddrString = string([[(v) => parseMultiaddr(v) !== undefined, 'not a multiaddr']])

/** A multiaddr that names its peer (`.../p2p/12D3KooW...`): bootstrap peers and relays. */
const peerMultiaddrString = string([
  [(v) => parseMultiaddr(v) !== undefined, 'not a multiaddr'],
  [(v) => parseMultiaddr(v)!.getComponents().some((c) => c.name === 'p2p'), 'must end with /p2p/<peer id>'],
])

const positiveInt = number({ int: true, gt: 0 })
const nonNegativeInt = number({ int: true, min: 0 })
const positive = number({ gt: 0 })
const opt = optional
const emptyObject = (): Record<string, never> => ({})
const emptyArray = (): never[] => []

/** The TCP port of a multiaddr, if it has one. */
function tcpPort(value: string): number | undefined {
  const port = parseMultiaddr(value)?.getComponents().find((c) => c.name === 'tcp')?.value
  return port === undefined ? undefined : Number(port)
}

const relaySchema = object({
  listenVia: withDefault(array(peerMultiaddrString), emptyArray),
  server: withDefault(
    object({
      maxReservations: withDefault(positiveInt, () => DEFAULT_RELAY_MAX_RESERVATIONS),
      maxBytesPerConnection: withDefault(positiveInt, () => DEFAULT_RELAY_MAX_BYTES_PER_CONNECTION),
      maxDurationMs: withDefault(positiveInt, () => DEFAULT_RELAY_MAX_DURATION_MS),
      reservationTtlMs: withDefault(positiveInt, () => DEFAULT_RELAY_RESERVATION_TTL_MS),
    }),
    emptyObject,
  ),
})

const natSchema = object({
  punchPort: withDefault(number({ int: true, min: 0, max: 65535 }), () => 0),
  announce: withDefault(array(multiaddrString), emptyArray),
})

const connectionsSchema = object(
  {
    low: withDefault(nonNegativeInt, () => DEFAULT_WATERMARK_LOW),
    high: withDefault(positiveInt, () => DEFAULT_WATERMARK_HIGH),
    maxConnections: withDefault(positiveInt, () => DEFAULT_MAX_CONNECTIONS),
    inboundConnectionThreshold: withDefault(positiveInt, () => DEFAULT_INBOUND_CONNECTION_THRESHOLD),
    maxIncomingPendingConnections: withDefault(positiveInt, () => DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS),
    maxStreamWindowBytes: withDefault(
      number({ int: true, min: MIN_STREAM_WINDOW_BYTES, max: 2 ** 32 - 1, minMessage: `must be at least ${MIN_STREAM_WINDOW_BYTES} (yamux's initial window)` }),
      () => DEFAULT_MAX_STREAM_WINDOW_BYTES,
    ),
    dialTimeoutMs: opt(positiveInt),
    backoff: opt(object({ baseMs: opt(positiveInt), capMs: opt(positiveInt), maxAttempts: opt(positiveInt) })),
  },
  (c, path, ctx) => (c.low <= c.high ? c : issue(ctx, [...path, 'low'], 'low must not exceed high')),
)

const thresholdsSchema = object({ lowEnter: opt(positive), lowExit: opt(positive), mediumEnter: opt(positive), mediumExit: opt(positive) })

const rateLimitSchema = object({ ratePerSec: positive, burst: number({ min: 1 }) })
const priorityLimitsSchema = object({ high: opt(rateLimitSchema), medium: opt(rateLimitSchema), low: opt(rateLimitSchema) })

const routerSchema = object({
  rateLimits: opt(object({ event: opt(priorityLimitsSchema), discovery: opt(priorityLimitsSchema), control: opt(priorityLimitsSchema) })),
  maxPayloadBytes: opt(positiveInt),
  defaultTtlMs: withDefault(positiveInt, () => DEFAULT_MESSAGE_TTL_MS),
  broadcastTtl: opt(number({ int: true, gt: 0, max: 255 })),
  shedding: opt(object({ delayMs: opt(thresholdsSchema), fill: opt(thresholdsSchema) })),
  outbox: withDefault(
    object({ maxEntriesPerPeer: opt(positiveInt), maxBytesPerPeer: opt(positiveInt), maxEntries: opt(positiveInt), maxBytes: opt(positiveInt) }),
    emptyObject,
  ),
})

const protocolSchema = object({
  maxFrameBytes: opt(positiveInt),
  chunkBytes: opt(positiveInt),
  compressionThresholdBytes: opt(nonNegativeInt),
  maxDecompressedBytes: opt(positiveInt),
})

const groupName = string([
  [(v) => v.length > 0, 'empty group name'],
  [(v) => Buffer.byteLength(v) <= 128, 'group name longer than 128 bytes'],
])

const configSchema: Rule<NetworkConfig> = object(
  {
    dataDir: opt(string([[(v) => v.length > 0, 'empty path']])),
    listen: withDefault(array(multiaddrString), () => [...DEFAULT_LISTEN]),
    announce: withDefault(array(multiaddrString), emptyArray),
    bootstrap: withDefault(array(peerMultiaddrString), emptyArray),
    role: withDefault(oneOf(['node', 'bootstrap', 'relay'] as const), () => 'node'),
    dhtMode: opt(oneOf(['server', 'client', 'auto'] as const)),
    addressScope: withDefault(oneOf(['private', 'public'] as const), () => 'public'),
    mdns: withDefault(boolean, () => false),
    relay: withDefault(relaySchema, emptyObject),
    connections: withDefault(connectionsSchema, emptyObject),
    router: withDefault(routerSchema, emptyObject),
    protocol: withDefault(protocolSchema, emptyObject),
    groups: withDefault(array(groupName, 64), emptyArray),
    link: withDefault(object({ enabled: withDefault(boolean, () => true), probeIntervalMs: opt(positiveInt), probes: withDefault(boolean, () => true) }), emptyObject),
    nat: withDefault(natSchema, emptyObject),
    scoring: withDefault(object({ retentionMs: opt(positiveInt), maintenanceIntervalMs: withDefault(positiveInt, () => DEFAULT_MAINTENANCE_INTERVAL_MS) }), emptyObject),
  },
  (c, path, ctx): NetworkConfig | typeof BAD => {
    let ok = true
    if (c.nat.punchPort !== 0) {
      c.listen.forEach((addr, i) => {
        if (tcpPort(addr) === c.nat.punchPort) {
          ok = false
          issue(ctx, [...path, 'listen', i], `must not use nat.punchPort ${c.nat.punchPort} (the punch port is never listened on)`)
        }
      })
    }
    if (!ok) return BAD
    return { ...c, dhtMode: c.dhtMode ?? (c.role === 'node' ? 'auto' : 'server') }
  },
)

export type SafeParseResult = { success: true; data: NetworkConfig } | { success: false; error: { issues: Issue[] } }

/** The NetworkConfig rules, with zod's `safeParse` shape (app-config.ts validates its `network` section with it). */
export const networkConfigSchema = {
  safeParse(input: unknown): SafeParseResult {
    const ctx: Ctx = { issues: [] }
    const data = configSchema(input, [], ctx)
    return data === BAD ? { success: false, error: { issues: ctx.issues } } : { success: true, data }
  },
}

/** `['listen', 0]` → `config.listen[0]`. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = 'config'
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`
  return out
}

function toIssues(issues: readonly Issue[]): ConfigIssue[] {
  const out: ConfigIssue[] = []
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ field: fieldPath([...issue.path, key]), message: 'unknown field' })
    } else {
      out.push({ field: fieldPath(issue.path), message: issue.message })
    }
  }
  return out
}

/** Validates and fills in defaults; throws ConfigError (code ERR_INVALID_CONFIG) naming each bad field. */
export function parseConfig(input: unknown): NetworkConfig {
  const result = networkConfigSchema.safeParse(input ?? {})
  if (!result.success) throw new ConfigError(toIssues(result.error.issues))
  return result.data
}
