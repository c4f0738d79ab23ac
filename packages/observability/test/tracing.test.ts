import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from '@jest/globals'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { InvalidConfigError, SPAN_ATTRIBUTES, SPAN_NAMES, createTracer, withSpan } from '../src/index.js'
import type { Tracing } from '../src/index.js'

const tracings: Tracing[] = []
afterEach(async () => {
  await Promise.all(tracings.splice(0).map((t) => t.shutdown()))
})

function memoryTracing(): Tracing & { memoryExporter: InMemorySpanExporter } {
  const t = createTracer({ serviceName: 'cpc-test', exporter: 'memory' })
  tracings.push(t)
  if (t.memoryExporter === undefined) throw new Error('memory exporter missing')
  return t as Tracing & { memoryExporter: InMemorySpanExporter }
}

const byName = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const span = spans.find((s) => s.name === name)
  if (span === undefined) throw new Error(`no span ${name}`)
  return span
}

describe('createTracer', () => {
  it('records nested spans with attributes across awaits, without touching the global tracer', async () => {
    const { tracer, memoryExporter } = memoryTracing()
    const result = await withSpan(tracer, SPAN_NAMES.messageSend, { [SPAN_ATTRIBUTES.priority]: 'HIGH', [SPAN_ATTRIBUTES.bytes]: 42 }, async () => {
      await new Promise((resolve) => setImmediate(resolve))
      await withSpan(tracer, SPAN_NAMES.routeDecision, { [SPAN_ATTRIBUTES.route]: 'direct' }, async (span) => {
        await Promise.resolve()
        span.addEvent('queued')
      })
      return 'sent'
    })
    expect(result).toBe('sent')
    const spans = memoryExporter.getFinishedSpans()
    expect(spans).toHaveLength(2)
    const send = byName(spans, SPAN_NAMES.messageSend)
    const route = byName(spans, SPAN_NAMES.routeDecision)
    expect(send.attributes).toEqual({ 'cpc.priority': 'HIGH', 'cpc.bytes': 42 })
    expect(route.attributes).toEqual({ 'cpc.route': 'direct' })
    expect(route.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
    expect(route.spanContext().traceId).toBe(send.spanContext().traceId)
    expect(send.parentSpanContext).toBeUndefined()
    expect(route.events.map((e) => e.name)).toEqual(['queued'])
    expect(send.resource.attributes['service.name']).toBe('cpc-test')
    // No global state: the api's global tracer is still the no-op one.
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false)
  })

  it('keeps concurrent span trees apart', async () => {
    const { tracer, memoryExporter } = memoryTracing()
    const tree = (id: string) =>
      withSpan(tracer, `parent-${id}`, {}, async () => {
        await new Promise((resolve) => setImmediate(resolve))
        await withSpan(tracer, `child-${id}`, {}, () => undefined)
      })
    await Promise.all([tree('a'), tree('b')])
    const spans = memoryExporter.getFinishedSpans()
    for (const id of ['a', 'b']) {
      expect(byName(spans, `child-${id}`).parentSpanContext?.spanId).toBe(byName(spans, `parent-${id}`).spanContext().spanId)
    }
  })

  it('records a thrown error on the span and rethrows it', async () => {
    const { tracer, memoryExporter } = memoryTracing()
    const err = Object.assign(new Error('no route to peer'), { code: 'ERR_NO_ROUTE' })
    await expect(withSpan(tracer, SPAN_NAMES.messageDelivery, {}, () => Promise.reject(err))).rejects.toBe(err)
    const [span] = memoryExporter.getFinishedSpans()
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR_NO_ROUTE' })
    expect(span.events[0].name).toBe('exception')
  })

  it('parents spans started with startSpan under the active span, and exposes activeSpan()', async () => {
    const tracing = memoryTracing()
    const { tracer, memoryExporter } = tracing
    await withSpan(tracer, 'outer', {}, (outer) => {
      expect(tracing.activeSpan()).toBe(outer)
      tracer.startSpan('manual').end()
    })
    expect(tracing.activeSpan()).toBeUndefined()
    const spans = memoryExporter.getFinishedSpans()
    expect(byName(spans, 'manual').parentSpanContext?.spanId).toBe(byName(spans, 'outer').spanContext().spanId)
  })

  it("'none' propagates context but records nothing", async () => {
    const t = createTracer({ serviceName: 'cpc-test', exporter: 'none' })
    tracings.push(t)
    await withSpan(t.tracer, 'x', { a: 1 }, (span) => {
      expect(span.isRecording()).toBe(false)
      expect(t.activeSpan()).toBe(span)
    })
    expect(t.memoryExporter).toBeUndefined()
  })

  it('accepts a SpanExporter instance, and registers globally only when asked', async () => {
    const exporter = new InMemorySpanExporter()
    const t = createTracer({ serviceName: 'cpc-test', exporter, registerGlobal: true })
    tracings.push(t)
    trace.getTracer('other').startSpan('via-global').end()
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['via-global'])
    await t.shutdown()
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false)
  })

  it("'otlp' ships spans as OTLP/HTTP JSON to the configured endpoint", async () => {
    // A real HTTP endpoint on 127.0.0.1 standing where a collector would: it records what arrives.
    const bodies: { url: string; body: string }[] = []
    let arrivedResolve!: () => void
    const arrived = new Promise<void>((resolve) => (arrivedResolve = resolve))
    const server = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString('utf8')))
      req.on('end', () => {
        bodies.push({ url: req.url ?? '', body })
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
        arrivedResolve()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    try {
      const t = createTracer({ serviceName: 'cpc-otlp-test', exporter: 'otlp', otlpEndpoint: `http://127.0.0.1:${port}/v1/traces` })
      tracings.push(t)
      await withSpan(t.tracer, SPAN_NAMES.messageSend, { [SPAN_ATTRIBUTES.priority]: 'HIGH' }, () => undefined)
      await t.forceFlush()
      await arrived
      expect(bodies[0].url).toBe('/v1/traces')
      const sent = JSON.parse(bodies[0].body)
      const spans = sent.resourceSpans.flatMap((r: { scopeSpans: { spans: { name: string }[] }[] }) => r.scopeSpans.flatMap((s) => s.spans))
      expect(spans.map((s: { name: string }) => s.name)).toContain(SPAN_NAMES.messageSend)
      await t.shutdown()
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('unknown exporters, bad OTLP endpoints and empty names fail with InvalidConfigError', () => {
    expect(() => createTracer({ serviceName: 'cpc-test', exporter: 'jaeger' as 'none' })).toThrow(InvalidConfigError)
    expect(() => createTracer({ serviceName: 'cpc-test', exporter: 'otlp', otlpEndpoint: 'udp://x' })).toThrow(InvalidConfigError)
    expect(() => createTracer({ serviceName: '', exporter: 'none' })).toThrow(InvalidConfigError)
  })

  it('shutdown() is idempotent and flushes the exporter', async () => {
    const t = memoryTracing()
    await withSpan(t.tracer, 'x', {}, () => undefined)
    await t.forceFlush()
    await Promise.all([t.shutdown(), t.shutdown()])
  })
})
