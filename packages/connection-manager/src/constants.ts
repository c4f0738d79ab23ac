// Defaults of every knob of the connection manager and the channel. Each is overridable through the
// `init` object of the class that uses it.

/** First retry waits up to this long (full jitter: uniformly in [0, base]). */
export const DEFAULT_BACKOFF_BASE_MS = 500

/** No retry waits longer than this, whatever the attempt number. */
export const DEFAULT_BACKOFF_CAP_MS = 30_000

/** Retries of one peer after which the manager gives up until the next explicit connect(). */
export const DEFAULT_BACKOFF_MAX_ATTEMPTS = 10

/** Peers waiting for a retry at once; above it the lowest-priority entry is dropped. */
export const DEFAULT_RETRY_QUEUE_CAPACITY = 256

/** Retry dials in flight at once; the retry queue decides who goes first when more are due. */
export const DEFAULT_MAX_CONCURRENT_RETRIES = 4

/** Prune down to this many connected peers... */
export const DEFAULT_LOW_WATERMARK = 50

/** ...once there are more than this many. */
export const DEFAULT_HIGH_WATERMARK = 80

/** A dial without a caller signal gives up after this long. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000

/** How long sending a goodbye may take before the connection is closed anyway. */
export const DEFAULT_GOODBYE_TIMEOUT_MS = 2_000

/**
 * After a remote goodbye, how long the remote gets to close the connection itself before we do.
 * Closing from both sides at once is harmless, this only bounds a half-dead peer.
 */
export const DEFAULT_REMOTE_GOODBYE_CLOSE_MS = 5_000

/** Largest frame accepted on /cpc/1.0.0 (a chunked payload never needs more). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

/** Concurrent inbound /cpc/1.0.0 streams per connection (one is normal, a reopen may overlap). */
export const DEFAULT_MAX_INBOUND_STREAMS = 4

/** Concurrent outbound /cpc/1.0.0 streams per connection. */
export const DEFAULT_MAX_OUTBOUND_STREAMS = 4

/** How long a send may wait for the stream to drain before failing. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000

/** Peers whose byte counters the channel keeps; the oldest idle ones are forgotten beyond it. */
export const DEFAULT_MAX_TRACKED_PEERS = 4096

/** Buffered state changes per WatchStates stream; a slower client loses the oldest ones. */
export const DEFAULT_WATCH_BUFFER = 1024

/** Tag of peers protected because they have HIGH traffic queued (see markHighTraffic). */
export const HIGH_TRAFFIC_TAG = 'high-traffic'

/**
 * Tag set in libp2p's peer store on every peer we protect (any of our tags, or HIGH traffic), so
 * libp2p's own connection pruner, which closes the connections of the lowest summed tag values
 * first when above maxConnections, keeps them. Deliberately not `keep-alive-*`: that prefix makes
 * libp2p's reconnect queue redial the peer on its own schedule, racing our backoff and retry queue
 * and redialling peers that said goodbye.
 */
export const PEER_STORE_PROTECT_TAG = 'cpc-protected'

/** Value of PEER_STORE_PROTECT_TAG: the maximum libp2p allows (1-100). */
export const PEER_STORE_PROTECT_TAG_VALUE = 100

/** stop() says goodbye (SHUTDOWN) to every connected peer in parallel, for at most this long in total. */
export const DEFAULT_STOP_GOODBYE_TIMEOUT_MS = 3_000
