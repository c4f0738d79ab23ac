import { afterEach, describe, expect, it } from '@jest/globals'
import { request, Agent } from 'node:http'
import { createServer } from 'node:net'
import { Counter } from 'prom-client'
import { ObservabilityServer, createMetricsRegistry, ListenError, AbortError, InvalidConfigError } from '../src/index.js'

const servers: ObservabilityServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

async function started(init: ConstructorParameters<typeof ObservabilityServer>[1] = {}) {
  const registry = createMetricsRegistry()
  const server = new ObservabilityServer({ registry }, init)
  servers.push(server)
  const address = await server.start()
  return { registry, server, address }
}

describe('ObservabilityServer', () => {
  it('binds 127.0.0.1 on an OS-chosen port and reports it', async () => {
    const { server, address } = await started()
    expect(address.host).toBe('127.0.0.1')
    expect(address.port).toBeGreaterThan(0)
    expect(address.url).toBe(`http://127.0.0.1:${address.port}`)
    expect(server.address).toEqual(address)
    expect(await server.start()).toEqual(address)
  })

  it('serves the registry on GET /metrics with process metrics and registered counters', async () => {
    const { registry, address } = await started()
    const counter = new Counter({ name: 'cpc_test_things_total', help: 'things', labelNames: ['kind'], registers: [registry] })
    counter.inc({ kind: 'a' }, 3)
    const res = await fetch(`${address.url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(registry.contentType)
    const body = await res.text()
    expect(body).toContain('# TYPE cpc_test_things_total counter')
    expect(body).toContain('cpc_test_things_total{kind="a"} 3')
    expect(body).toContain('# TYPE cpc_process_cpu_seconds_total counter')
    expect(body).toMatch(/^cpc_nodejs_heap_size_used_bytes \d+/m)
  })

  it('ignores the query string', async () => {
    const { address } = await started()
    expect((await fetch(`${address.url}/healthz?verbose=1`)).status).toBe(200)
  })

  it('answers /healthz 200 {"status":"ok"} by default and 503 when the health check fails', async () => {
    const { address } = await started()
    const res = await fetch(`${address.url}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })

    const sick = await started({ health: () => ({ ok: false, reason: 'disk full' }) })
    const res2 = await fetch(`${sick.address.url}/healthz`)
    expect(res2.status).toBe(503)
    expect(await res2.json()).toEqual({ status: 'unhealthy', reason: 'disk full' })
  })

  it('answers /readyz 503 with a reason until readiness flips, then 200', async () => {
    let ready = false
    const { address } = await started({ readiness: async () => ready })
    const before = await fetch(`${address.url}/readyz`)
    expect(before.status).toBe(503)
    expect(await before.json()).toEqual({ status: 'not_ready', reason: 'not ready' })
    ready = true
    const after = await fetch(`${address.url}/readyz`)
    expect(after.status).toBe(200)
    expect(await after.json()).toEqual({ status: 'ok' })
  })

  it('turns a throwing or hanging readiness check into 503 with its reason', async () => {
    const throwing = await started({
      readiness: () => {
        throw new Error('libp2p not started')
      },
    })
    const res = await fetch(`${throwing.address.url}/readyz`)
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ status: 'not_ready', reason: 'libp2p not started' })

    let release!: () => void
    const hanging = await started({ readiness: () => new Promise<boolean>((resolve) => (release = () => resolve(true))), checkTimeoutMs: 50 })
    const res2 = await fetch(`${hanging.address.url}/readyz`)
    expect(res2.status).toBe(503)
    expect(((await res2.json()) as { reason: string }).reason).toMatch(/timed out after 50 ms/)
    release()
  })

  it('answers 404 for unknown paths and 405 with Allow for non-GET methods', async () => {
    const { address } = await started()
    const notFound = await fetch(`${address.url}/nope`)
    expect(notFound.status).toBe(404)
    await notFound.text()
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${address.url}/metrics`, { method })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('GET, HEAD')
      await res.text()
    }
    const head = await fetch(`${address.url}/healthz`, { method: 'HEAD' })
    expect(head.status).toBe(200)
  })

  it('answers 500 when a collect() throws, and keeps serving', async () => {
    const { registry, address } = await started()
    let broken = true
    new Counter({
      name: 'cpc_test_broken_total',
      help: 'throws at scrape time',
      registers: [registry],
      collect() {
        if (broken) throw new Error('collector broke')
      },
    })
    const res = await fetch(`${address.url}/metrics`)
    expect(res.status).toBe(500)
    await res.text()
    broken = false
    expect((await fetch(`${address.url}/metrics`)).status).toBe(200)
  })

  it('stop() closes keep-alive connections and releases the port', async () => {
    const { server, address } = await started()
    const agent = new Agent({ keepAlive: true })
    // Resolves with a wrapper: resolving with a bare promise would adopt it and wait for the close.
    const { closed: socketClosed } = await new Promise<{ closed: Promise<void> }>((resolve, reject) => {
      const req = request(`${address.url}/healthz`, { agent }, (res) => {
        res.resume()
        res.on('end', () => {
          // The response is complete; the socket stays open in the agent's free pool.
          const socket = req.socket
          if (socket === null) return reject(new Error('no socket'))
          expect(socket.destroyed).toBe(false)
          resolve({ closed: new Promise<void>((done) => socket.once('close', () => done())) })
        })
      })
      req.on('error', reject)
      req.end()
    })
    await server.stop()
    await socketClosed
    expect(server.address).toBeUndefined()
    expect(server.isStarted()).toBe(false)
    await server.stop() // idempotent
    agent.destroy()
    // The port is free again: a plain listener can take it.
    const probe = createServer()
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(address.port, '127.0.0.1', resolve))
    await new Promise<void>((resolve) => probe.close(() => resolve()))
  })

  it('stop() ends an in-flight request whose check is still pending', async () => {
    let release!: () => void
    const { server, address } = await started({ readiness: () => new Promise<boolean>((resolve) => (release = () => resolve(true))) })
    const pending = fetch(`${address.url}/readyz`).then(
      () => 'answered',
      () => 'failed',
    )
    // Wait until the server is actually running the check.
    while (release === undefined) await new Promise((resolve) => setImmediate(resolve))
    await server.stop()
    expect(await pending).toBe('failed')
    release()
  })

  it('fails start() with ListenError when the port is taken', async () => {
    const { address } = await started()
    const second = new ObservabilityServer({ registry: createMetricsRegistry({ collectProcessMetrics: false }) }, { port: address.port })
    const err = await second.start().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ListenError)
    expect((err as ListenError).code).toBe('ERR_LISTEN_FAILED')
    expect(second.isStarted()).toBe(false)
  })

  it('rejects start() with an already-aborted signal, and bad ports at construction', async () => {
    const server = new ObservabilityServer({ registry: createMetricsRegistry({ collectProcessMetrics: false }) })
    await expect(server.start({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError)
    expect(server.isStarted()).toBe(false)
    expect(() => new ObservabilityServer({ registry: createMetricsRegistry({ collectProcessMetrics: false }) }, { port: 70_000 })).toThrow(InvalidConfigError)
    expect(AbortError.code).toBe('ABORT_ERR')
  })
})
