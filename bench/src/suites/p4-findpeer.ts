// P4: findPeer latency in a 30-node network and cold start to the first connected peer. No baseline
// in the issue; a bare kad-dht network (protocol /cpc/kad/1.0.0, passthroughMapper) in the same
// random 4-regular topology gives the context our discovery is built on.
import { missing, type BenchOptions, type Row } from '../harness.js'
import { percentile } from '../roles/framing.js'
import { RoleProcess } from '../proc.js'
import { prng, startNetwork } from './network.js'
import { P5_DEGREE, P5_SEED } from './p5-broadcast.js'
import { ours } from './ours.js'

export async function p4(opts: BenchOptions): Promise<Row[]> {
  const n = opts.quick ? 8 : 30
  const sources = opts.quick ? 2 : 6
  const perSource = opts.quick ? 2 : 8
  const net = await startNetwork({ n, procs: opts.quick ? 2 : 3, degree: P5_DEGREE, seed: P5_SEED, dht: true, name: 'p4', signal: opts.signal, profile: opts.profile })
  const warm: number[] = []
  const first: number[] = []
  let failed = 0
  let tables: number[] = []
  let cold: { connectMs: number; firstFindMs?: number; spawnMs: number } | undefined
  try {
    const w = await Promise.all(net.procs.map((p) => p.call<{ sizes: number[] }>('dht-wait', { min: P5_DEGREE, timeoutMs: opts.quick ? 5000 : 20_000 }, 40_000)))
    tables = w.flatMap((x) => x.sizes)
    const rnd = prng(7)
    for (let s = 0; s < sources; s++) {
      const src = Math.floor((s * n) / sources)
      const far = net.nodes.map((_, i) => i).filter((i) => i !== src && !net.neighbors[src].includes(i))
      const targets = Array.from({ length: perSource + 1 }, () => net.nodes[far[Math.floor(rnd() * far.length)]].peerId)
      const r = await net.nodes[src].proc.call<{ ms: number[]; failed: number }>('find-peer', { node: net.nodes[src].local, targets }, 120_000)
      // The first lookup of a node waits for its DHT's initial self-query: reported apart.
      if (r.ms.length) first.push(r.ms[0])
      warm.push(...r.ms.slice(1))
      failed += r.failed
    }
    const t0 = performance.now()
    const fresh = await RoleProcess.spawn('mesh', { name: 'p4-cold', signal: opts.signal, profile: opts.profile })
    const spawnMs = performance.now() - t0
    try {
      const target = net.nodes[n - 1].peerId
      cold = { ...(await fresh.call<{ connectMs: number; firstFindMs?: number }>('cold', { bootstrap: net.nodes[0].addr, target, dht: true }, 30_000)), spawnMs }
    } finally {
      await fresh.kill()
    }
  } finally {
    await net.close()
  }
  const note = `${n} nodes in ${net.procs.length} processes, random ${P5_DEGREE}-regular graph (seed ${P5_SEED}); ${warm.length} warm lookups of non-neighbors from ${sources} nodes, ${failed} failed; routing tables ${Math.min(...tables)}-${Math.max(...tables)} peers`
  const rows: Row[] = [
    { id: 'P4.kad50', what: 'bare kad-dht findPeer, warm, p50', value: percentile(warm, 50), unit: 'ms', note },
    { id: 'P4.kad95', what: 'bare kad-dht findPeer, warm, p95', value: percentile(warm, 95), unit: 'ms' },
    { id: 'P4.kad1st', what: "bare kad-dht: each source node's first findPeer, median", value: percentile(first, 50), unit: 'ms' },
  ]
  if (cold) {
    rows.push({ id: 'P4.kadcold', what: 'bare node cold start (create+start+dial) to first connected peer', value: cold.connectMs, unit: 'ms', note: `process spawn to ready ${cold.spawnMs.toFixed(0)} ms (not included); its first findPeer ${cold.firstFindMs?.toFixed(0) ?? '-'} ms` })
  }
  const r = await ours.p4?.({ ...opts, n })
  if (!r) {
    rows.push(missing('P4.p95', 'cpc-net findPeer, warm, p95', 'pending', { unit: 'ms', target: '<= 200 ms', note: 'needs NetworkHandler.discoverPeers / Discovery in a 30-node cpc network' }))
    rows.push(missing('P4.cold', 'cpc-net cold start to first connected peer', 'pending', { unit: 'ms', target: '<= 1000 ms' }))
  } else {
    rows.push({ id: 'P4.p50', what: 'cpc-net findPeer, warm, p50', value: r.p50, unit: 'ms' })
    rows.push({ id: 'P4.p95', what: 'cpc-net findPeer, warm, p95', value: r.p95, unit: 'ms', target: '<= 200 ms', met: r.p95 <= 200 })
    rows.push({ id: 'P4.cold', what: 'cpc-net cold start to first connected peer', value: r.coldMs, unit: 'ms', target: '<= 1000 ms', met: r.coldMs <= 1000 })
  }
  return rows
}
