// Role "handler": whole cpc-net nodes (NetworkHandler from @cpc/network: libp2p with kad-dht,
// autonat, dcutr, relay transport; channel, connection manager, discovery, scoring, router) in one
// process: P4 (findPeer, cold start), P6 (memory) and, once NetworkConfig exposes the router's
// inbound rate limits and largest payload, P1-P3 and P5 (sendMessage, broadcast, the 'message'
// event). Loaded dynamically, so the bench compiles and its baselines run before @cpc/network is built.
import '@cpc/observability/node-compat'
import crypto from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from '@libp2p/interface'
import { Priority } from '@cpc/protocol'
import { Registry } from 'prom-client'
import { retryOnTimeout, wallMs } from './framing.js'
import { memory, onExit, serve } from './serve.js'

interface MessageDetail {
  peerId: string
  origin: string
  nonce: bigint
  priority: number
  payload: Uint8Array
}

/** The slice of the Router that NetworkHandler.parts exposes and the bench reads (queue depth for pacing). */
interface RouterLike {
  queueDepth(): { high: number; medium: number; low: number }
}

/** The slice of NetworkHandler the bench uses. */
interface Handler extends EventTarget {
  readonly libp2p: Libp2p
  readonly parts: { router: RouterLike }
  start(): Promise<void>
  stop(): Promise<void>
  discoverPeers(target: { peerId: string }, options?: { signal?: AbortSignal }): Promise<unknown[]>
  connectionState(peer: string): number
  sendMessage(peer: string, message: Uint8Array, priority: number): Promise<unknown>
  broadcast(message: Uint8Array, priority: number, scope: { kind: 'all' }): Promise<{ nonce: bigint }>
}

interface HandlerClass {
  create(config: unknown, components?: { registry?: Registry }): Promise<Handler>
}

const CONNECTED = 3 // PeerState.PEER_STATE_CONNECTED
const { HIGH, MEDIUM, LOW } = Priority
const handlers: Handler[] = []

/** What the bench counts on each handler (like roles/cpc.ts's Stack, from the public API and /metrics). */
interface Counters {
  registry?: Registry
  /** (origin/nonce) -> first delivery wall time */
  delivered: Map<string, number>
  dupsDelivered: number
  deliveredCount: number
  lastDeliveryWall: number
  /** Router frames written (cpc_router_batch_frames sum) at the last reset. */
  framesAtReset: number
  waiters: Array<() => void>
  onMessage?: (d: MessageDetail) => void
}
const counters: Counters[] = []

function track(h: Handler, registry?: Registry): Counters {
  const c: Counters = {
    registry,
    delivered: new Map(),
    dupsDelivered: 0,
    deliveredCount: 0,
    lastDeliveryWall: 0,
    framesAtReset: 0,
    waiters: [],
  }
  h.addEventListener('message', (evt) => {
    const d = (evt as CustomEvent<MessageDetail>).detail
    const key = `${d.origin}/${d.nonce}`
    if (c.delivered.has(key)) c.dupsDelivered++
    else c.delivered.set(key, wallMs())
    c.deliveredCount++
    c.lastDeliveryWall = wallMs()
    c.onMessage?.(d)
    for (const w of c.waiters.splice(0)) w()
  })
  return c
}

async function load(): Promise<HandlerClass> {
  const mod = (await import('@cpc/network')) as { NetworkHandler?: HandlerClass }
  if (!mod.NetworkHandler) throw new Error('@cpc/network has no NetworkHandler')
  return mod.NetworkHandler
}

/**
 * A devnet node on 127.0.0.1: private addresses kept in the DHT, DHT server mode, no mDNS; `extra`
 * (the suite's explicit NetworkConfig fields, e.g. router.rateLimits) merged over it, one level deep.
 */
function config(bootstrap: string[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    listen: ['/ip4/127.0.0.1/tcp/0'],
    addressScope: 'private',
    dhtMode: 'server',
    mdns: false,
    bootstrap,
  }
  for (const [k, v] of Object.entries(extra)) {
    const old = base[k]
    base[k] = old && typeof old === 'object' && v && typeof v === 'object' && !Array.isArray(v) ? { ...old, ...v } : v
  }
  return base
}

async function start(args: {
  count: number
  bootstrap?: string[]
  config?: Record<string, unknown>
  metrics?: boolean
}): Promise<Array<{ peerId: string; addrs: string[] }>> {
  const NetworkHandler = await load()
  const created = await Promise.all(
    Array.from({ length: args.count }, async () => {
      // A registry only where a figure needs the router's counters (P5): none is NetworkHandler's default.
      const registry = args.metrics ? new Registry() : undefined
      const h = await NetworkHandler.create(config(args.bootstrap, args.config), registry ? { registry } : {})
      const c = track(h, registry)
      await h.start()
      return { h, c }
    }),
  )
  handlers.push(...created.map((x) => x.h))
  counters.push(...created.map((x) => x.c))
  return created.map(({ h }) => ({ peerId: h.libp2p.peerId.toString(), addrs: h.libp2p.getMultiaddrs().map(String) }))
}

/** Whether this @cpc/network's NetworkConfig accepts `extra` (the fields P1-P3/P5 need). */
async function accepts(args: { config: Record<string, unknown> }): Promise<boolean> {
  try {
    const mod = (await import('@cpc/network')) as { parseConfig?: (c: unknown) => unknown }
    if (!mod.parseConfig) return false
    mod.parseConfig(config([], args.config))
    return true
  } catch {
    return false
  }
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
        await retryOnTimeout(() => handlers[i].libp2p.dial(ma, { signal: AbortSignal.timeout(60_000) }))
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

/**
 * Cold start: create + start a NetworkHandler with one bootstrap peer; time to its first Connected peer.
 * Importing @cpc/network is timed apart (`loadMs`): the bare role's modules load with its process
 * (static imports, in "process spawn"), so counting ours in `connectMs` would compare different things.
 */
async function cold(args: { bootstrap: string; target?: string }): Promise<{ connectMs: number; firstFindMs?: number; loadMs: number }> {
  const tl = performance.now()
  const NetworkHandler = await load()
  const loadMs = performance.now() - tl
  const t0 = performance.now()
  const h = await NetworkHandler.create(config([args.bootstrap]))
  const connected = new Promise<void>((resolve) =>
    h.addEventListener('peer:state', (evt) => {
      if ((evt as CustomEvent<{ to: number }>).detail.to === CONNECTED) resolve()
    }),
  )
  await h.start()
  handlers.push(h)
  counters.push(track(h))
  await Promise.race([
    connected,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no peer Connected in 20 s')), 20_000).unref()),
  ])
  const connectMs = performance.now() - t0
  if (!args.target) return { connectMs, loadMs }
  const t1 = performance.now()
  await h.discoverPeers({ peerId: args.target }, { signal: AbortSignal.timeout(15_000) })
  return { connectMs, firstFindMs: performance.now() - t1, loadMs }
}

function connections(): { perNode: number[] } {
  return { perNode: handlers.map((h) => h.libp2p.getConnections().length) }
}

/** Waits until every listed peer of local handler `node` is Connected in its connection manager. */
async function waitConnected(args: { node: number; peers: string[]; timeoutMs: number }): Promise<boolean> {
  const h = handlers[args.node]
  return until(() => args.peers.every((p) => h.connectionState(p) === CONNECTED), args.timeoutMs)
}

const isShed = (err: unknown): err is Error & { reason?: string } => (err as { code?: string } | undefined)?.code === 'ERR_MESSAGE_SHED'

/** Sends with backpressure on the router's queues: waits while more than `maxQueued` wait, retries sheds. */
async function paced(h: Handler, fn: () => Promise<unknown>, priority: 'high' | 'medium' | 'low', maxQueued: number): Promise<number> {
  let shed = 0
  for (;;) {
    while (h.parts.router.queueDepth()[priority] >= maxQueued) await new Promise((r) => setTimeout(r, 1))
    try {
      await fn()
      return shed
    } catch (err) {
      if (!isShed(err)) throw err
      shed++
      await new Promise((r) => setTimeout(r, 2))
    }
  }
}

/** P1/P2: `count` NetworkHandler.sendMessage calls of `size` random bytes to `to`. */
async function sendMany(args: {
  node: number
  to: string
  count: number
  size: number
  priority: number
  maxQueued?: number
}): Promise<{ startWall: number; shed: number }> {
  const h = handlers[args.node]
  const payload = crypto.randomBytes(args.size)
  const label = args.priority === HIGH ? 'high' : args.priority === LOW ? 'low' : 'medium'
  let shed = 0
  const startWall = wallMs()
  for (let i = 0; i < args.count; i++) {
    shed += await paced(h, () => h.sendMessage(args.to, payload, args.priority), label, args.maxQueued ?? 1024)
    if (i % 64 === 63) await new Promise((r) => setImmediate(r))
  }
  return { startWall, shed }
}

async function waitDelivered(args: { node: number; count: number; timeoutMs: number }): Promise<{ delivered: number; lastWall: number }> {
  const c = counters[args.node]
  await until(() => c.deliveredCount >= args.count, args.timeoutMs)
  return { delivered: c.deliveredCount, lastWall: c.lastDeliveryWall }
}

/** Router frames written so far: the sum of cpc_router_batch_frames (needs start with metrics). */
async function routerFrames(c: Counters): Promise<number> {
  const m = c.registry?.getSingleMetric('cpc_router_batch_frames') as
    { get(): Promise<{ values: Array<{ metricName?: string; value: number }> }> } | undefined
  if (!m) return 0
  return (await m.get()).values.find((v) => v.metricName === 'cpc_router_batch_frames_sum')?.value ?? 0
}

async function reset(): Promise<void> {
  for (const c of counters) {
    c.delivered.clear()
    c.dupsDelivered = 0
    c.deliveredCount = 0
    c.framesAtReset = await routerFrames(c)
  }
}

function echoHigh(args: { node: number }): void {
  const h = handlers[args.node]
  counters[args.node].onMessage = (d) => {
    if (d.priority === HIGH) void h.sendMessage(d.peerId, d.payload, HIGH).catch(() => {})
  }
}

/** P3 sender: HIGH 256 B probes through sendMessage while a LOW flood keeps `floodBytes` queued (see roles/cpc.ts). */
async function probe(args: {
  node: number
  to: string
  probes: number
  probeIntervalMs: number
  floodBytes: number
  lowSize: number
}): Promise<{ rttMs: number[]; lowMBps: number; shed: number; shedReasons: Record<string, number>; loopP99Ms: number; loopMaxMs: number }> {
  const h = handlers[args.node]
  const c = counters[args.node]
  const sentAt = new Map<number, number>()
  const rtts: number[] = []
  c.onMessage = (d) => {
    if (d.priority !== HIGH) return
    const seq = new DataView(d.payload.buffer, d.payload.byteOffset).getUint32(0)
    const t = sentAt.get(seq)
    if (t !== undefined) rtts.push(wallMs() - t)
  }
  let flooding = args.floodBytes > 0
  let lowSent = 0
  let shed = 0
  const shedReasons: Record<string, number> = {}
  const low = crypto.randomBytes(args.lowSize)
  const maxLow = Math.max(1, Math.floor(args.floodBytes / args.lowSize))
  const flood = (async () => {
    while (flooding) {
      if (h.parts.router.queueDepth().low >= maxLow) {
        await new Promise((r) => setTimeout(r, 1))
        continue
      }
      try {
        await h.sendMessage(args.to, low, LOW)
        lowSent += low.byteLength
      } catch (err) {
        if (!isShed(err)) throw err
        shed++
        shedReasons[err.reason ?? '?'] = (shedReasons[err.reason ?? '?'] ?? 0) + 1
        await new Promise((r) => setTimeout(r, 1))
      }
      // Yield after every message, as an app feeding a flood from I/O would.
      await new Promise((r) => setImmediate(r))
    }
  })()
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  if (flooding) await new Promise((r) => setTimeout(r, 300))
  const lowAtStart = lowSent
  const t0 = performance.now()
  for (let seq = 0; seq < args.probes; seq++) {
    const body = new Uint8Array(256)
    new DataView(body.buffer).setUint32(0, seq)
    sentAt.set(seq, wallMs())
    await h.sendMessage(args.to, body, HIGH)
    await new Promise((r) => setTimeout(r, args.probeIntervalMs))
  }
  await until(() => rtts.length >= args.probes, 10_000)
  const lowMBps = (lowSent - lowAtStart) / 1e6 / ((performance.now() - t0) / 1000)
  flooding = false
  await flood
  loop.disable()
  c.onMessage = undefined
  return { rttMs: rtts, lowMBps, shed, shedReasons, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 }
}

/** P5: `count` NetworkHandler.broadcast calls (scope all, MEDIUM) from local handler `node`. */
async function broadcast(args: {
  node: number
  count: number
  size: number
  intervalMs: number
}): Promise<{ sentAt: Record<string, number> }> {
  const h = handlers[args.node]
  const self = h.libp2p.peerId.toString()
  const sentAt: Record<string, number> = {}
  for (let i = 0; i < args.count; i++) {
    const t = wallMs()
    const r = await h.broadcast(crypto.randomBytes(args.size), MEDIUM, { kind: 'all' })
    sentAt[`${self}/${r.nonce}`] = t
    if (args.intervalMs > 0) await new Promise((r) => setTimeout(r, args.intervalMs))
  }
  return { sentAt }
}

/** Router drops by reason/priority (cpc_router_dropped_total; needs start with metrics). */
async function drops(c: Counters): Promise<Record<string, number>> {
  const m = c.registry?.getSingleMetric('cpc_router_dropped_total') as
    { get(): Promise<{ values: Array<{ labels: Record<string, string | number>; value: number }> }> } | undefined
  const out: Record<string, number> = {}
  if (!m) return out
  for (const v of (await m.get()).values) {
    const key = `${String(v.labels.reason)}/${String(v.labels.priority)}`
    out[key] = (out[key] ?? 0) + v.value
  }
  return out
}

async function stats(): Promise<
  Array<{
    delivered: Record<string, number>
    dupsDelivered: number
    framesSent: number
    drops: Record<string, number>
    inboundMs: number[]
    connections: number
    peers: string[]
  }>
> {
  return Promise.all(
    counters.map(async (c, i) => ({
      delivered: Object.fromEntries(c.delivered),
      dupsDelivered: c.dupsDelivered,
      framesSent: (await routerFrames(c)) - c.framesAtReset,
      drops: await drops(c),
      inboundMs: [],
      connections: handlers[i].libp2p.getConnections().length,
      peers: [...new Set(handlers[i].libp2p.getConnections().map((c) => c.remotePeer.toString()))],
    })),
  )
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
  accepts: (a) => accepts(a as never),
  'wait-connected': (a) => waitConnected(a as never),
  'send-many': (a) => sendMany(a as never),
  'wait-delivered': (a) => waitDelivered(a as never),
  'echo-high': (a) => echoHigh(a as never),
  probe: (a) => probe(a as never),
  broadcast: (a) => broadcast(a as never),
  stats: () => stats(),
  reset: () => reset(),
})
