// Defaults of every knob of the router's building blocks. Each is overridable through the `init`
// object of the class that uses it.
import { DEFAULT_MAX_SIGN_BATCH as PROTOCOL_DEFAULT_MAX_SIGN_BATCH } from '@cpc/protocol'

// --- Outbound queues (PeerQueues) and writer (PeerWriter) ---

/** Frames queued for one peer, all priorities together, before LOW (then MEDIUM) is shed. */
export const DEFAULT_PEER_QUEUE_MAX_FRAMES = 4096

/**
 * Bytes queued for one peer, all priorities together, before LOW (then MEDIUM) is shed. 16 MiB is
 * 64 full 256 KiB chunks: a few seconds of a healthy link, not a hiding place for a dead one.
 */
export const DEFAULT_PEER_QUEUE_MAX_BYTES = 16 * 1024 * 1024

/**
 * MEDIUM:LOW byte shares once HIGH is empty (deficit round robin). 4:1 means LOW gets at least a
 * fifth of the bytes MEDIUM and LOW send while both are backlogged.
 */
export const DEFAULT_MEDIUM_WEIGHT = 4
export const DEFAULT_LOW_WEIGHT = 1

/**
 * Deficit round robin quantum per unit of weight, in bytes. Near a typical small frame's size times
 * a few, so turns alternate often; a frame larger than the quantum waits for a few turns of credit.
 */
export const DEFAULT_DRR_QUANTUM_BYTES = 16 * 1024

/**
 * One write carries at most this many bytes of small frames. 64 KiB matches the 64 KiB sends that
 * measured best on loopback (LIBP2P_NOTES.md), and bounds how long a HIGH frame waits behind a batch.
 */
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024

/** ...and at most this many frames (64 per send measured ~12x the msg/s of one per send). */
export const DEFAULT_MAX_BATCH_FRAMES = 64

/**
 * Frames of one write signed under one Merkle root (one Ed25519 signature), at most. Must not exceed
 * the receivers' DEFAULT_MAX_VERIFY_BATCH (64). 16 keeps proofs at 4 hashes (142 B per message) and
 * cuts Ed25519 work 16x on both sides; see docs/design/batch-signatures.md.
 */
export const DEFAULT_MAX_SIGN_BATCH = PROTOCOL_DEFAULT_MAX_SIGN_BATCH

/** One batched write may take this long, backpressure included, before it is aborted. */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000

// --- Inbound: dedup ---

/** How long (origin, nonce) pairs are remembered. Longer than any sane broadcast propagation time. */
export const DEFAULT_DEDUP_WINDOW_MS = 2 * 60_000

/** Pairs remembered at most; past it the oldest are forgotten early (counted as evictions). */
export const DEFAULT_DEDUP_MAX_ENTRIES = 100_000

// --- Inbound: rate limits ---

/** Peers whose rate-limit state is kept; past it the least recently seen peer is forgotten. */
export const DEFAULT_RATE_LIMIT_MAX_PEERS = 10_000

// Per (peer, type, priority) GCRA limits, messages per second and burst. HIGH gets the smallest
// budget: it jumps every queue, so it must be rare, and a peer marking everything HIGH is throttled
// first. The defaults are in rate-limiter.ts as one table (DEFAULT_RATE_LIMITS).

// --- Load shedding ---

/** How often the event-loop delay and queue fill are sampled. */
export const DEFAULT_SHED_SAMPLE_INTERVAL_MS = 500

/** p99 event-loop delay (ms) over a sample interval that starts shedding LOW... */
export const DEFAULT_SHED_LOW_ENTER_DELAY_MS = 100
/** ...and below which LOW shedding stops (hysteresis: well under the enter threshold). */
export const DEFAULT_SHED_LOW_EXIT_DELAY_MS = 50
/** p99 event-loop delay (ms) that also starts shedding MEDIUM... */
export const DEFAULT_SHED_MEDIUM_ENTER_DELAY_MS = 250
/** ...and below which MEDIUM shedding stops. */
export const DEFAULT_SHED_MEDIUM_EXIT_DELAY_MS = 125

/** Fill of the router's total queue budget (0..1) that starts shedding LOW, and stops it. */
export const DEFAULT_SHED_LOW_ENTER_FILL = 0.8
export const DEFAULT_SHED_LOW_EXIT_FILL = 0.6
/** Fill that also starts shedding MEDIUM, and stops it. */
export const DEFAULT_SHED_MEDIUM_ENTER_FILL = 0.95
export const DEFAULT_SHED_MEDIUM_EXIT_FILL = 0.8

/** monitorEventLoopDelay resolution (ms). */
export const DEFAULT_EVENT_LOOP_DELAY_RESOLUTION_MS = 10

// --- Persistent outbox ---

/** Entries (messages) kept for one peer. */
export const DEFAULT_OUTBOX_MAX_ENTRIES_PER_PEER = 1_000
/** Bytes of frames kept for one peer. */
export const DEFAULT_OUTBOX_MAX_BYTES_PER_PEER = 32 * 1024 * 1024
/** Entries kept for all peers together. */
export const DEFAULT_OUTBOX_MAX_ENTRIES = 100_000
/** Bytes kept for all peers together. */
export const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024
/** expire() removes at most this many entries per call, so one call never blocks for long. */
export const DEFAULT_OUTBOX_EXPIRE_BATCH = 1_000

// --- Router: routing, retry, broadcast, receive side ---

/** All peers' outbound queues together; LoadShedder's queue-fill signal is their bytes over this. */
export const DEFAULT_TOTAL_QUEUE_MAX_BYTES = 256 * 1024 * 1024

/** How long send() waits for a direct dial (then a relayed one) before queueing the message. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000

/**
 * A sent message that cannot be delivered yet waits this long in the outbox before it expires with a
 * 'message:expired' event. Also stamped as the message's expires_at_ms, so a late copy is refused.
 */
export const DEFAULT_SEND_TTL_MS = 60 * 60_000

/** How often the outbox is swept for expired entries (each one is reported). */
export const DEFAULT_OUTBOX_EXPIRE_INTERVAL_MS = 1_000

/** Outbox entries moved into a peer's queues per flush; the next batch follows once these are written. */
export const DEFAULT_OUTBOX_FLUSH_BATCH = 64

/** After a failed write to a still-connected peer, wait this long before flushing its outbox again. */
export const DEFAULT_RETRY_DELAY_MS = 1_000

/** Broadcast All: neighbors (best-scored first) each node sends or forwards a message to. */
export const DEFAULT_BROADCAST_FANOUT = 6

/** Broadcast All: the ttl the origin signs into the message (see README: never decremented). */
export const DEFAULT_BROADCAST_TTL = 8

/** Broadcast Group: members dialled at once when they are not connected. */
export const DEFAULT_GROUP_DIAL_CONCURRENCY = 8

/** How often partially received chunked messages are checked for their reassembly timeout. */
export const DEFAULT_REASSEMBLY_SWEEP_MS = 1_000

/** gRPC Subscribe: items buffered per call before the oldest are dropped for a slow client. */
export const DEFAULT_SUBSCRIBE_BUFFER = 1_024

/**
 * The Router's per-peer queue bound, larger than PeerQueues' own default: a message must fit in its
 * peer's queue whole (all its chunks), so the bound is the largest payload plus room for the traffic
 * around it. Memory is taken only as messages are queued; the total budget
 * (DEFAULT_TOTAL_QUEUE_MAX_BYTES) drives shedding across peers.
 */
export const DEFAULT_ROUTER_PEER_QUEUE_MAX_BYTES = 48 * 1024 * 1024

/** Largest payload send()/broadcast() accept (before compression): fits DEFAULT_ROUTER_PEER_QUEUE_MAX_BYTES. */
export const DEFAULT_ROUTER_MAX_PAYLOAD_BYTES = 32 * 1024 * 1024
