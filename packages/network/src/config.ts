// NetworkConfig: the validated configuration of one node (zod 4). `parseConfig` turns any input into
// a fully defaulted config or throws ConfigError naming every bad field by its dotted path
// (`config.listen[0]: not a multiaddr`).
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
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
import { ConfigError, type ConfigIssue } from './errors.js'

function parseMultiaddr(value: string): Multiaddr | undefined {
  try {
    return multiaddr(value)
  } catch {
    return undefined
  }
}

const multiaddrString = z.string().refine((v) => parseMultiaddr(v) !== undefined, { message: 'not a multiaddr' })

/** A multiaddr that names its peer (`.../p2p/12D3KooW...`): bootstrap peers and relays. */
const peerMultiaddrString = z.string().superRefine((v, ctx) => {
  const ma = parseMultiaddr(v)
  if (ma === undefined) ctx.addIssue({ code: 'custom', message: 'not a multiaddr' })
  else if (!ma.getComponents().some((c) => c.name === 'p2p')) ctx.addIssue({ code: 'custom', message: 'must end with /p2p/<peer id>' })
})

const positiveInt = z.number().int().positive()
const nonNegativeInt = z.number().int().nonnegative()

const relaySchema = z.strictObject({
  /** Relays to reserve a slot on (listen via `/p2p-circuit`), each with /p2p/<relay id>. */
  listenVia: z.array(peerMultiaddrString).default([]),
  /** Limits of the relay server (role 'relay' only). */
  server: z
    .strictObject({
      maxReservations: positiveInt.default(DEFAULT_RELAY_MAX_RESERVATIONS),
      maxBytesPerConnection: positiveInt.default(DEFAULT_RELAY_MAX_BYTES_PER_CONNECTION),
      maxDurationMs: positiveInt.default(DEFAULT_RELAY_MAX_DURATION_MS),
      reservationTtlMs: positiveInt.default(DEFAULT_RELAY_RESERVATION_TTL_MS),
    })
    .prefault({}),
})

/**
 * TCP hole punching (lab/README.md "NAT traversal"). Off unless punchPort is set: DCUtR's hole-punch
 * dials and dials to the `relay.listenVia` relays then leave from this local port, so the NAT mapping
 * the relay observes is the one a peer's punch hits. Never listened on (Node 20 cannot share it).
 */
const natSchema = z
  .strictObject({
    /** Local TCP port of hole-punch and relay dials; 0 or absent: off (every dial from an ephemeral port). */
    punchPort: nonNegativeInt.max(65535).default(0),
    /** Multiaddrs appended to the announced ones: the NAT mapping of the punch port (`/ip4/<WAN>/tcp/<port>`). */
    announce: z.array(multiaddrString).default([]),
  })
  .prefault({})

/** The TCP port of a multiaddr, if it has one. */
function tcpPort(value: string): number | undefined {
  const port = parseMultiaddr(value)?.getComponents().find((c) => c.name === 'tcp')?.value
  return port === undefined ? undefined : Number(port)
}

const connectionsSchema = z
  .strictObject({
    /** Our ConnectionManager prunes down to `low` once above `high`. */
    low: nonNegativeInt.default(DEFAULT_WATERMARK_LOW),
    high: positiveInt.default(DEFAULT_WATERMARK_HIGH),
    /** libp2p's hard cap on open connections. */
    maxConnections: positiveInt.default(DEFAULT_MAX_CONNECTIONS),
    inboundConnectionThreshold: positiveInt.default(DEFAULT_INBOUND_CONNECTION_THRESHOLD),
    /** libp2p: inbound connections handshaking at once; more are reset. */
    maxIncomingPendingConnections: positiveInt.default(DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS),
    /** yamux: cap on one stream's receive window, i.e. on the bytes in flight per stream. */
    maxStreamWindowBytes: positiveInt
      .min(MIN_STREAM_WINDOW_BYTES, { message: `must be at least ${MIN_STREAM_WINDOW_BYTES} (yamux's initial window)` })
      .max(2 ** 32 - 1)
      .default(DEFAULT_MAX_STREAM_WINDOW_BYTES),
    dialTimeoutMs: positiveInt.optional(),
    backoff: z.strictObject({ baseMs: positiveInt.optional(), capMs: positiveInt.optional(), maxAttempts: positiveInt.optional() }).optional(),
  })
  .refine((c) => c.low <= c.high, { message: 'low must not exceed high', path: ['low'] })

const thresholdsSchema = z
  .strictObject({ lowEnter: z.number().positive(), lowExit: z.number().positive(), mediumEnter: z.number().positive(), mediumExit: z.number().positive() })
  .partial()

/** One inbound rate limit: sustained messages per second, and the burst a rested peer may send. */
const rateLimitSchema = z.strictObject({ ratePerSec: z.number().positive(), burst: z.number().min(1) })
const priorityLimitsSchema = z.strictObject({ high: rateLimitSchema.optional(), medium: rateLimitSchema.optional(), low: rateLimitSchema.optional() })

const routerSchema = z.strictObject({
  /**
   * Per-peer inbound rate limits by message type and priority, over the router's defaults (EVENT
   * HIGH 20/s, MEDIUM 100/s, LOW 200/s; see @cpc/router rate-limiter.ts). Raise them for bulk links.
   */
  rateLimits: z.strictObject({ event: priorityLimitsSchema.optional(), discovery: priorityLimitsSchema.optional(), control: priorityLimitsSchema.optional() }).optional(),
  /** Largest payload sendMessage/broadcastMessage accept (router default 32 MiB). Above 32 MiB the per-peer queue grows to hold it. */
  maxPayloadBytes: positiveInt.optional(),
  /** How long a message may wait in the outbox when sendMessage gives no ttlMs. */
  defaultTtlMs: positiveInt.default(DEFAULT_MESSAGE_TTL_MS),
  /** Hops of a broadcast with scope 'all' when the caller gives none. */
  broadcastTtl: positiveInt.max(255).optional(),
  /** Load shedding of LOW/MEDIUM sends: event-loop delay (ms) and queue fill (0..1) thresholds. */
  shedding: z.strictObject({ delayMs: thresholdsSchema.optional(), fill: thresholdsSchema.optional() }).optional(),
  outbox: z
    .strictObject({
      maxEntriesPerPeer: positiveInt.optional(),
      maxBytesPerPeer: positiveInt.optional(),
      maxEntries: positiveInt.optional(),
      maxBytes: positiveInt.optional(),
    })
    .prefault({}),
})

const protocolSchema = z.strictObject({
  maxFrameBytes: positiveInt.optional(),
  chunkBytes: positiveInt.optional(),
  compressionThresholdBytes: nonNegativeInt.optional(),
  maxDecompressedBytes: positiveInt.optional(),
})

const groupName = z
  .string()
  .min(1, { message: 'empty group name' })
  .refine((v) => Buffer.byteLength(v) <= 128, { message: 'group name longer than 128 bytes' })

export const networkConfigSchema = z
  .strictObject({
    /**
     * Directory holding the identity, peer store, outbox, scores and nonce state. Omitted: everything
     * is in memory and a new identity is generated on every create (tests, throwaway nodes).
     */
    dataDir: z.string().min(1, { message: 'empty path' }).optional(),
    listen: z.array(multiaddrString).default([...DEFAULT_LISTEN]),
    announce: z.array(multiaddrString).default([]),
    bootstrap: z.array(peerMultiaddrString).default([]),
    role: z.enum(['node', 'bootstrap', 'relay']).default('node'),
    /** DHT mode; default 'server' for the bootstrap and relay roles, 'auto' for a node. */
    dhtMode: z.enum(['server', 'client', 'auto']).optional(),
    /** 'private' keeps loopback/LAN addresses in the DHT (devnets, LANs); 'public' strips them. */
    addressScope: z.enum(['private', 'public']).default('public'),
    mdns: z.boolean().default(false),
    relay: relaySchema.prefault({}),
    connections: connectionsSchema.prefault({}),
    router: routerSchema.prefault({}),
    protocol: protocolSchema.prefault({}),
    groups: z.array(groupName).max(64).default([]),
    /**
     * Link metrics (RTT from CONTROL ping/pong, one-way loss from authenticated UDP probes, throughput,
     * adaptive heartbeat; see @cpc/connection-manager src/link/README.md). On by default.
     */
    link: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Milliseconds between UDP loss probes per peer (default 100: 10/s). Raise it on phones. */
        probeIntervalMs: positiveInt.optional(),
        /** false: RTT and throughput only, no UDP probe socket. */
        probes: z.boolean().default(true),
      })
      .prefault({}),
    nat: natSchema,
    scoring: z
      .strictObject({
        /** How long a disconnected peer's score is kept. */
        retentionMs: positiveInt.optional(),
        /** How often stale scores are forgotten and expired outbox entries reported. */
        maintenanceIntervalMs: positiveInt.default(DEFAULT_MAINTENANCE_INTERVAL_MS),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.nat.punchPort === 0) return
    c.listen.forEach((addr, i) => {
      if (tcpPort(addr) === c.nat.punchPort) {
        ctx.addIssue({ code: 'custom', path: ['listen', i], message: `must not use nat.punchPort ${c.nat.punchPort} (the punch port is never listened on)` })
      }
    })
  })
  .transform((c) => ({ ...c, dhtMode: c.dhtMode ?? (c.role === 'node' ? ('auto' as const) : ('server' as const)) }))

/** What callers write (every field but none required). */
export type NetworkConfigInput = z.input<typeof networkConfigSchema>
/** The validated config with every default filled in. */
export type NetworkConfig = z.output<typeof networkConfigSchema>
export type NodeRole = NetworkConfig['role']

/** `['listen', 0]` → `config.listen[0]`. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = 'config'
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`
  return out
}

function toIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
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
