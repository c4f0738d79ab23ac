import { afterEach, describe, expect, it } from '@jest/globals'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { Counter, register as globalRegister } from 'prom-client'
import type { Registry } from 'prom-client'
import { ObservabilityServer, createMetricsRegistry, familiesInExposition, isLibp2pFamily, libp2pMetrics } from '../src/index.js'

const nodes: Libp2p[] = []
const servers: ObservabilityServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})

async function node(registry: Registry): Promise<Libp2p> {
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: libp2pMetrics(registry),
  })
  nodes.push(n)
  return n
}

async function scrape(registry: Registry): Promise<string> {
  const server = new ObservabilityServer({ registry })
  servers.push(server)
  const { url } = await server.start()
  const res = await fetch(`${url}/metrics`)
  expect(res.status).toBe(200)
  return res.text()
}

describe('createMetricsRegistry', () => {
  it('returns a fresh registry, never the global one, with cpc_-prefixed process metrics', async () => {
    const a = createMetricsRegistry()
    const b = createMetricsRegistry()
    expect(a).not.toBe(globalRegister)
    expect(a).not.toBe(b)
    const families = familiesInExposition(await a.metrics())
    expect(families).toContain('cpc_process_cpu_seconds_total')
    expect(families).toContain('cpc_process_resident_memory_bytes')
    expect(families).toContain('cpc_nodejs_eventloop_lag_seconds')
    expect([...families].every((name) => name.startsWith('cpc_'))).toBe(true)
    expect(await globalRegister.metrics()).not.toContain('cpc_process_cpu_seconds_total')
  })

  it('honours prefix, defaultLabels and collectProcessMetrics: false', async () => {
    const custom = createMetricsRegistry({ prefix: 'app_', defaultLabels: { node: 'n1' } })
    const text = await custom.metrics()
    expect(text).toMatch(/^app_process_cpu_user_seconds_total\{node="n1"\} /m)

    const bare = createMetricsRegistry({ collectProcessMetrics: false, defaultLabels: { node: 'n2' } })
    expect((await bare.metrics()).trim()).toBe('')
    new Counter({ name: 'cpc_x_total', help: 'x', registers: [bare] }).inc()
    expect(await bare.metrics()).toContain('cpc_x_total{node="n2"} 1')
  })
})

describe('libp2pMetrics', () => {
  it("puts a real libp2p node's libp2p_ families on the registry, served by /metrics", async () => {
    const registry = createMetricsRegistry()
    const a = await node(registry)
    const b = await node(createMetricsRegistry({ collectProcessMetrics: false }))
    await a.dial(b.getMultiaddrs()[0])

    const text = await scrape(registry)
    const families = familiesInExposition(text)
    const libp2p = [...families].filter((name) => name.startsWith('libp2p_'))
    expect(libp2p.length).toBeGreaterThan(10)
    expect(families).toContain('libp2p_data_transfer_bytes_total')
    expect(text).toMatch(/^libp2p_data_transfer_bytes_total\{protocol="global sent"\} [1-9]\d*/m)
    // Process metrics come once, from createMetricsRegistry (libp2p's default collection is off).
    expect(families).toContain('cpc_process_cpu_seconds_total')
    expect(families).not.toContain('process_cpu_seconds_total')
  })

  it('gives two nodes in one process their own registries', async () => {
    const ra = createMetricsRegistry({ collectProcessMetrics: false })
    const rb = createMetricsRegistry({ collectProcessMetrics: false })
    const a = await node(ra)
    const b = await node(rb)
    await a.dial(b.getMultiaddrs()[0])
    const fa = [...familiesInExposition(await ra.metrics())].filter(isLibp2pFamily)
    const fb = [...familiesInExposition(await rb.metrics())].filter(isLibp2pFamily)
    expect(fa.length).toBeGreaterThan(10)
    expect(fb.sort()).toEqual(fa.sort())
  })

  it('lets a node be re-created on the same registry (restart in process) without a duplicate-registration error', async () => {
    const registry = createMetricsRegistry({ collectProcessMetrics: false })
    const first = await node(registry)
    await first.stop()
    const second = await node(registry)
    expect(second.status).toBe('started')
    expect(familiesInExposition(await registry.metrics())).toContain('libp2p_data_transfer_bytes_total')
  })
})
