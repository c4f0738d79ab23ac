// P5: broadcast to all in a 30-node network, dialled as a random 4-regular graph (fixed seed). cpc-net
// runs first; the baselines then run on exactly the edges its broadcast had (NetworkHandler's
// discovery and kad-dht connect some more pairs), each on bare libp2p nodes (tcp+noise+yamux+
// identify) in the same number of processes: the peer system the issue names, gossipsub
// (@libp2p/gossipsub 17, the libp2p-3 line of @chainsafe/libp2p-gossipsub) publishing the same
// messages with StrictSign, and floodsub-style flooding (seen-cache, forward to every neighbor but
// the sender, nothing signed) as a lower bound.
import { atMost, errorRow, guard, median, missing, versus, type BenchOptions, type Row } from '../harness.js'
import type { GossipsubOpts } from '@libp2p/gossipsub'
import { adjacency, randomRegularGraph, startNetwork, type Network } from './network.js'
import { cpcPath, ours } from './ours.js'

export const P5_SEED = 42
export const P5_DEGREE = 4

interface Stats {
  delivered: Record<number, number>
  dupsReceived: number
  framesSent: number
}

export interface BroadcastFigures {
  deliveryRatio: number
  dupsDelivered: number
  /** Redundant copies received (dropped by the seen-cache), per node per message. */
  dupsReceivedPerNode: number
  txPerNode: number
  /** Median over messages of the time until every node had it. */
  timeTo100Ms: number
  maxTimeTo100Ms: number
  /** Median delivery latency of the nodes d hops from the origin, d = 1, 2, ... (ms). */
  byHopMs: number[]
  /** Router drops by reason/priority, all nodes together (cpc-net only). */
  drops?: Record<string, number>
  /** Median time from the channel decoding a message to the Router delivering it (cpc-net only). */
  inboundMs?: number
  /** Fewest and most neighbors per node during the run (cpc-net: discovery and kad-dht may add some). */
  degree?: [number, number]
  /** The edges the run used (cpc-net: the seeded graph plus the connections the nodes made themselves). */
  edges?: Array<[number, number]>
}

/** Hop distance of every node from `origin` (breadth-first over the adjacency lists). */
export function hops(neighbors: number[][], origin: number): number[] {
  const d = neighbors.map(() => -1)
  d[origin] = 0
  const todo = [origin]
  for (let k = 0; k < todo.length; k++) {
    for (const m of neighbors[todo[k]]) {
      if (d[m] >= 0) continue
      d[m] = d[todo[k]] + 1
      todo.push(m)
    }
  }
  return d
}

const fmtHops = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' / ') + ' ms'

export function broadcastFigures(
  n: number,
  origin: number,
  sentAt: Record<number, number>,
  stats: Stats[],
  dupsDelivered = 0,
  dist: number[] = [],
): BroadcastFigures {
  const ids = Object.keys(sentAt).map(Number)
  let delivered = 0
  const times: number[] = []
  const perHop: number[][] = []
  for (const id of ids) {
    let last = 0
    let count = 0
    stats.forEach((s, i) => {
      if (i === origin) return
      const t = s.delivered[id]
      if (t === undefined) return
      count++
      last = Math.max(last, t - sentAt[id])
      const d = dist[i]
      if (d !== undefined && d > 0) (perHop[d - 1] ??= []).push(t - sentAt[id])
    })
    delivered += count
    if (count === n - 1) times.push(last)
  }
  const frames = stats.reduce((a, s) => a + s.framesSent, 0)
  const dups = stats.reduce((a, s) => a + s.dupsReceived, 0)
  return {
    deliveryRatio: delivered / (ids.length * (n - 1)),
    dupsDelivered,
    dupsReceivedPerNode: dups / n / ids.length,
    txPerNode: frames / n / ids.length,
    timeTo100Ms: times.length ? median(times) : NaN,
    maxTimeTo100Ms: times.length ? Math.max(...times) : NaN,
    byHopMs: Array.from(perHop, (xs) => (xs?.length ? median(xs) : NaN)),
  }
}

/**
 * Gossipsub's own defaults for the mesh, given explicitly: D 6 / Dlo 4 / Dhi 12. D 6 equals
 * cpc-net's broadcast fanout (6), so both forward each message to up to 6 neighbors. On the seeded
 * 4-regular graph (the Router-stack fallback) every mesh is all 4 neighbors, like flooding; Dlo 4
 * matters there: with Dlo 3 some meshes stopped at 3 peers (measured). floodPublish on (default):
 * the origin sends its own messages to every topic peer, not only its mesh. Heartbeat 1 s
 * (default). IDONTWANT (gossipsub 1.2) is sent for messages >= 512 B, so 1 KiB messages get it.
 */
export const GOSSIPSUB_OPTS: Partial<GossipsubOpts> = {
  D: 6,
  Dlo: 4,
  Dhi: 12,
  floodPublish: true,
  globalSignaturePolicy: 'StrictSign',
  // No libp2p connection-manager tagging: nothing in these runs prunes connections.
  tagMeshPeers: false,
}

export interface GossipFigures extends BroadcastFigures {
  /** Message-carrying RPCs per node per message (the rest is IDONTWANT/IHAVE/IWANT/GRAFT/PRUNE). */
  dataTxPerNode: number
  meshSizes: number[]
  meshMs: number
}

interface GsStats {
  delivered: Record<number, number>
  dupsDelivered: number
  received: number
  rpcs: number
  dataRpcs: number
}

interface Workload {
  n: number
  messages: number
  size: number
  intervalMs: number
  /** The topology (node index pairs): the one cpc-net's broadcast ran on. */
  edges: Array<[number, number]>
}

/** Polls `stats` until every node but the origin delivered every message, or 10 s passed. */
async function collect<S extends { delivered: Record<number, number> }>(
  net: Network,
  cmd: string,
  messages: number,
  origin: number,
): Promise<S[]> {
  const until = Date.now() + 10_000
  for (;;) {
    const perProc = await Promise.all(net.procs.map((p) => p.call<S[]>(cmd)))
    const stats = net.nodes.map((nd, i) => perProc[i % net.procs.length][nd.local])
    if (stats.every((s, i) => i === origin || Object.keys(s.delivered).length >= messages) || Date.now() > until) return stats
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Gossipsub on `edges`: mesh formed, counters reset, `messages` published from node 0. */
export async function gossipRun(
  opts: BenchOptions,
  o: Workload & { policy: 'StrictSign' | 'StrictNoSign'; flood?: boolean },
): Promise<GossipFigures & { flood?: BroadcastFigures }> {
  const net = await startNetwork({
    n: o.n,
    procs: opts.quick ? 2 : 3,
    degree: P5_DEGREE,
    seed: P5_SEED,
    edges: o.edges,
    name: o.policy === 'StrictSign' ? 'p5gs' : 'p5gsns',
    signal: opts.signal,
    profile: opts.profile,
    startArgs: { gossipsub: { ...GOSSIPSUB_OPTS, globalSignaturePolicy: o.policy } },
  })
  try {
    // The mesh forms on heartbeats after subscriptions are exchanged: wait until every mesh holds
    // Dlo (4) peers; a mesh still short at the timeout is run as it is and shows in the row note.
    const meshes = await Promise.all(
      net.procs.map((p) =>
        p.call<{ sizes: number[]; ms: number }>('gs-wait-mesh', { min: GOSSIPSUB_OPTS.Dlo, timeoutMs: opts.quick ? 5000 : 15_000 }, 20_000),
      ),
    )
    const meshSizes = net.nodes.map((nd, i) => meshes[i % net.procs.length].sizes[nd.local])
    // One heartbeat more so the grafts' follow-up control traffic is not counted as the messages'.
    await new Promise((r) => setTimeout(r, opts.quick ? 300 : 1200))
    await Promise.all(net.procs.map((p) => p.call('gs-reset')))
    const origin = 0
    const { sentAt } = await net.nodes[origin].proc.call<{ sentAt: Record<number, number> }>(
      'gs-publish',
      { node: net.nodes[origin].local, count: o.messages, size: o.size, intervalMs: o.intervalMs, base: 1 },
      60_000,
    )
    const stats = await collect<GsStats>(net, 'gs-stats', o.messages, origin)
    const dups = stats.reduce((a, s) => a + s.dupsDelivered, 0)
    const f = broadcastFigures(
      o.n,
      origin,
      sentAt,
      stats.map((s) => ({
        delivered: s.delivered,
        // copies received beyond the first (the origin's echoes of its own messages included, as for flooding)
        dupsReceived: s.received - Object.keys(s.delivered).length,
        framesSent: s.rpcs,
      })),
      dups,
      hops(net.neighbors, origin),
    )
    const dataTx = stats.reduce((a, s) => a + s.dataRpcs, 0) / o.n / o.messages
    // Flooding afterwards on the same nodes and connections (its own protocol and streams): one
    // network setup less. Gossipsub stays up, idle but for its 1 s heartbeats.
    const flood = o.flood ? await floodOn(net, o) : undefined
    return { ...f, dataTxPerNode: dataTx, meshSizes, meshMs: Math.max(...meshes.map((m) => m.ms)), flood }
  } finally {
    await net.close()
  }
}

/** Floodsub-style flooding over bare libp2p streams between the nodes of `net`. */
async function floodOn(net: Network, o: Workload): Promise<BroadcastFigures> {
  await Promise.all(net.procs.map((p) => p.call('flood-open', {}, 30_000)))
  const origin = 0
  const { sentAt } = await net.nodes[origin].proc.call<{ sentAt: Record<number, number> }>(
    'flood-publish',
    { node: net.nodes[origin].local, count: o.messages, size: o.size, intervalMs: o.intervalMs, base: 1 },
    60_000,
  )
  const stats = await collect<Stats>(net, 'flood-stats', o.messages, origin)
  return broadcastFigures(o.n, origin, sentAt, stats, 0, hops(net.neighbors, origin))
}

const degreeRange = (n: number, edges: Array<[number, number]>) => {
  const d = adjacency(n, edges).map((x) => x.length)
  return `${Math.min(...d)}-${Math.max(...d)}`
}

export async function p5(opts: BenchOptions): Promise<Row[]> {
  const n = opts.quick ? 8 : 30
  const messages = opts.quick ? 10 : 100
  const size = 1024
  const intervalMs = opts.quick ? 5 : 20
  // cpc-net first: its nodes are dialled along the seeded graph, and NetworkHandler's discovery and
  // kad-dht may connect more pairs. The baselines then run on exactly the edges cpc-net's broadcast
  // had, so every system sees the same topology.
  const via = await cpcPath()
  const r = await guard(ours.p5?.({ ...opts, n, messages, size, intervalMs, seed: P5_SEED, degree: P5_DEGREE }))
  const seeded = randomRegularGraph(n, P5_DEGREE, P5_SEED)
  const cpcEdges = r && !(r instanceof Error) && r.edges ? r.edges : seeded
  // BENCH_P5_EDGES=cpc: the baselines on exactly cpc-net's edges. Not the default: on the dense graph
  // NetworkHandler's nodes build (7-24 neighbors in 30 nodes) gossipsub's meshes did not form within
  // 15 s in this harness (delivery 0-0.76, unexplained yet), so by default both baselines run on
  // the seeded 4-regular graph cpc-net was dialled along, and the note gives cpc-net's real degree.
  const edges = process.env.BENCH_P5_EDGES === 'cpc' ? cpcEdges : seeded
  const w: Workload = { n, messages, size, intervalMs, edges }
  const gs = await gossipRun(opts, { ...w, policy: 'StrictSign', flood: true })
  const flood = gs.flood!
  // Context (full runs only): the same without signatures, to show what signing costs gossipsub.
  const gsns = opts.quick ? undefined : await guard(gossipRun(opts, { ...w, policy: 'StrictNoSign' }))
  const extra = cpcEdges.length - seeded.length
  const note = `${n} nodes in ${opts.quick ? 2 : 3} processes, dialled as a random ${P5_DEGREE}-regular graph (seed ${P5_SEED})${extra > 0 ? `; cpc-net's nodes connected ${extra} more pairs themselves (discovery, kad-dht): ${cpcEdges.length} edges, ${degreeRange(n, cpcEdges)} neighbors per node` : ''}; baselines on ${edges === seeded ? 'the seeded graph' : "cpc-net's edges"} (${degreeRange(n, edges)} neighbors); ${messages} x ${size} B from node 0 every ${intervalMs} ms`
  const rows: Row[] = [
    { id: 'P5.fl.deliv', what: 'flooding over bare libp2p: delivery ratio', value: flood.deliveryRatio, unit: '', note },
    {
      id: 'P5.fl.dup',
      what: 'flooding: duplicates received and dropped, per node per message',
      value: flood.dupsReceivedPerNode,
      unit: '',
    },
    { id: 'P5.fl.tx', what: 'flooding: transmissions per node per message', value: flood.txPerNode, unit: '' },
    {
      id: 'P5.fl.t100',
      what: 'flooding: time to 100% (median over messages)',
      value: flood.timeTo100Ms,
      unit: 'ms',
      note: `max over messages ${flood.maxTimeTo100Ms.toFixed(1)} ms; median latency at 1 / 2 / ... hops: ${fmtHops(flood.byHopMs)}`,
    },
  ]
  const meshRange = `${Math.min(...gs.meshSizes)}-${Math.max(...gs.meshSizes)}`
  rows.push(
    {
      id: 'P5.gs.deliv',
      what: 'gossipsub (@libp2p/gossipsub 17, StrictSign, D 6): delivery ratio',
      value: gs.deliveryRatio,
      unit: '',
      note: `D ${GOSSIPSUB_OPTS.D} / Dlo ${GOSSIPSUB_OPTS.Dlo} / Dhi ${GOSSIPSUB_OPTS.Dhi} (gossipsub's defaults), floodPublish on, heartbeat 1 s; mesh sizes ${meshRange} (formed in ${(gs.meshMs / 1000).toFixed(1)} s, not timed)`,
    },
    { id: 'P5.gs.dup', what: 'gossipsub: duplicates delivered to the app', value: gs.dupsDelivered, unit: '' },
    {
      id: 'P5.gs.dupr',
      what: 'gossipsub: duplicate copies received and dropped, per node per message',
      value: gs.dupsReceivedPerNode,
      unit: '',
    },
    {
      id: 'P5.gs.tx',
      what: 'gossipsub: RPCs sent per node per message (all: data + IDONTWANT + control)',
      value: gs.txPerNode,
      unit: '',
      note: `of which message-carrying: ${gs.dataTxPerNode.toFixed(2)} per node per message`,
    },
    {
      id: 'P5.gs.t100',
      what: 'gossipsub: time to 100% (median over messages)',
      value: gs.timeTo100Ms,
      unit: 'ms',
      note: `max over messages ${gs.maxTimeTo100Ms.toFixed(1)} ms; median latency at 1 / 2 / ... hops: ${fmtHops(gs.byHopMs)}`,
    },
  )
  if (gsns instanceof Error) rows.push(errorRow('P5.gsns', 'gossipsub StrictNoSign', gsns))
  else if (gsns) {
    rows.push({
      ...atMost('P5.gsns.t100', 'gossipsub StrictNoSign (context): time to 100%', gsns.timeTo100Ms, 'ms', {
        what: 'gossipsub signed',
        value: gs.timeTo100Ms,
      }),
      note: `delivery ${gsns.deliveryRatio.toFixed(2)}, ${gsns.txPerNode.toFixed(2)} RPCs per node per message; median latency at 1 / 2 / ... hops: ${fmtHops(gsns.byHopMs)}`,
    })
  }
  const gsBase = (value: number) => ({ what: 'gossipsub', value })
  if (r instanceof Error) {
    rows.push(errorRow('P5', 'cpc-net broadcast All', r))
  } else if (!r) {
    const pending = (id: string, what: string, target: string, unit = '', baseline?: { what: string; value: number }) =>
      missing(id, what, 'pending', {
        unit,
        target,
        baseline,
        note: id === 'P5.deliv' ? 'needs Router broadcast (scope all) / NetworkHandler' : undefined,
      })
    rows.push(pending('P5.deliv', 'cpc-net broadcast All: delivery ratio', '= 1.00'))
    rows.push(pending('P5.dup', 'cpc-net broadcast All: duplicates delivered to the app', '= 0'))
    rows.push(
      pending('P5.tx', 'cpc-net broadcast All: transmissions per node per message', '<= 8', '', {
        what: 'gossipsub message RPCs',
        value: gs.dataTxPerNode,
      }),
    )
    rows.push(pending('P5.t100', 'cpc-net broadcast All: time to 100%', '< gossipsub', 'ms', gsBase(gs.timeTo100Ms)))
  } else {
    rows.push({
      id: 'P5.deliv',
      what: 'cpc-net broadcast All: delivery ratio',
      value: r.deliveryRatio,
      unit: '',
      target: '= 1.00',
      met: r.deliveryRatio === 1,
    })
    rows.push({
      id: 'P5.dup',
      what: 'cpc-net broadcast All: duplicates delivered to the app',
      value: r.dupsDelivered,
      unit: '',
      target: '= 0',
      met: r.dupsDelivered === 0,
    })
    rows.push({
      // Held against gossipsub's message-carrying RPCs (the stricter baseline: its IDONTWANT and
      // control RPCs are left out), since the router's frame count has no control traffic either.
      ...versus('P5.tx', 'cpc-net broadcast All: frames written per node per message', r.txPerNode, '', {
        what: 'gossipsub message RPCs',
        value: gs.dataTxPerNode,
      }),
      target: '<= 8',
      met: r.txPerNode <= 8,
    })
    rows.push({
      ...atMost('P5.t100', 'cpc-net broadcast All: time to 100%', r.timeTo100Ms, 'ms', gsBase(gs.timeTo100Ms), 1),
      note: `${via === 'NetworkHandler' ? 'NetworkHandler.broadcast' : 'Router.broadcast (Router stack)'}; connections per node ${r.degree?.join('-') ?? '-'}; max over messages ${r.maxTimeTo100Ms.toFixed(1)} ms; median latency at 1 / 2 / ... hops: ${fmtHops(r.byHopMs)}; router drops: ${JSON.stringify(r.drops ?? {})}${r.inboundMs === undefined ? '' : `; channel-to-delivery median ${r.inboundMs.toFixed(2)} ms`}`,
    })
    rows.push(
      atMost('P5.vsfl', 'cpc-net time to 100% vs unsigned flooding (context)', r.timeTo100Ms, 'ms', {
        what: 'flooding',
        value: flood.timeTo100Ms,
      }),
    )
  }
  return rows.map(noCompletion)
}

/**
 * A time to 100% is NaN when no message reached every node within 10 s of the last publish (a
 * delivery ratio under 1, e.g. on an overloaded machine): a result, not a broken harness. The row
 * becomes 'timeout' (never fails the run); held against a baseline that never completed, a figure
 * that did is faster.
 */
function noCompletion(r: Row): Row {
  const never = 'no message reached every node within 10 s of the last publish'
  if ((r.status ?? 'ok') !== 'ok') return r
  if (!Number.isFinite(r.value))
    return {
      ...r,
      status: 'timeout',
      ratio: undefined,
      met: r.met === undefined ? undefined : false,
      note: r.note ? `${never}; ${r.note}` : never,
    }
  if (r.baseline && !Number.isFinite(r.baseline.value))
    return { ...r, ratio: undefined, met: r.met === undefined ? undefined : true, note: `baseline: ${never}; ${r.note ?? ''}` }
  return r
}
