// Injected components: one prom-client registry per node carries the cpc_* families of every part
// and libp2p's own; a tracer gets the router's spans; a logger gets structured lines.
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from '@jest/globals'
import { createLogger, createMetricsRegistry, createTracer } from '@cpc/observability'
import { PeerState, Priority } from '@cpc/protocol'
import { waitForEvent } from './helpers/events.js'
import { Handlers, addressOf } from './helpers/handlers.js'

const handlers = new Handlers()
afterEach(async () => handlers.stopAll())

describe('NetworkHandler with registry, tracer and logger', () => {
  it('puts every component metric and libp2p metric on the registry', async () => {
    const registry = createMetricsRegistry({ collectProcessMetrics: false })
    const tracing = createTracer({ serviceName: 'cpc-network-test', exporter: 'memory' })
    const lines: string[] = []
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString())
          cb()
        },
      }),
    })
    const a = await handlers.started({}, { registry, tracer: tracing.tracer, logger })
    const b = await handlers.create({ bootstrap: [addressOf(a)] })
    const connected = waitForEvent(a, 'peer:state', (d: { peerId: string; to: PeerState }) => d.peerId === b.peerId.toString() && d.to === PeerState.PEER_STATE_CONNECTED)
    await b.start()
    await connected
    const got = waitForEvent(b, 'message')
    await a.sendMessage(b.peerId, new Uint8Array([1]), Priority.HIGH)
    await got

    const names = new Set((await registry.getMetricsAsJSON()).map((m) => m.name))
    for (const prefix of ['cpc_router_', 'cpc_connection_manager_', 'cpc_discovery_', 'cpc_scor', 'libp2p_']) {
      expect([...names].some((n) => n.startsWith(prefix))).toBe(true)
    }
    expect(lines.some((l) => l.includes('network started'))).toBe(true)
    await tracing.forceFlush()
    expect(tracing.memoryExporter?.getFinishedSpans().length).toBeGreaterThan(0)
    await a.stop()
    await tracing.shutdown()
  })
})
