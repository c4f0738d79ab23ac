// OpenTelemetry tracing without global state: a provider, its exporter, and a Tracer whose active
// context lives in this tracer's own AsyncLocalStorage context manager.
import { SpanStatusCode, context as apiContext, trace } from '@opentelemetry/api'
import type { Attributes, Context, Span, SpanOptions, Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  BasicTracerProvider,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { InvalidConfigError } from './errors.js'

/** Where `exporter: 'otlp'` sends spans when no endpoint is configured (a local collector). */
export const DEFAULT_OTLP_ENDPOINT = 'http://127.0.0.1:4318/v1/traces'

export type { InMemorySpanExporter, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
export type { Attributes, Span, Tracer } from '@opentelemetry/api'

/**
 * - `none`: spans are not recorded (AlwaysOff sampler) but context still propagates; the cheapest.
 * - `console`: every ended span printed by OpenTelemetry's ConsoleSpanExporter (development only).
 * - `otlp`: OTLP/HTTP (JSON) to `otlpEndpoint` (default a local collector, DEFAULT_OTLP_ENDPOINT),
 *   batched so tracing never waits on the network in the hot path.
 * - `memory`: an InMemorySpanExporter, returned as `memoryExporter` so tests can read the spans.
 */
export type TraceExporterKind = 'none' | 'console' | 'otlp' | 'memory'

export const TRACE_EXPORTER_KINDS: readonly TraceExporterKind[] = ['none', 'console', 'otlp', 'memory']

export interface TracingInit {
  serviceName: string
  exporter: TraceExporterKind | SpanExporter
  /** OTLP/HTTP traces endpoint for `exporter: 'otlp'` (default DEFAULT_OTLP_ENDPOINT). */
  otlpEndpoint?: string
  /** Extra resource attributes (e.g. `{ 'service.instance.id': peerId }`). */
  resourceAttributes?: Attributes
  /**
   * Also install the provider and context manager as OpenTelemetry's globals, so code calling
   * `trace.getTracer()` / `trace.getActiveSpan()` of @opentelemetry/api sees them. Off by default;
   * `shutdown()` removes them again.
   */
  registerGlobal?: boolean
}

export interface Tracing {
  /** The provider's tracer, bound to this tracing's own context manager. */
  tracer: Tracer
  /** Set when `exporter: 'memory'`. */
  memoryExporter?: InMemorySpanExporter
  /** The span active in the current async context of this tracing, if any. */
  activeSpan(): Span | undefined
  /** Exports spans still buffered in the processor. */
  forceFlush(): Promise<void>
  /** Flushes, shuts the exporter down and disables the context manager; idempotent. */
  shutdown(): Promise<void>
}

function isSpanExporter(value: unknown): value is SpanExporter {
  return typeof value === 'object' && value !== null && typeof (value as SpanExporter).export === 'function'
}

/**
 * A Tracer that delegates span creation to the SDK tracer but takes the active context from a
 * context manager it owns, so nesting works without @opentelemetry/api's global context manager.
 */
class ScopedTracer implements Tracer {
  constructor(
    private readonly inner: Tracer,
    private readonly contextManager: AsyncLocalStorageContextManager,
  ) {}

  startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
    return this.inner.startSpan(name, options, ctx ?? this.contextManager.active())
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args[args.length - 1] as (span: Span) => ReturnType<F>
    const options = (args.length >= 2 ? args[0] : undefined) as SpanOptions | undefined
    const parent = (args.length >= 3 ? args[1] : undefined) as Context | undefined
    const parentContext = parent ?? this.contextManager.active()
    const span = this.startSpan(name, options, parentContext)
    return this.contextManager.with(trace.setSpan(parentContext, span), fn, undefined, span)
  }
}

export function createTracer(init: TracingInit): Tracing {
  if (typeof init.serviceName !== 'string' || init.serviceName === '') {
    throw new InvalidConfigError('tracing needs a non-empty serviceName')
  }
  let exporter: SpanExporter | undefined
  let memoryExporter: InMemorySpanExporter | undefined
  if (isSpanExporter(init.exporter)) {
    exporter = init.exporter
  } else {
    switch (init.exporter) {
      case 'none':
        break
      case 'console':
        exporter = new ConsoleSpanExporter()
        break
      case 'memory':
        memoryExporter = new InMemorySpanExporter()
        exporter = memoryExporter
        break
      case 'otlp':
        if (init.otlpEndpoint !== undefined && !/^https?:\/\//.test(init.otlpEndpoint)) {
          throw new InvalidConfigError(`otlpEndpoint must be an http(s) URL, got '${init.otlpEndpoint}'`)
        }
        exporter = new OTLPTraceExporter({ url: init.otlpEndpoint ?? DEFAULT_OTLP_ENDPOINT })
        break
      default:
        throw new InvalidConfigError(`unknown trace exporter '${String(init.exporter)}': expected one of ${TRACE_EXPORTER_KINDS.join(', ')}`)
    }
  }

  // Memory and console want spans at once (export on end); OTLP goes over the network, so it is
  // batched off the hot path (forceFlush/shutdown send what is buffered).
  const spanProcessors: SpanProcessor[] =
    exporter === undefined ? [] : [init.exporter === 'otlp' ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter)]
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...init.resourceAttributes, 'service.name': init.serviceName }),
    spanProcessors,
    ...(exporter === undefined ? { sampler: new AlwaysOffSampler() } : {}),
  })
  const contextManager = new AsyncLocalStorageContextManager().enable()
  const tracer = new ScopedTracer(provider.getTracer(init.serviceName), contextManager)

  const global = init.registerGlobal === true
  if (global) {
    // setGlobal* return false (and change nothing) when a global is already installed.
    if (!trace.setGlobalTracerProvider(provider)) {
      contextManager.disable()
      throw new InvalidConfigError('registerGlobal: an OpenTelemetry global tracer provider is already installed')
    }
    if (!apiContext.setGlobalContextManager(contextManager)) {
      trace.disable()
      contextManager.disable()
      throw new InvalidConfigError('registerGlobal: an OpenTelemetry global context manager is already installed')
    }
  }

  let stopped: Promise<void> | undefined
  return {
    tracer,
    ...(memoryExporter !== undefined ? { memoryExporter } : {}),
    activeSpan: () => trace.getSpan(contextManager.active()),
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= (async () => {
        try {
          await provider.shutdown()
        } finally {
          if (global) {
            trace.disable()
            apiContext.disable()
          }
          contextManager.disable()
        }
      })()
      return stopped
    },
  }
}

/**
 * Runs `fn` inside a new active span named `name` with `attributes`, ends the span when `fn`
 * settles, and records a thrown error (exception event + ERROR status) before rethrowing it.
 * Spans started inside `fn` through the same tracer become children of this one.
 */
export function withSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => T | Promise<T>,
  options: Omit<SpanOptions, 'attributes'> = {},
): Promise<T> {
  return tracer.startActiveSpan(name, { ...options, attributes }, async (span: Span) => {
    try {
      return await fn(span)
    } catch (err) {
      recordError(span, err)
      throw err
    } finally {
      span.end()
    }
  })
}

/** Marks `span` failed with `err` (exception event, ERROR status with the error's code or message). */
export function recordError(span: Span, err: unknown): void {
  if (err instanceof Error) {
    span.recordException(err)
    const code = (err as { code?: unknown }).code
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : err.message })
  } else {
    span.recordException(String(err))
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) })
  }
}
