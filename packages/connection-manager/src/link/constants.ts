// Defaults of LinkMonitorInit. Why each value is what it is: see README.md in this folder.

/** Shortest heartbeat (ping) interval: what a lossy or jittery link is pinged at. */
export const DEFAULT_MIN_INTERVAL_MS = 1_000
/** Longest heartbeat interval: a quiet, healthy link backs off to this (battery optimization). */
export const DEFAULT_MAX_INTERVAL_MS = 30_000
/** First interval of a new peer: start fast to get an RTT estimate quickly. */
export const DEFAULT_INITIAL_INTERVAL_MS = DEFAULT_MIN_INTERVAL_MS
/** Interval multiplier after `healthyPingsToGrow` consecutive healthy pings. */
export const DEFAULT_GROWTH_FACTOR = 1.5
/** Interval divisor on RTT jitter (loss goes straight to the minimum). */
export const DEFAULT_SHRINK_FACTOR = 2
/** Consecutive healthy pongs needed before the interval grows once. */
export const DEFAULT_HEALTHY_PINGS_TO_GROW = 3
/** A ping without a pong after this long counts as lost (and as a timed-out request for scoring). */
export const DEFAULT_PING_TIMEOUT_MS = 5_000
/** Jitter (mean absolute difference of successive RTT samples) above this is unhealthy. */
export const DEFAULT_JITTER_THRESHOLD_MS = 50
/** Probe loss over one heartbeat period above this is unhealthy. */
export const DEFAULT_LOSS_THRESHOLD = 0.01
/** RTT EWMA weight of a new sample (RFC 6298's SRTT alpha). */
export const DEFAULT_RTT_ALPHA = 0.125
/** RTT samples kept per peer for jitter. */
export const DEFAULT_RTT_SAMPLES = 16
/** Time constant of the throughput EWMA. */
export const DEFAULT_THROUGHPUT_TAU_MS = 10_000

/** Probes per second per peer (10/s). */
export const DEFAULT_PROBE_INTERVAL_MS = 100
/** Global cap on probes sent per second, all peers together. */
export const DEFAULT_MAX_PROBES_PER_SEC = 200
/** Global cap on echoes sent per second (token bucket, burst = one second's worth). */
export const DEFAULT_MAX_ECHOES_PER_SEC = 400
/** Loss window: the last N probe sequence numbers (2000 = 200 s at 10/s). */
export const DEFAULT_LOSS_WINDOW = 2_000
/** Probes needed in the window before a probe loss figure is reported. */
export const DEFAULT_MIN_LOSS_SAMPLES = 50
/** Ping outcomes kept for the ping-loss fallback (when no UDP probes are possible). */
export const DEFAULT_PING_LOSS_WINDOW = 100
/** Host the UDP probe socket binds to. */
export const DEFAULT_PROBE_HOST = '0.0.0.0'
