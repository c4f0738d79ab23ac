// Role "mesh": several bare libp2p nodes in one process, one part of a multi-process network. The
// runner spreads N nodes over a few of these, hands each the edges to dial, then runs a flooding
// broadcast or real gossipsub (P5 baselines), kad-dht lookups (P4 context) or memory readings (P6).
import '@cpc/observability/node-compat'
import crypto from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { GossipSub, GossipsubOpts, Message } from '@libp2p/gossipsub'
import type { Libp2p, Stream } from '@libp2p/interface'
import { createBareNode, send, toBytes } from './bare-node.js'
import { Decoder, frame, retryOnTimeout, wallMs } from './framing.js'
import { memory, onExit, serve } from './serve.js'

const FLOOD = '/bench/flood/1.0.0'

interface Neighbor {
  stream: Stream
  chain: Promise<void>
}

/** One node's flooding state: the classic floodsub algorithm (seen-cache, forward to all but sender). */
interface Flood {
  neighbors: Map<string, Neighbor>
  seen: Set<number>
  delivered: Map<number, number>
  dupsReceived: number
  framesSent: number
}

const nodes: Libp2p[] = []
const floods: Flood[] = []

/** The topic every gossipsub node subscribes to (P5 baseline). */
export const GS_TOPIC = 'cpc-bench-p5'

/** One gossipsub node's counters, read straight off the router (no app-level forwarding). */
interface Gossip {
  pubsub: GossipSub
  /** message id (first 4 bytes of data) -> first app delivery wall time */
  delivered: Map<number, number>
  /** app deliveries of an id already delivered (gossipsub dedups by msg id, so 0 expected) */
  dupsDelivered: number
  /** every message copy that reached handleReceivedMessage (first copies + duplicates) */
  received: number
  /** RPCs written to a peer's outbound stream (messages, IDONTWANT, IHAVE/IWANT, GRAFT/PRUNE, subscriptions) */
  rpcs: number
  /** of those, RPCs that carry at least one message */
  dataRpcs: number
}
const gossips: Gossip[] = []

interface GossipInternals {
  sendRpc(id: string, rpc: { messages?: unknown[] }): boolean
  sendRpcInBatch(tosend: Set<string>, rpc: { messages?: unknown[] }): void
  handleReceivedMessage(from: unknown, rpcMsg: unknown): Promise<void>
}

/**
 * Counts transmissions where gossipsub writes them: sendRpc (one RPC to one peer, after piggybacked
 * control is merged) and sendRpcInBatch (one encoded RPC pushed to each peer of a set; failed peers
 * are removed from the set), the two methods that call OutboundStream.push/pushPrefixed.
 */
function instrument(g: Gossip): void {
  const gs = g.pubsub as unknown as GossipInternals
  const sendRpc = gs.sendRpc.bind(gs)
  gs.sendRpc = (id, rpc) => {
    const ok = sendRpc(id, rpc)
    if (ok) {
      g.rpcs++
      if (rpc.messages?.length) g.dataRpcs++
    }
    return ok
  }
  const inBatch = gs.sendRpcInBatch.bind(gs)
  gs.sendRpcInBatch = (tosend, rpc) => {
    inBatch(tosend, rpc)
    g.rpcs += tosend.size
    if (rpc.messages?.length) g.dataRpcs += tosend.size
  }
  const received = gs.handleReceivedMessage.bind(gs)
  gs.handleReceivedMessage = (from, rpcMsg) => {
    g.received++
    return received(from, rpcMsg)
  }
  g.pubsub.addEventListener('message', (evt) => {
    const m: Message = evt.detail
    if (m.topic !== GS_TOPIC || m.data.byteLength < 4) return
    const id = new DataView(m.data.buffer, m.data.byteOffset).getUint32(0)
    if (g.delivered.has(id)) g.dupsDelivered++
    else g.delivered.set(id, wallMs())
  })
}

function forward(f: Flood, buf: Uint8Array, except?: string): void {
  for (const [peer, n] of f.neighbors) {
    if (peer === except) continue
    f.framesSent++
    n.chain = n.chain.then(() => send(n.stream, buf)).catch(() => {})
  }
}

function onFlood(f: Flood, from: string, body: Uint8Array): void {
  const id = new DataView(body.buffer, body.byteOffset).getUint32(0)
  if (f.seen.has(id)) {
    f.dupsReceived++
    return
  }
  f.seen.add(id)
  f.delivered.set(id, wallMs())
  forward(f, frame(body.slice()), from)
}

async function start(args: {
  count: number
  dht?: boolean
  gossipsub?: Partial<GossipsubOpts>
}): Promise<Array<{ peerId: string; addrs: string[] }>> {
  const created = await Promise.all(Array.from({ length: args.count }, () => createBareNode({ dht: args.dht, gossipsub: args.gossipsub })))
  for (const node of created) {
    if (args.gossipsub) {
      // Subscribed before any dial, so subscriptions travel with the first RPC of every stream.
      const g: Gossip = {
        pubsub: (node.services as { pubsub: GossipSub }).pubsub,
        delivered: new Map(),
        dupsDelivered: 0,
        received: 0,
        rpcs: 0,
        dataRpcs: 0,
      }
      instrument(g)
      g.pubsub.subscribe(GS_TOPIC)
      gossips.push(g)
    }
    const f: Flood = { neighbors: new Map(), seen: new Set(), delivered: new Map(), dupsReceived: 0, framesSent: 0 }
    await node.handle(
      FLOOD,
      async (stream: Stream, connection) => {
        const from = connection.remotePeer.toString()
        const dec = new Decoder()
        for await (const c of stream) dec.push(toBytes(c), (body) => onFlood(f, from, body))
      },
      { runOnLimitedConnection: true, maxInboundStreams: 64 },
    )
    nodes.push(node)
    floods.push(f)
  }
  return created.map((n) => ({ peerId: n.peerId.toString(), addrs: n.getMultiaddrs().map((a) => a.toString()) }))
}

/**
 * Dials [local index, remote address] pairs, at most `concurrency` at a time (libp2p refuses more
 * than maxIncomingPendingConnections, default 10, simultaneous inbound handshakes per listener).
 */
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
      try {
        await retryOnTimeout(() => nodes[e[0]].dial(multiaddr(e[1]), { signal: AbortSignal.timeout(30_000) }))
      } catch (err) {
        if (!args.tolerant) throw err
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: args.concurrency ?? args.edges.length }, worker))
  return { ms: performance.now() - t0, failed }
}

/** Opens one flood stream from every node to each of its connected peers. */
async function floodOpen(): Promise<{ streams: number }> {
  let streams = 0
  await Promise.all(
    nodes.map(async (node, i) => {
      for (const conn of node.getConnections()) {
        const peer = conn.remotePeer.toString()
        if (floods[i].neighbors.has(peer)) continue
        const stream = await node.dialProtocol(conn.remotePeer, FLOOD, {
          runOnLimitedConnection: true,
          signal: AbortSignal.timeout(30_000),
        })
        floods[i].neighbors.set(peer, { stream, chain: Promise.resolve() })
        streams++
      }
    }),
  )
  return { streams }
}

/** Publishes `count` messages of `size` bytes from local node `node`, ids base + seq. */
async function floodPublish(args: {
  node: number
  count: number
  size: number
  intervalMs: number
  base: number
}): Promise<{ sentAt: Record<number, number> }> {
  const f = floods[args.node]
  const sentAt: Record<number, number> = {}
  for (let seq = 0; seq < args.count; seq++) {
    const body = new Uint8Array(8 + args.size)
    const id = args.base + seq
    new DataView(body.buffer).setUint32(0, id)
    body.set(crypto.randomBytes(args.size), 8)
    f.seen.add(id)
    sentAt[id] = wallMs()
    forward(f, frame(body))
    if (args.intervalMs > 0) await new Promise((r) => setTimeout(r, args.intervalMs))
  }
  return { sentAt }
}

function floodStats(): Array<{ delivered: Record<number, number>; dupsReceived: number; framesSent: number }> {
  return floods.map((f) => ({ delivered: Object.fromEntries(f.delivered), dupsReceived: f.dupsReceived, framesSent: f.framesSent }))
}

/** Waits until every local gossipsub node's mesh for the topic holds at least `min` peers. */
async function gsWaitMesh(args: { min: number; timeoutMs: number }): Promise<{ sizes: number[]; ms: number }> {
  const t0 = performance.now()
  const sizes = () => gossips.map((g) => (g.pubsub as unknown as { getMeshPeers(t: string): string[] }).getMeshPeers(GS_TOPIC).length)
  while (sizes().some((s) => s < args.min) && performance.now() - t0 < args.timeoutMs) await new Promise((r) => setTimeout(r, 50))
  return { sizes: sizes(), ms: performance.now() - t0 }
}

function gsReset(): void {
  for (const g of gossips) {
    g.delivered.clear()
    g.dupsDelivered = 0
    g.received = 0
    g.rpcs = 0
    g.dataRpcs = 0
  }
}

/** Publishes `count` messages of `size` bytes (first 4 bytes: id base + seq) from local node `node`. */
async function gsPublish(args: {
  node: number
  count: number
  size: number
  intervalMs: number
  base: number
}): Promise<{ sentAt: Record<number, number>; recipients: number[] }> {
  const g = gossips[args.node]
  const sentAt: Record<number, number> = {}
  const recipients: number[] = []
  for (let seq = 0; seq < args.count; seq++) {
    const data = crypto.randomBytes(args.size)
    const id = args.base + seq
    new DataView(data.buffer, data.byteOffset).setUint32(0, id)
    sentAt[id] = wallMs()
    const r = await g.pubsub.publish(GS_TOPIC, data)
    recipients.push(r.recipients.length)
    if (args.intervalMs > 0) await new Promise((r) => setTimeout(r, args.intervalMs))
  }
  return { sentAt, recipients }
}

function gsStats(): Array<{
  delivered: Record<number, number>
  dupsDelivered: number
  received: number
  rpcs: number
  dataRpcs: number
}> {
  return gossips.map((g) => ({
    delivered: Object.fromEntries(g.delivered),
    dupsDelivered: g.dupsDelivered,
    received: g.received,
    rpcs: g.rpcs,
    dataRpcs: g.dataRpcs,
  }))
}

interface DhtLike {
  routingTable: { size: number }
}

/** Waits until every local node's DHT routing table holds at least `min` peers. */
async function dhtWait(args: { min: number; timeoutMs: number }): Promise<{ sizes: number[]; ms: number }> {
  const t0 = performance.now()
  const sizes = () => nodes.map((n) => (n.services as { dht?: DhtLike }).dht?.routingTable.size ?? 0)
  while (sizes().some((s) => s < args.min) && performance.now() - t0 < args.timeoutMs) await new Promise((r) => setTimeout(r, 100))
  return { sizes: sizes(), ms: performance.now() - t0 }
}

/** findPeer from local node `node` for each target (peer ids not directly connected), in turn. */
async function findPeer(args: { node: number; targets: string[] }): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = []
  let failed = 0
  for (const t of args.targets) {
    const t0 = performance.now()
    try {
      await nodes[args.node].peerRouting.findPeer(peerIdFromString(t), { signal: AbortSignal.timeout(10_000) })
      ms.push(performance.now() - t0)
    } catch {
      failed++
    }
  }
  return { ms, failed }
}

/**
 * Cold start: a new node (this process holds no other) is created, started and dialled to
 * `bootstrap`; returns the time to the first connected peer and to its first successful findPeer.
 */
async function cold(args: { bootstrap: string; target?: string; dht?: boolean }): Promise<{ connectMs: number; firstFindMs?: number }> {
  const t0 = performance.now()
  const node = await createBareNode({ dht: args.dht })
  nodes.push(node)
  const connected = new Promise<void>((resolve) => node.addEventListener('peer:connect', () => resolve(), { once: true }))
  await node.dial(multiaddr(args.bootstrap), { signal: AbortSignal.timeout(30_000) })
  await connected
  const connectMs = performance.now() - t0
  if (!args.target) return { connectMs }
  const t1 = performance.now()
  await node.peerRouting.findPeer(peerIdFromString(args.target), { signal: AbortSignal.timeout(15_000) })
  return { connectMs, firstFindMs: performance.now() - t1 }
}

function connections(): { perNode: number[] } {
  return { perNode: nodes.map((n) => n.getConnections().length) }
}

onExit(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
})

serve({
  load: () => true,
  start: (a) => start(a as never),
  dial: (a) => dial(a as never),
  'flood-open': () => floodOpen(),
  'flood-publish': (a) => floodPublish(a as never),
  'flood-stats': () => floodStats(),
  'gs-wait-mesh': (a) => gsWaitMesh(a as never),
  'gs-reset': () => gsReset(),
  'gs-publish': (a) => gsPublish(a as never),
  'gs-stats': () => gsStats(),
  'dht-wait': (a) => dhtWait(a as never),
  'find-peer': (a) => findPeer(a as never),
  cold: (a) => cold(a as never),
  connections: () => connections(),
  memory: () => memory(),
})
