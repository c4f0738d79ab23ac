// The public surface of @cpc/observability. The Node 20 shim is a separate entry point:
// `import '@cpc/observability/node-compat'`.
export { createMetricsRegistry, libp2pMetrics, isLibp2pFamily } from './registry.js'
export type { MetricsRegistryInit, Libp2pMetricsInit } from './registry.js'
export { ObservabilityServer } from './http-server.js'
export type {
  AbortOptions,
  Check,
  CheckResult,
  ObservabilityServerComponents,
  ObservabilityServerInit,
  ServerAddress,
} from './http-server.js'
export { createTracer, withSpan, recordError, TRACE_EXPORTER_KINDS, DEFAULT_OTLP_ENDPOINT } from './tracing.js'
export type {
  Attributes,
  InMemorySpanExporter,
  ReadableSpan,
  Span,
  SpanExporter,
  TraceExporterKind,
  Tracer,
  Tracing,
  TracingInit,
} from './tracing.js'
export { SPAN_NAMES, SPAN_ATTRIBUTES } from './span-names.js'
export { createLogger, noopLogger, LOG_LEVELS } from './logger.js'
export type { LogFn, Logger, LoggerInit, PinoLogger } from './logger.js'
export {
  LATENCY_FAMILIES,
  LOSS_FAMILIES,
  THROUGHPUT_FAMILIES,
  STATE_FAMILIES,
  PROCESS_FAMILIES,
  SEED_METRIC_FAMILIES,
  familiesInExposition,
} from './metrics-families.js'
export { ObservabilityError, InvalidConfigError, ListenError, AbortError } from './errors.js'
export {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_CHECK_TIMEOUT_MS,
  DEFAULT_PROCESS_METRICS_PREFIX,
  DEFAULT_LOG_LEVEL,
} from './constants.js'
