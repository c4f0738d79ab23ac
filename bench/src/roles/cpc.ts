// Role "cpc": cpc-net nodes in one process. Each stack is what NetworkHandler composes for messaging
// (packages/network/src/components.ts): a libp2p node, CpcChannel, ConnectionManager, Outbox and
// Router, with the Router's defaults except where a figure cannot be measured under them (the init
// the runner passes: inbound rate limits and the largest payload; see docs/benchmarks.md). The libp2p
// node is the same tcp+noise+yamux+identify+ping node as the bare baselines, so ratios compare the
// layers above it. A 'channel' stack has only the libp2p node and CpcChannel (P2 CONTROL frames).
import '@cpc/observability/node-compat'
import crypto from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { ConnectionManager, CpcChannel } from '@cpc/connection-manager'
import { CpcMessage, MessageSigner, MessageType, MessageVerifier, NonceGenerator, PeerState, Priority, encodeFrame } from '@cpc/protocol'
import { MessageShedError, Outbox, Router, createRouterMetrics, type RouterInit, type RouterMetrics } from '@cpc/router'
import { Registry } from 'prom-client'
import { createBareNode } from './bare-node.js'
import { retryOnTimeout, wallMs } from './framing.js'
import { memory, onExit, serve } from './serve.js'

interface Delivered {
  origin: string
  nonce: bigint
  priority: number
  payload: Uint8Array
  from: string
}

interface Stack {
  libp2p: Libp2p
  channel: CpcChannel
  cm?: ConnectionManager
  router?: Router
  outbox?: Outbox
  temp?: string
  /** Frames handed to channel.send (transmissions). */
  framesSent: number
  /** (origin/nonce) → first delivery wall time. */
  delivered: Map<string, number>
  dupsDelivered: number
  deliveredCount: number
  deliveredBytes: number
  lastDeliveryWall: number
  channelMessages: number
  waiters: Array<() => void>
  metrics?: RouterMetrics
  /** nonce → first time the channel decoded an EVENT with it (to split a hop into wire and router time). */
  arrivals: Map<string, number>
  /** Channel arrival → Router delivery, ms, per delivered message. */
  inboundMs: number[]
  onMessage?: (d: Delivered) => void
}

const stacks: Stack[] = []

async function build(kind: 'router' | 'channel', init: RouterInit, maxStreamWindow?: number, withMetrics = false): Promise<Stack> {
  const privateKey = await generateKeyPair('Ed25519')
  const libp2p = await createBareNode({ privateKey, maxStreamWindow })
  const channel = new CpcChannel({ libp2p: libp2p as never }, init.maxFrameBytes === undefined ? {} : { maxFrameBytes: init.maxFrameBytes })
  const s: Stack = {
    libp2p,
    channel,
    framesSent: 0,
    delivered: new Map(),
    dupsDelivered: 0,
    deliveredCount: 0,
    deliveredBytes: 0,
    lastDeliveryWall: 0,
    channelMessages: 0,
    waiters: [],
    arrivals: new Map(),
    inboundMs: [],
  }
  // Count transmissions at the one place every outbound frame passes.
  const send = channel.send.bind(channel)
  channel.send = (peer, frames, options) => {
    s.framesSent += Array.isArray(frames) ? frames.length : 1
    return send(peer, frames, options)
  }
  // P2.ctl counts frames where a high-rate consumer receives them: a direct CONTROL handler, when the
  // channel has them (BENCH_CHANNEL_EVENTS=1: a 'message' listener instead, as before).
  const direct = kind === 'channel' && typeof channel.addMessageHandler === 'function' && process.env.BENCH_CHANNEL_EVENTS !== '1'
  if (direct) {
    channel.addMessageHandler(MessageType.CONTROL, () => {
      s.channelMessages++
      for (const w of s.waiters.splice(0)) w()
    })
  } else {
    channel.addEventListener('message', (evt) => {
      s.channelMessages++
      const m = evt.detail.message
      if (kind === 'router' && m.messageType === MessageType.EVENT && !s.arrivals.has(String(m.nonce)))
        s.arrivals.set(String(m.nonce), wallMs())
      if (kind === 'channel') for (const w of s.waiters.splice(0)) w()
    })
  }
  await channel.start()
  if (kind === 'router') {
    const signer = new MessageSigner(privateKey)
    const verifier = new MessageVerifier()
    const nonces = new NonceGenerator()
    const cm = new ConnectionManager({ libp2p: libp2p as never, channel, signer, verifier, nonces })
    s.temp = await mkdtemp(path.join(tmpdir(), 'cpc-bench-outbox-'))
    const outbox = new Outbox({}, { location: s.temp })
    await outbox.open()
    await cm.start()
    // Metrics only where a figure needs them (P5 counts drops): NetworkHandler has none without a registry.
    const metrics = withMetrics ? createRouterMetrics(new Registry()) : undefined
    s.metrics = metrics
    const router = new Router({ peerId: libp2p.peerId, channel, connectionManager: cm, signer, verifier, nonces, outbox, metrics }, init)
    router.addEventListener('message', (evt) => {
      const d = evt.detail as unknown as Delivered
      const key = `${d.origin}/${d.nonce}`
      if (s.delivered.has(key)) s.dupsDelivered++
      else s.delivered.set(key, wallMs())
      s.deliveredCount++
      s.deliveredBytes += d.payload.byteLength
      s.lastDeliveryWall = wallMs()
      const arrived = s.arrivals.get(String(d.nonce))
      if (arrived !== undefined) s.inboundMs.push(s.lastDeliveryWall - arrived)
      s.onMessage?.(d)
      for (const w of s.waiters.splice(0)) w()
    })
    await router.start()
    Object.assign(s, { cm, router, outbox })
  }
  return s
}

async function start(args: {
  count: number
  kind?: 'router' | 'channel'
  init?: RouterInit
  maxStreamWindow?: number
  metrics?: boolean
}): Promise<Array<{ peerId: string; addrs: string[] }>> {
  const created = await Promise.all(
    Array.from({ length: args.count }, () => build(args.kind ?? 'router', args.init ?? {}, args.maxStreamWindow, args.metrics)),
  )
  stacks.push(...created)
  return created.map((s) => ({ peerId: s.libp2p.peerId.toString(), addrs: s.libp2p.getMultiaddrs().map(String) }))
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 10))
  }
  return true
}

/**
 * Dials [local index, remote address] pairs, `concurrency` at a time, each until the connection
 * manager says Connected.
 */
async function dial(args: { edges: Array<[number, string]>; concurrency?: number }): Promise<{ ms: number }> {
  const t0 = performance.now()
  const todo = [...args.edges]
  const worker = async () => {
    for (let e = todo.shift(); e; e = todo.shift()) {
      const [i, addr] = e
      const ma = multiaddr(addr)
      const s = stacks[i]
      await retryOnTimeout(() => s.libp2p.dial(ma, { signal: AbortSignal.timeout(30_000) }))
      const peer = peerIdFromString(ma.getComponents().findLast((c) => c.name === 'p2p')!.value!)
      if (s.cm && !(await until(() => s.cm!.state(peer) === PeerState.PEER_STATE_CONNECTED, 15_000)))
        throw new Error(`not Connected to ${peer} after 15 s`)
    }
  }
  await Promise.all(Array.from({ length: args.concurrency ?? args.edges.length }, worker))
  return { ms: performance.now() - t0 }
}

/** Waits until every listed peer of local stack `node` is Connected in its connection manager (inbound side). */
async function waitConnected(args: { node: number; peers: string[]; timeoutMs: number }): Promise<boolean> {
  const s = stacks[args.node]
  return until(() => args.peers.every((p) => s.cm?.state(peerIdFromString(p)) === PeerState.PEER_STATE_CONNECTED), args.timeoutMs)
}

/** Sends with backpressure on the router's queues: waits while more than `maxQueued` wait, retries sheds. */
async function paced(s: Stack, fn: () => Promise<unknown>, priority: 'high' | 'medium' | 'low', maxQueued: number): Promise<number> {
  let shed = 0
  for (;;) {
    while (s.router!.queueDepth()[priority] >= maxQueued) await new Promise((r) => setTimeout(r, 1))
    try {
      await fn()
      return shed
    } catch (err) {
      if (!(err instanceof MessageShedError)) throw err
      shed++
      await new Promise((r) => setTimeout(r, 2))
    }
  }
}

/** P1/P2: `count` EVENTs of `size` random bytes to `to`; returns the wall time of the first send. */
async function sendMany(args: {
  node: number
  to: string
  count: number
  size: number
  priority: number
  maxQueued?: number
}): Promise<{ startWall: number; shed: number }> {
  const s = stacks[args.node]
  const peer = peerIdFromString(args.to)
  const payload = crypto.randomBytes(args.size)
  const label = args.priority === Priority.HIGH ? 'high' : args.priority === Priority.LOW ? 'low' : 'medium'
  let shed = 0
  const startWall = wallMs()
  for (let i = 0; i < args.count; i++) {
    shed += await paced(s, () => s.router!.send(peer, payload, { priority: args.priority as Priority }), label, args.maxQueued ?? 1024)
    // Let the writer and socket run now and then: a tight loop of resolved promises starves I/O.
    if (i % 64 === 63) await new Promise((r) => setImmediate(r))
  }
  return { startWall, shed }
}

/** Waits until local stack `node` has delivered `count` messages (or the timeout); returns the last delivery time. */
async function waitDelivered(args: {
  node: number
  count: number
  timeoutMs: number
  channel?: boolean
}): Promise<{ delivered: number; lastWall: number }> {
  const s = stacks[args.node]
  const n = () => (args.channel ? s.channelMessages : s.deliveredCount)
  await until(() => n() >= args.count, args.timeoutMs)
  return { delivered: n(), lastWall: args.channel ? wallMs() : s.lastDeliveryWall }
}

function reset(): void {
  for (const s of stacks) {
    s.delivered.clear()
    s.dupsDelivered = 0
    s.deliveredCount = 0
    s.deliveredBytes = 0
    s.channelMessages = 0
    s.framesSent = 0
    s.arrivals.clear()
    s.inboundMs = []
  }
}

/** P2 CONTROL: unsigned 256 B CONTROL frames through CpcChannel, `batch` frames per send(). */
async function channelSend(args: {
  node: number
  to: string
  count: number
  batch: number
}): Promise<{ startWall: number; endWall: number }> {
  const s = stacks[args.node]
  const peer = peerIdFromString(args.to)
  const frame = encodeFrame(
    CpcMessage.fromPartial({
      priority: Priority.MEDIUM,
      messageType: MessageType.CONTROL,
      payload: crypto.randomBytes(256),
      timestampMs: BigInt(Date.now()),
    }),
  )
  const startWall = wallMs()
  for (let sent = 0; sent < args.count; sent += args.batch) {
    await s.channel.send(
      peer,
      Array.from({ length: Math.min(args.batch, args.count - sent) }, () => frame),
    )
  }
  return { startWall, endWall: wallMs() }
}

/** P3 receiver: echo every HIGH message back to its sender at HIGH. */
function echoHigh(args: { node: number }): void {
  const s = stacks[args.node]
  s.onMessage = (d) => {
    if (d.priority === Priority.HIGH) void s.router!.send(peerIdFromString(d.from), d.payload, { priority: Priority.HIGH }).catch(() => {})
  }
}

/**
 * P3 sender: HIGH 256 B probes through the Router while (optionally) a LOW flood of 16 KiB messages
 * keeps `floodBytes` queued for the same peer. RTT = probe sent → its echo delivered.
 */
async function probe(args: {
  node: number
  to: string
  probes: number
  probeIntervalMs: number
  floodBytes: number
  lowSize: number
}): Promise<{ rttMs: number[]; lowMBps: number; shed: number; shedReasons: Record<string, number>; loopP99Ms: number; loopMaxMs: number }> {
  const s = stacks[args.node]
  const peer = peerIdFromString(args.to)
  const sentAt = new Map<number, number>()
  const rtts: number[] = []
  s.onMessage = (d) => {
    if (d.priority !== Priority.HIGH) return
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
      if (s.router!.queueDepth().low >= maxLow) {
        await new Promise((r) => setTimeout(r, 1))
        continue
      }
      try {
        await s.router!.send(peer, low, { priority: Priority.LOW })
        lowSent += low.byteLength
      } catch (err) {
        if (!(err instanceof MessageShedError)) throw err
        shed++
        shedReasons[err.reason] = (shedReasons[err.reason] ?? 0) + 1
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
    await s.router!.send(peer, body, { priority: Priority.HIGH })
    await new Promise((r) => setTimeout(r, args.probeIntervalMs))
  }
  await until(() => rtts.length >= args.probes, 10_000)
  const lowMBps = (lowSent - lowAtStart) / 1e6 / ((performance.now() - t0) / 1000)
  flooding = false
  await flood
  loop.disable()
  s.onMessage = undefined
  return { rttMs: rtts, lowMBps, shed, shedReasons, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6 }
}

/** P5: broadcast `count` messages (scope all) from local stack `node`. */
async function broadcast(args: {
  node: number
  count: number
  size: number
  intervalMs: number
}): Promise<{ sentAt: Record<string, number> }> {
  const s = stacks[args.node]
  const self = s.libp2p.peerId.toString()
  const sentAt: Record<string, number> = {}
  for (let i = 0; i < args.count; i++) {
    const t = wallMs()
    const r = await s.router!.broadcast(crypto.randomBytes(args.size), { priority: Priority.MEDIUM, scope: { kind: 'all' } })
    sentAt[`${self}/${r.nonce}`] = t
    if (args.intervalMs > 0) await new Promise((r) => setTimeout(r, args.intervalMs))
  }
  return { sentAt }
}

/** Router drops by reason (needs start with metrics: true). */
async function drops(s: Stack): Promise<Record<string, number>> {
  if (!s.metrics) return {}
  const out: Record<string, number> = {}
  for (const v of (await s.metrics.dropped.get()).values) {
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
    stacks.map(async (s) => ({
      delivered: Object.fromEntries(s.delivered),
      dupsDelivered: s.dupsDelivered,
      framesSent: s.framesSent,
      drops: await drops(s),
      inboundMs: s.inboundMs,
      connections: s.libp2p.getConnections().length,
      peers: [...new Set(s.libp2p.getConnections().map((c) => c.remotePeer.toString()))],
    })),
  )
}

async function stopStack(s: Stack): Promise<void> {
  await s.router?.stop().catch(() => {})
  await Promise.resolve(s.cm?.stop()).catch(() => {})
  await Promise.resolve(s.channel.stop()).catch(() => {})
  await Promise.resolve(s.libp2p.stop()).catch(() => {})
  await s.outbox?.close().catch(() => {})
  if (s.temp) await rm(s.temp, { recursive: true, force: true })
}

onExit(async () => {
  await Promise.all(stacks.map(stopStack))
})

serve({
  start: (a) => start(a as never),
  dial: (a) => dial(a as never),
  'wait-connected': (a) => waitConnected(a as never),
  'send-many': (a) => sendMany(a as never),
  'wait-delivered': (a) => waitDelivered(a as never),
  'channel-send': (a) => channelSend(a as never),
  'echo-high': (a) => echoHigh(a as never),
  probe: (a) => probe(a as never),
  broadcast: (a) => broadcast(a as never),
  stats: () => stats(),
  reset: () => reset(),
  memory: () => memory(),
})
