// P6: memory. RSS of an idle bare libp2p node (its own process, after GC), RSS growth per extra
// connection (N clients in other processes dial one hub; the hub's RSS is measured before and after),
// and 100 bare nodes on one machine (spread over a few processes; the total RSS of those processes).
import { atMost, missing, type BenchOptions, type Row } from '../harness.js'
import { RoleProcess } from '../proc.js'
import { startNetwork } from './network.js'
import { ours } from './ours.js'

interface Mem {
  rssMiB: number
  heapMiB: number
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function p6(opts: BenchOptions): Promise<Row[]> {
  const clients = opts.quick ? 10 : 50
  const many = opts.quick ? 12 : 100
  const settleMs = opts.quick ? 300 : 2000
  const spawn = (name: string) => RoleProcess.spawn('mesh', { name, signal: opts.signal, profile: opts.profile })

  // Idle node and hub: the same process, before and after N inbound connections.
  const hub = await spawn('p6-hub')
  const clientProcs = await Promise.all([spawn('p6-clients0'), spawn('p6-clients1')])
  let bare: Mem
  let empty: Mem
  let hubAfter: Mem
  let connected = 0
  try {
    empty = await hub.call<Mem>('memory')
    const [h] = await hub.call<Array<{ addrs: string[] }>>('start', { count: 1 })
    await settle(settleMs)
    bare = await hub.call<Mem>('memory')
    const half = clients / 2
    await Promise.all(clientProcs.map((p) => p.call('start', { count: half }, 60_000)))
    await Promise.all(clientProcs.map((p) => p.call('dial', { edges: Array.from({ length: half }, (_, i) => [i, h.addrs[0]]) }, 60_000)))
    await settle(settleMs)
    hubAfter = await hub.call<Mem>('memory')
    connected = (await hub.call<{ perNode: number[] }>('connections')).perNode[0]
  } finally {
    await Promise.all([hub.kill(), ...clientProcs.map((p) => p.kill())])
  }

  // Many nodes: `procs` processes, degree-4 graph, total RSS.
  const procs = opts.quick ? 2 : 4
  const net = await startNetwork({ n: many, procs, degree: 4, seed: 42, name: 'p6-many', signal: opts.signal, profile: opts.profile })
  let total = 0
  try {
    await settle(settleMs)
    const mems = await Promise.all(net.procs.map((p) => p.call<Mem>('memory')))
    total = mems.reduce((a, m) => a + m.rssMiB, 0)
  } finally {
    await net.close()
  }

  const perConn = (hubAfter.rssMiB - bare.rssMiB) / Math.max(1, connected)
  const rows: Row[] = [
    { id: 'P6.node', what: 'Node process with libp2p loaded, no node (RSS)', value: empty.rssMiB, unit: 'MiB' },
    { id: 'P6.bare', what: 'idle bare libp2p node, own process (RSS after GC)', value: bare.rssMiB, unit: 'MiB', note: `heap ${bare.heapMiB.toFixed(1)} MiB` },
    { id: 'P6.bconn', what: `bare libp2p hub: RSS growth per inbound connection (${connected} clients)`, value: perConn, unit: 'MiB', note: `hub RSS ${bare.rssMiB.toFixed(1)} -> ${hubAfter.rssMiB.toFixed(1)} MiB` },
    { id: 'P6.b100', what: `${many} bare nodes (4-regular graph) in ${procs} processes: total RSS`, value: total, unit: 'MiB', note: `${(total / many).toFixed(1)} MiB per node, Node runtime included once per process` },
  ]
  const r = await ours.p6?.({ ...opts, clients, many })
  if (!r) {
    rows.push(missing('P6.idle', 'cpc-net idle NetworkHandler node (RSS)', 'pending', { unit: 'MiB', baseline: { what: 'bare node', value: bare.rssMiB }, target: '<= 100 MiB', note: 'needs NetworkHandler (@cpc/network)' }))
    rows.push(missing('P6.conn', 'cpc-net RSS growth per connection', 'pending', { unit: 'MiB', baseline: { what: 'bare', value: perConn }, target: '<= 0.5 MiB' }))
    rows.push(missing('P6.100', `${many} cpc-net nodes: total RSS`, 'pending', { unit: 'MiB', baseline: { what: 'bare', value: total } }))
  } else {
    rows.push({ ...atMost('P6.idle', 'cpc-net idle NetworkHandler node (RSS)', r.idleMiB, 'MiB', { what: 'bare node', value: bare.rssMiB }), target: '<= 100 MiB', met: r.idleMiB <= 100 })
    rows.push({ ...atMost('P6.conn', 'cpc-net RSS growth per connection', r.perConnMiB, 'MiB', { what: 'bare', value: perConn }), target: '<= 0.5 MiB', met: r.perConnMiB <= 0.5 })
    if (r.manyMiB !== undefined) rows.push(atMost('P6.100', `${many} cpc-net nodes: total RSS`, r.manyMiB, 'MiB', { what: 'bare', value: total }))
  }
  return rows
}
