// cpc-net's side of P1-P6, measured in processes of their own like the baselines. Every row runs
// through NetworkHandler (roles/handler.ts) with a devnet config plus the explicit NetworkConfig
// fields below (BENCH_NETWORK_CONFIG). With a @cpc/network whose NetworkConfig does not accept those
// fields (before router.rateLimits / router.maxPayloadBytes existed), P1-P3 and P5 fall back to the
// Router stack NetworkHandler composes (roles/cpc.ts) with BENCH_ROUTER_INIT, and the rows say so.
// P2.ctl measures CpcChannel itself (no NetworkHandler API sends unsigned CONTROL frames). Every
// entry returns undefined when what it needs is missing.
import { MessageType, Priority } from '@cpc/protocol'
import type { RouterInit } from '@cpc/router'
import { median, type BenchOptions } from '../harness.js'
import { percentile } from '../roles/framing.js'
import { RoleProcess } from '../proc.js'
import { broadcastFigures, hops, type BroadcastFigures } from './p5-broadcast.js'
import { adjacency, startNetwork } from './network.js'

const unlimited = { ratePerSec: 1e9, burst: 1e9 }

/**
 * The Router's defaults except two, without which P1-P3 cannot be measured at all:
 * - inbound rate limits: the defaults (EVENT HIGH 20/s, MEDIUM 100/s, LOW 200/s per peer) would
 *   refuse a throughput test after its first few hundred frames;
 * - the largest payload (32 MiB by default) and the per-peer queue that must hold it whole: P1 sends
 *   one 64 MiB EVENT.
 * NetworkConfig exposes neither yet (see docs/benchmarks.md).
 */
export const BENCH_ROUTER_INIT: RouterInit = {
  rateLimits: { [MessageType.EVENT]: { [Priority.LOW]: unlimited, [Priority.MEDIUM]: unlimited, [Priority.HIGH]: unlimited } },
  maxPayloadBytes: 64 * 2 ** 20,
  peerQueueMaxBytes: 96 * 2 ** 20,
}

const lifted = { ratePerSec: 100_000, burst: 100_000 }

/**
 * NetworkConfig fields P1-P3 set over the devnet config (roles/handler.ts), as an operator of a bulk
 * link between trusted nodes would:
 * - router.rateLimits.event: 100k messages/s and a burst of 100k at every priority, per peer. The
 *   defaults (HIGH 20/s, MEDIUM 100/s, LOW 200/s) protect a node from a flooding neighbor and would
 *   refuse P2's 20k messages, P3's 100 HIGH probes/s and its LOW flood after the first few hundred.
 *   100k/s is ~10x what one receiver can verify on this machine, so the limit never binds.
 * - router.maxPayloadBytes: 64 MiB (default 32 MiB): P1 sends one 64 MiB EVENT. The per-peer queue
 *   grows with it (NetworkHandler sizes it to the payload plus the default headroom).
 * Everything else is NetworkHandler's default (load shedding, yamux window, link probes, discovery,
 * kad-dht). P5 needs no deviation: 50 broadcasts/s stay under the MEDIUM default of 100/s per peer.
 */
export const BENCH_NETWORK_CONFIG = {
  router: {
    rateLimits: { event: { high: lifted, medium: lifted, low: lifted } },
    maxPayloadBytes: 64 * 2 ** 20,
  },
}

/** Which stack P1-P3 and P5 measure: NetworkHandler when its config accepts BENCH_NETWORK_CONFIG. */
export type CpcPath = 'NetworkHandler' | 'Router stack'
let pathCache: Promise<CpcPath> | undefined

export function cpcPath(): Promise<CpcPath> {
  pathCache ??= (async () => {
    // BENCH_CPC_PATH=router: the Router stack even when NetworkHandler could run (to compare the two).
    if (process.env.BENCH_CPC_PATH === 'router') return 'Router stack'
    try {
      const mod = (await import('@cpc/network')) as { parseConfig?: (c: unknown) => unknown }
      if (!mod.parseConfig) return 'Router stack'
      mod.parseConfig({ ...BENCH_NETWORK_CONFIG, connections: { maxIncomingPendingConnections: 64 } })
      return 'NetworkHandler'
    } catch {
      return 'Router stack'
    }
  })()
  return pathCache
}

export interface P3Figures {
  idle50: number
  idle99: number
  flood50: number
  flood99: number
  lowMBps: number
  shed: number
}

export interface OursP1 extends BenchOptions {
  bytes: number
  rounds: number
}

export interface Ours {
  p1?: (o: OursP1) => Promise<number | undefined>
  p2signed?: (o: BenchOptions & { count: number }) => Promise<number | undefined>
  p2control?: (o: BenchOptions & { count: number }) => Promise<number | undefined>
  /** HIGH RTT (ms) through the Router, idle and under a LOW flood. */
  p3?: (
    o: BenchOptions & { probes: number; probeIntervalMs: number; floodBytes: number; maxStreamWindow?: number },
  ) => Promise<P3Figures | undefined>
  /** Whether NetworkHandler can be loaded (P4 and P6 run through it). */
  p4available?: () => Promise<boolean>
  p5?: (
    o: BenchOptions & { n: number; messages: number; size: number; intervalMs: number; seed: number; degree: number },
  ) => Promise<BroadcastFigures | undefined>
  p6available?: () => Promise<boolean>
}

/** Whether a workspace package exports `name` (dynamic, so the bench compiles before it lands). */
export async function exported(pkg: string, name: string): Promise<boolean> {
  try {
    const mod = (await import(pkg)) as Record<string, unknown>
    return typeof mod[name] === 'function'
  } catch {
    return false
  }
}

interface CpcPair {
  sender: RoleProcess
  receiver: RoleProcess
  senderId: string
  receiverId: string
  close(): Promise<void>
}

async function cpcPair(suite: string, o: BenchOptions, kind: 'router' | 'channel' = 'router', maxStreamWindow?: number): Promise<CpcPair> {
  const handler = kind === 'router' && (await cpcPath()) === 'NetworkHandler'
  const role = handler ? 'handler' : 'cpc'
  const [sender, receiver] = await Promise.all([
    RoleProcess.spawn(role, { name: `${suite}-${role}-sender`, signal: o.signal, profile: o.profile }),
    RoleProcess.spawn(role, { name: `${suite}-${role}-receiver`, signal: o.signal, profile: o.profile }),
  ])
  const close = async () => {
    await Promise.all([sender.kill(), receiver.kill()])
  }
  // The window experiment through NetworkHandler: connections.maxStreamWindowBytes, an operator setting.
  const config =
    maxStreamWindow === undefined
      ? BENCH_NETWORK_CONFIG
      : { ...BENCH_NETWORK_CONFIG, connections: { maxStreamWindowBytes: maxStreamWindow } }
  const startArgs = handler ? { count: 1, config } : { count: 1, kind, init: BENCH_ROUTER_INIT, maxStreamWindow }
  try {
    const [[s], [r]] = await Promise.all(
      [sender, receiver].map((p) => p.call<Array<{ peerId: string; addrs: string[] }>>('start', startArgs, 60_000)),
    )
    await sender.call('dial', { edges: [[0, r.addrs[0]]] }, 40_000)
    if (kind === 'router' && !(await receiver.call<boolean>('wait-connected', { node: 0, peers: [s.peerId], timeoutMs: 15_000 }, 20_000)))
      throw new Error('receiver never saw the sender Connected')
    return { sender, receiver, senderId: s.peerId, receiverId: r.peerId, close }
  } catch (err) {
    await close()
    throw err
  }
}

async function transfer(pair: CpcPair, count: number, size: number, priority: Priority, timeoutMs: number): Promise<number> {
  await pair.receiver.call('reset')
  const delivered = pair.receiver.call<{ delivered: number; lastWall: number }>(
    'wait-delivered',
    { node: 0, count, timeoutMs },
    timeoutMs + 5000,
  )
  const { startWall } = await pair.sender.call<{ startWall: number }>(
    'send-many',
    { node: 0, to: pair.receiverId, count, size, priority },
    timeoutMs,
  )
  const d = await delivered
  if (d.delivered < count) throw new Error(`timed out: only ${d.delivered} of ${count} messages delivered in ${timeoutMs} ms`)
  return (d.lastWall - startWall) / 1000
}

export const ours: Ours = {
  p4available: () => exported('@cpc/network', 'NetworkHandler'),
  p6available: () => exported('@cpc/network', 'NetworkHandler'),

  /** One incompressible EVENT of `bytes` (chunked and signed by the Router), MB/s, median of rounds. */
  async p1(o) {
    const pair = await cpcPair('p1', o)
    try {
      await transfer(pair, 1, Math.min(o.bytes, 8 * 2 ** 20), Priority.MEDIUM, 60_000)
      const rates: number[] = []
      for (let r = 0; r < o.rounds; r++) rates.push(o.bytes / 1e6 / (await transfer(pair, 1, o.bytes, Priority.MEDIUM, 120_000)))
      return median(rates)
    } finally {
      await pair.close()
    }
  },

  /** Signed 256 B EVENTs (one Router.send each), msgs/s. */
  async p2signed(o) {
    const pair = await cpcPair('p2', o)
    try {
      await transfer(pair, Math.min(o.count, o.quick ? 300 : 5000), 256, Priority.MEDIUM, 60_000)
      return o.count / (await transfer(pair, o.count, 256, Priority.MEDIUM, 120_000))
    } finally {
      await pair.close()
    }
  },

  /** Unsigned 256 B CONTROL frames through CpcChannel.send, 64 per send (no Router, no signing). */
  async p2control(o) {
    const pair = await cpcPair('p2ctl', o, 'channel')
    try {
      const run = async (count: number) => {
        await pair.receiver.call('reset')
        const delivered = pair.receiver.call<{ delivered: number; lastWall: number }>(
          'wait-delivered',
          { node: 0, count, timeoutMs: 60_000, channel: true },
          65_000,
        )
        const { startWall } = await pair.sender.call<{ startWall: number }>(
          'channel-send',
          { node: 0, to: pair.receiverId, count, batch: 64 },
          60_000,
        )
        const d = await delivered
        if (d.delivered < count) throw new Error(`timed out: only ${d.delivered} of ${count} CONTROL frames arrived in 60 s`)
        return count / ((d.lastWall - startWall) / 1000)
      }
      await run(Math.min(o.count, o.quick ? 2000 : 20_000))
      return await run(o.count)
    } finally {
      await pair.close()
    }
  },

  async p3(o) {
    const pair = await cpcPair(o.maxStreamWindow ? 'p3win' : 'p3', o, 'router', o.maxStreamWindow)
    try {
      await pair.receiver.call('echo-high', { node: 0 })
      const args = { node: 0, to: pair.receiverId, probeIntervalMs: o.probeIntervalMs, lowSize: 16 * 1024 }
      await pair.sender.call('probe', { ...args, probes: 20, floodBytes: 0 }, 30_000)
      const idle = await pair.sender.call<{ rttMs: number[] }>('probe', { ...args, probes: o.probes, floodBytes: 0 }, 60_000)
      const flood = await pair.sender.call<{ rttMs: number[]; lowMBps: number; shed: number }>(
        'probe',
        { ...args, probes: o.probes, floodBytes: o.floodBytes },
        120_000,
      )
      if (flood.rttMs.length < o.probes)
        throw new Error(`timed out: ${o.probes - flood.rttMs.length} HIGH probes not echoed within 10 s under the flood`)
      return {
        idle50: percentile(idle.rttMs, 50),
        idle99: percentile(idle.rttMs, 99),
        flood50: percentile(flood.rttMs, 50),
        flood99: percentile(flood.rttMs, 99),
        lowMBps: flood.lowMBps,
        shed: flood.shed,
      }
    } finally {
      await pair.close()
    }
  },

  /** Broadcast scope all from node 0 in the same seeded topology as the flooding baseline. */
  async p5(o) {
    const handler = (await cpcPath()) === 'NetworkHandler'
    const net = await startNetwork({
      n: o.n,
      procs: o.quick ? 2 : 3,
      degree: o.degree,
      seed: o.seed,
      role: handler ? 'handler' : 'cpc',
      // NetworkHandler: the devnet config, no deviation (see BENCH_NETWORK_CONFIG); a registry for the router's counters.
      startArgs: handler ? { metrics: true } : { init: BENCH_ROUTER_INIT, metrics: true },
      name: 'p5cpc',
      signal: o.signal,
      profile: o.profile,
    })
    try {
      // Every node must see each neighbor Connected before the first broadcast (inbound side too).
      for (const [i, nd] of net.nodes.entries()) {
        const ok = await nd.proc.call<boolean>(
          'wait-connected',
          { node: nd.local, peers: net.neighbors[i].map((j) => net.nodes[j].peerId), timeoutMs: 15_000 },
          20_000,
        )
        if (!ok) throw new Error(`node ${i} never saw all its neighbors Connected`)
      }
      await Promise.all(net.procs.map((p) => p.call('reset')))
      const origin = net.nodes[0]
      const { sentAt } = await origin.proc.call<{ sentAt: Record<string, number> }>(
        'broadcast',
        { node: origin.local, count: o.messages, size: o.size, intervalMs: o.intervalMs },
        60_000,
      )
      type S = {
        delivered: Record<string, number>
        dupsDelivered: number
        framesSent: number
        drops: Record<string, number>
        inboundMs: number[]
        connections?: number
        peers?: string[]
      }
      let stats: S[] = []
      const until = Date.now() + 10_000
      for (;;) {
        const perProc = await Promise.all(net.procs.map((p) => p.call<S[]>('stats')))
        stats = net.nodes.map((nd, i) => perProc[i % net.procs.length][nd.local])
        if (stats.every((s, i) => i === 0 || Object.keys(s.delivered).length >= o.messages) || Date.now() > until) break
        await new Promise((r) => setTimeout(r, 50))
      }
      // Ids are origin/nonce strings here; broadcastFigures wants numbers: map them.
      const ids = Object.keys(sentAt)
      const num = (d: Record<string, number>) =>
        Object.fromEntries(
          Object.entries(d)
            .filter(([k]) => ids.includes(k))
            .map(([k, v]) => [ids.indexOf(k), v]),
        )
      const numSent = Object.fromEntries(ids.map((k, i) => [i, sentAt[k]]))
      const dups = stats.reduce((a, s) => a + s.dupsDelivered, 0)
      const drops: Record<string, number> = {}
      for (const s of stats) for (const [k, v] of Object.entries(s.drops)) drops[k] = (drops[k] ?? 0) + v
      // The topology the broadcast actually ran on: the seeded graph plus whatever discovery and
      // kad-dht connected (NetworkHandler), as edges between the network's nodes.
      const index = new Map(net.nodes.map((nd, i) => [nd.peerId, i]))
      const edgeSet = new Set(net.edges.map(([a, b]) => `${a}-${b}`))
      stats.forEach((s, i) => {
        for (const p of s.peers ?? []) {
          const j = index.get(p)
          if (j !== undefined && j !== i) edgeSet.add(i < j ? `${i}-${j}` : `${j}-${i}`)
        }
      })
      const edges = [...edgeSet].map((e) => e.split('-').map(Number) as [number, number])
      const adj = adjacency(o.n, edges)
      const figures = broadcastFigures(
        o.n,
        0,
        numSent,
        stats.map((s) => ({ delivered: num(s.delivered), dupsReceived: 0, framesSent: s.framesSent })),
        dups,
        hops(adj, 0),
      )
      const inbound = stats.flatMap((s) => s.inboundMs)
      const degrees = adj.map((x) => x.length)
      return {
        ...figures,
        edges,
        drops,
        inboundMs: inbound.length ? median(inbound) : undefined,
        degree: [Math.min(...degrees), Math.max(...degrees)] as [number, number],
      }
    } finally {
      await net.close()
    }
  },
}
