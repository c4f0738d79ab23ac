// P4: findPeer latency in a 30-node network and cold start to the first connected peer. No baseline
// in the issue; a bare kad-dht network (protocol /cpc/kad/1.0.0, passthroughMapper) in the same
// random 4-regular topology gives the context our discovery is built on.
import { atMost, errorRow, guard, missing, type BenchOptions, type Row } from '../harness.js'
import { percentile } from '../roles/framing.js'
import { RoleProcess } from '../proc.js'
import { prng, startNetwork } from './network.js'
import { P5_DEGREE, P5_SEED } from './p5-broadcast.js'
import { ours } from './ours.js'

interface FindFigures {
  warm: number[]
  first: number[]
  failed: number
  tables: number[]
  procs: number
  /** loadMs: the handler role's import of @cpc/network (the bare role's modules load with its process). */
  cold?: { connectMs: number; firstFindMs?: number; spawnMs: number; loadMs?: number }
}

/** The P4 procedure for one role: 'mesh' (bare kad-dht nodes) or 'handler' (NetworkHandler). */
export async function measureFind(role: 'mesh' | 'handler', n: number, opts: BenchOptions): Promise<FindFigures> {
  const sources = opts.quick ? 2 : 6
  const perSource = opts.quick ? 2 : 8
  const net = await startNetwork({
    n,
    procs: opts.quick ? 2 : 3,
    degree: P5_DEGREE,
    seed: P5_SEED,
    dht: true,
    role,
    name: `p4-${role}`,
    signal: opts.signal,
    profile: opts.profile,
  })
  const f: FindFigures = { warm: [], first: [], failed: 0, tables: [], procs: net.procs.length }
  try {
    const w = await Promise.all(
      net.procs.map((p) => p.call<{ sizes: number[] }>('dht-wait', { min: P5_DEGREE, timeoutMs: opts.quick ? 5000 : 20_000 }, 40_000)),
    )
    f.tables = w.flatMap((x) => x.sizes)
    const rnd = prng(7)
    for (let s = 0; s < sources; s++) {
      const src = Math.floor((s * n) / sources)
      const far = net.nodes.map((_, i) => i).filter((i) => i !== src && !net.neighbors[src].includes(i))
      const targets = Array.from({ length: perSource + 1 }, () => net.nodes[far[Math.floor(rnd() * far.length)]].peerId)
      const r = await net.nodes[src].proc.call<{ ms: number[]; failed: number }>(
        'find-peer',
        { node: net.nodes[src].local, targets },
        120_000,
      )
      // A node's first lookup may wait for its DHT's initial self-query: reported apart.
      if (r.ms.length) f.first.push(r.ms[0])
      f.warm.push(...r.ms.slice(1))
      f.failed += r.failed
    }
    const t0 = performance.now()
    const fresh = await RoleProcess.spawn(role, { name: `p4-${role}-cold`, signal: opts.signal, profile: opts.profile })
    const spawnMs = performance.now() - t0
    try {
      const target = net.nodes[n - 1].peerId
      f.cold = {
        ...(await fresh.call<{ connectMs: number; firstFindMs?: number; loadMs?: number }>(
          'cold',
          { bootstrap: net.nodes[0].addr, target, dht: true },
          40_000,
        )),
        spawnMs,
      }
    } finally {
      await fresh.kill()
    }
  } finally {
    await net.close()
  }
  return f
}

export async function p4(opts: BenchOptions): Promise<Row[]> {
  const n = opts.quick ? 8 : 30
  const bare = await measureFind('mesh', n, opts)
  const note = `${n} nodes in ${bare.procs} processes, random ${P5_DEGREE}-regular graph (seed ${P5_SEED}); ${bare.warm.length} warm lookups of non-neighbors, ${bare.failed} failed; routing tables ${Math.min(...bare.tables)}-${Math.max(...bare.tables)} peers`
  const rows: Row[] = [
    { id: 'P4.kad50', what: 'bare kad-dht findPeer, warm, p50', value: percentile(bare.warm, 50), unit: 'ms', note },
    { id: 'P4.kad95', what: 'bare kad-dht findPeer, warm, p95', value: percentile(bare.warm, 95), unit: 'ms' },
    { id: 'P4.kad1st', what: "bare kad-dht: each source node's first findPeer, median", value: percentile(bare.first, 50), unit: 'ms' },
  ]
  if (bare.cold) {
    rows.push({
      id: 'P4.kadcold',
      what: 'bare node cold start (create+start+dial) to first connected peer',
      value: bare.cold.connectMs,
      unit: 'ms',
      note: `process spawn to ready ${bare.cold.spawnMs.toFixed(0)} ms (not included); its first findPeer ${bare.cold.firstFindMs?.toFixed(0) ?? '-'} ms`,
    })
  }
  const r = (await ours.p4available?.()) ? await guard(measureFind('handler', n, opts)) : undefined
  if (r instanceof Error) {
    rows.push(errorRow('P4', 'cpc-net findPeer / cold start', r))
  } else if (!r) {
    rows.push(
      missing('P4.p95', 'cpc-net findPeer, warm, p95', 'pending', {
        unit: 'ms',
        target: '<= 200 ms',
        note: 'needs NetworkHandler (@cpc/network built)',
      }),
    )
    rows.push(missing('P4.cold', 'cpc-net cold start to first connected peer', 'pending', { unit: 'ms', target: '<= 1000 ms' }))
  } else {
    const p95 = percentile(r.warm, 95)
    rows.push({
      ...atMost('P4.p50', 'cpc-net NetworkHandler.discoverPeers({ peerId }), warm, p50', percentile(r.warm, 50), 'ms', {
        what: 'bare kad p50',
        value: percentile(bare.warm, 50),
      }),
      note: `${r.warm.length} warm lookups, ${r.failed} failed; first lookup per node median ${percentile(r.first, 50).toFixed(1)} ms; routing tables ${Math.min(...r.tables)}-${Math.max(...r.tables)}`,
    })
    rows.push({
      ...atMost('P4.p95', 'cpc-net discoverPeers({ peerId }), warm, p95', p95, 'ms', {
        what: 'bare kad p95',
        value: percentile(bare.warm, 95),
      }),
      target: '<= 200 ms',
      met: p95 <= 200,
    })
    if (r.cold) {
      const c = r.cold.connectMs
      rows.push({
        ...atMost('P4.cold', 'cpc-net cold start (NetworkHandler.create+start, 1 bootstrap) to first Connected peer', c, 'ms', {
          what: 'bare cold',
          value: bare.cold?.connectMs ?? NaN,
        }),
        target: '<= 1000 ms',
        met: c <= 1000,
        note: `process spawn ${r.cold.spawnMs.toFixed(0)} ms and import of @cpc/network ${r.cold.loadMs?.toFixed(0) ?? '-'} ms not included (the bare role's imports are in its spawn); its first discoverPeers ${r.cold.firstFindMs?.toFixed(0) ?? '-'} ms`,
      })
    }
  }
  return rows
}
