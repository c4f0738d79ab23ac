// P5: broadcast to all in a 30-node network (a random 4-regular graph, fixed seed). Baseline in the
// same topology and run: floodsub-style flooding over bare libp2p streams (seen-cache, forward to
// every neighbor but the sender). @chainsafe/libp2p-gossipsub is not installed in this workspace (see
// docs/benchmarks.md), so flooding is the nearest honest peer system available: it is what gossipsub
// does with flood-publish from the origin, and its delivery is the upper bound mesh gossip aims at.
import { atMost, errorRow, guard, median, missing, versus, type BenchOptions, type Row } from '../harness.js'
import { startNetwork } from './network.js'
import { ours } from './ours.js'

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

export async function p5(opts: BenchOptions): Promise<Row[]> {
  const n = opts.quick ? 8 : 30
  const messages = opts.quick ? 10 : 100
  const size = 1024
  const intervalMs = opts.quick ? 5 : 20
  const net = await startNetwork({
    n,
    procs: opts.quick ? 2 : 3,
    degree: P5_DEGREE,
    seed: P5_SEED,
    name: 'p5',
    signal: opts.signal,
    profile: opts.profile,
  })
  let flood: BroadcastFigures
  try {
    await Promise.all(net.procs.map((p) => p.call('flood-open', {}, 30_000)))
    const origin = 0
    const { sentAt } = await net.nodes[origin].proc.call<{ sentAt: Record<number, number> }>(
      'flood-publish',
      { node: net.nodes[origin].local, count: messages, size, intervalMs, base: 1 },
      60_000,
    )
    // Wait until every node has every message (or 10 s after the last publish).
    const until = Date.now() + 10_000
    let stats: Stats[] = []
    for (;;) {
      const perProc = await Promise.all(net.procs.map((p) => p.call<Stats[]>('flood-stats')))
      stats = net.nodes.map((nd, i) => perProc[i % net.procs.length][nd.local])
      const complete = stats.every((s, i) => i === origin || Object.keys(s.delivered).length >= messages)
      if (complete || Date.now() > until) break
      await new Promise((r) => setTimeout(r, 50))
    }
    flood = broadcastFigures(n, origin, sentAt, stats, 0, hops(net.neighbors, origin))
  } finally {
    await net.close()
  }
  const note = `${n} nodes in ${net.procs.length} processes, random ${P5_DEGREE}-regular graph (seed ${P5_SEED}), ${messages} x ${size} B from node 0 every ${intervalMs} ms`
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
  const r = await guard(ours.p5?.({ ...opts, n, messages, size, intervalMs, seed: P5_SEED, degree: P5_DEGREE }))
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
        what: 'flooding',
        value: flood.txPerNode,
      }),
    )
    rows.push(pending('P5.t100', 'cpc-net broadcast All: time to 100%', '< flooding', 'ms', { what: 'flooding', value: flood.timeTo100Ms }))
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
      ...versus('P5.tx', 'cpc-net broadcast All: transmissions per node per message', r.txPerNode, '', {
        what: 'flooding',
        value: flood.txPerNode,
      }),
      target: '<= 8',
      met: r.txPerNode <= 8,
    })
    rows.push({
      ...atMost('P5.t100', 'cpc-net broadcast All: time to 100%', r.timeTo100Ms, 'ms', { what: 'flooding', value: flood.timeTo100Ms }, 1),
      note: `max over messages ${r.maxTimeTo100Ms.toFixed(1)} ms; median latency at 1 / 2 / ... hops: ${fmtHops(r.byHopMs)}; router drops: ${JSON.stringify(r.drops ?? {})}; channel-to-delivery median ${r.inboundMs?.toFixed(2) ?? '-'} ms`,
    })
  }
  return rows
}
