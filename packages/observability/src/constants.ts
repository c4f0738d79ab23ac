// Defaults of @cpc/observability, in one place.

/** Loopback only by default: exposing /metrics beyond the host is the app's explicit choice. */
export const DEFAULT_HOST = '127.0.0.1'

/** 0 lets the OS pick a free port; `start()` resolves with the one it got. */
export const DEFAULT_PORT = 0

/** A readiness or health callback slower than this answers 503 instead of hanging the probe. */
export const DEFAULT_CHECK_TIMEOUT_MS = 2_000

/**
 * Prefix of prom-client's process and runtime metrics (`cpc_process_cpu_seconds_total`,
 * `cpc_nodejs_eventloop_lag_seconds`, ...). prom-client appends its own `process_`/`nodejs_` names,
 * so `cpc_` keeps every series in the cpc_ namespace without doubling the word (`cpc_process_process_...`).
 */
export const DEFAULT_PROCESS_METRICS_PREFIX = 'cpc_'

export const DEFAULT_LOG_LEVEL = 'info'

