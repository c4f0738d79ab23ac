// Defaults of @cpc/network. Every one is overridable through NetworkConfig (see README.md).

/** Where a node listens when `listen` is not given: loopback, ephemeral port. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0'] as const

/** Connection watermarks of our ConnectionManager (prune above high, down to low). */
export const DEFAULT_WATERMARK_LOW = 50
export const DEFAULT_WATERMARK_HIGH = 80
/** libp2p's own hard cap on open connections (above our high watermark). */
export const DEFAULT_MAX_CONNECTIONS = 300
/**
 * Inbound connections accepted per second per host by libp2p. libp2p's default (5) refused 45 of 50
 * loopback clients connecting at once (shared/LIBP2P_NOTES.md): devnets put many nodes on one host.
 */
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 1000

/**
 * Inbound connections libp2p lets handshake (Noise + yamux negotiation) at once. libp2p's default
 * (10) resets the rest: dozens of simultaneous dials, e.g. a devnet starting, lost most of theirs.
 */
export const DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS = 64

/**
 * yamux's cap on one stream's receive window (libp2p default 16 MiB; the window starts at 256 KiB and
 * doubles while the reader keeps up). It bounds the bytes in flight on a cpc stream: a HIGH frame
 * queued behind them waits until the receiver has read them all, so the router, not yamux, must hold
 * the backlog. Measured (bench cpc role, HIGH RTT under a 16 MiB LOW flood; docs/benchmarks.md "Changes
 * made to close the gaps"): p50/p99 8.7/54 ms at 256 KiB, 10.3/65 ms at 512 KiB, 23.9/59 ms at 1 MiB,
 * 73.7/439 ms at 16 MiB; the 64 MiB transfer was CPU-bound (signing) at every size. 512 KiB caps one
 * stream at ~5 MB/s over a 100 ms RTT path (window / RTT): ample for social content, raise it for bulk
 * links with long RTTs.
 */
export const DEFAULT_MAX_STREAM_WINDOW_BYTES = 512 * 1024

/** yamux's smallest (and initial) stream window: the lower bound of maxStreamWindowBytes. */
export const MIN_STREAM_WINDOW_BYTES = 256 * 1024

/** Relay server (role 'relay'): reservations held at once. */
export const DEFAULT_RELAY_MAX_RESERVATIONS = 128
/** Relay server: bytes per relayed connection before it is reset (16 MiB). */
export const DEFAULT_RELAY_MAX_BYTES_PER_CONNECTION = 16 * 1024 * 1024
/** Relay server: lifetime of one relayed connection (10 min). */
export const DEFAULT_RELAY_MAX_DURATION_MS = 10 * 60_000
/** Relay server: reservation lifetime (libp2p default, 2 h). */
export const DEFAULT_RELAY_RESERVATION_TTL_MS = 2 * 3_600_000

/** Outbox: how long a message waits for its peer when the caller gives no ttl (1 h). */
export const DEFAULT_MESSAGE_TTL_MS = 3_600_000

/** How often the scorer forgets stale peers and the outbox is swept (unref'd timer). */
export const DEFAULT_MAINTENANCE_INTERVAL_MS = 60_000

/** Events kept per Subscribe stream before the oldest are dropped. */
export const DEFAULT_EVENT_BUFFER = 1024

/** ping's outbound stream cap: the default of 1 races kad-dht's own pings. */
export const PING_MAX_OUTBOUND_STREAMS = 8

/** Files and folders under the data dir. */
export const IDENTITY_FILE = 'identity.key'
export const DATASTORE_DIR = 'datastore'
export const OUTBOX_DIR = 'outbox'
export const SCORES_FILE = 'scores.json'
export const NONCE_FILE = 'nonce.json'

/** Version reported by GetStatus. */
export const NETWORK_VERSION = '0.1.0'

/** Exit codes of the binaries (runApp). */
export const EXIT_OK = 0
/** Start failed for a reason other than the config (port in use, unreadable data dir...). */
export const EXIT_FAILURE = 1
/** Bad config or usage: the message names the field. */
export const EXIT_CONFIG = 2
/** A second signal arrived while stopping: stopped without waiting. */
export const EXIT_FORCED = 130
