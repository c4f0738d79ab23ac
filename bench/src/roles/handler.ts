// Role "handler": whole cpc-net nodes (NetworkHandler from @cpc/network: libp2p with kad-dht,
// autonat, dcutr, relay transport; channel, connection manager, discovery, scoring, router) in one
// process, for P4 (findPeer, cold start) and P6 (memory). Loaded dynamically, so the bench compiles
// and its baselines run before @cpc/network is built.
import '@cpc/observability/node-compat'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'
import { memory, onExit, serve } from './serve.js'

/** The slice of NetworkHandler the bench uses. */
interface Handler extends EventTarget {
  readonly libp2p: Libp2p
  start(): Promise<void>
  stop(): Promise<void>
  discoverPeers(target: { peerId: string }, options?: { signal?: AbortSignal }): Promise<unknown[]>
  connectionState(peer: string): number
}

interface HandlerClass {
  create(config: unknown): Promise<Handler>
}

const CONNECTED = 3 // PeerState.PEER_STATE_CONNECTED
const handlers: Handler[] = []

async function load(): Promise<HandlerClass> {
  const mod = (await import('@cpc/network')) as { NetworkHandler?: HandlerClass }
  if (!mod.NetworkHandler) throw new Error('@cpc/network has no NetworkHandler')
  return mod.NetworkHandler
}

/** A devnet node on 127.0.0.1: private addresses kept in the DHT, DHT server mode, no mDNS. */
function config(bootstrap: string[] = []): Record<string, unknown> {
  return { listen: ['/ip4/127.0.0.1/tcp/0'], addressScope: 'private', dhtMode: 'server', mdns: false, bootstrap }
}

async function start(args: { count: number; bootstrap?: string[] }): Promise<Array<{ peerId: string; addrs: string[] }>> {
  const NetworkHandler = await load()
  const created = await Promise.all(
    Array.from({ length: args.count }, async () => {
      const h = await NetworkHandler.create(config(args.bootstrap))
      await h.start()
      return h
    }),
  )
  handlers.push(...created)
  return created.map((h) => ({ peerId: h.libp2p.peerId.toString(), addrs: h.libp2p.getMultiaddrs().map(String) }))
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 10))
  }
  return true
}

/** Dials [local index, address] pairs, `concurrency` at a time (default 8), each until Connected. */
async function dial(args: {
  edges: Array<[number, string]>
  concurrency?: number
  tolerant?: boolean
}): Promise<{ ms: number; failed: number }> {
  const t0 = performance.now()
  const todo = [...args.edges]
  let failed = 0
  const worker = async () => {
    for (let e = todo.shift(); e; e = todo.shift()) {
      const [i, addr] = e
      const ma = multiaddr(addr)
      try {
        await handlers[i].libp2p.dial(ma, { signal: AbortSignal.timeout(60_000) })
        const peer = ma.getComponents().findLast((c) => c.name === 'p2p')!.value!
        await until(() => handlers[i].connectionState(peer) === CONNECTED, 15_000)
      } catch (err) {
        // Memory runs (P6) only need most edges up; lookups (P4) need all of them.
        if (!args.tolerant) throw err
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: args.concurrency ?? 8 }, worker))
  return { ms: performance.now() - t0, failed }
}

interface DhtLike {
  routingTable: { size: number }
}

async function dhtWait(args: { min: number; timeoutMs: number }): Promise<{ sizes: number[] }> {
  const sizes = () => handlers.map((h) => (h.libp2p.services as { dht?: DhtLike }).dht?.routingTable.size ?? 0)
  await until(() => sizes().every((s) => s >= args.min), args.timeoutMs)
  return { sizes: sizes() }
}

/** NetworkHandler.discoverPeers({ peerId }) for each target, in turn. */
async function findPeer(args: { node: number; targets: string[] }): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = []
  let failed = 0
  for (const t of args.targets) {
    const t0 = performance.now()
    try {
      const found = await handlers[args.node].discoverPeers({ peerId: t }, { signal: AbortSignal.timeout(10_000) })
      if (found.length === 0) throw new Error('not found')
      ms.push(performance.now() - t0)
    } catch {
      failed++
    }
  }
  return { ms, failed }
}

/** Cold start: create + start a NetworkHandler with one bootstrap peer; time to its first Connected peer. */
async function cold(args: { bootstrap: string; target?: string }): Promise<{ connectMs: number; firstFindMs?: number }> {
  const t0 = performance.now()
  const NetworkHandler = await load()
  const h = await NetworkHandler.create(config([args.bootstrap]))
  const connected = new Promise<void>((resolve) =>
    h.addEventListener('peer:state', (evt) => {
      if ((evt as CustomEvent<{ to: number }>).detail.to === CONNECTED) resolve()
    }),
  )
  await h.start()
  handlers.push(h)
  await Promise.race([
    connected,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no peer Connected in 20 s')), 20_000).unref()),
  ])
  const connectMs = performance.now() - t0
  if (!args.target) return { connectMs }
  const t1 = performance.now()
  await h.discoverPeers({ peerId: args.target }, { signal: AbortSignal.timeout(15_000) })
  return { connectMs, firstFindMs: performance.now() - t1 }
}

function connections(): { perNode: number[] } {
  return { perNode: handlers.map((h) => h.libp2p.getConnections().length) }
}

onExit(async () => {
  await Promise.all(handlers.map((h) => h.stop().catch(() => {})))
})

serve({
  available: async () => {
    try {
      await load()
      return true
    } catch {
      return false
    }
  },
  load: async () => {
    await load()
    return true
  },
  start: (a) => start(a as never),
  dial: (a) => dial(a as never),
  'dht-wait': (a) => dhtWait(a as never),
  'find-peer': (a) => findPeer(a as never),
  cold: (a) => cold(a as never),
  connections: () => connections(),
  memory: () => memory(),
})
