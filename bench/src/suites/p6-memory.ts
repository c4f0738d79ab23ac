// P6: memory. RSS of an idle node (its own process, after GC), RSS growth per extra connection (N
// bare clients in two other processes dial one hub; the hub's RSS before and after), and 100 nodes on
// one machine (spread over a few processes, 4-regular graph; the total RSS of those processes). The
// same procedure runs for a bare libp2p node and for NetworkHandler.
import { atMost, errorRow, missing, type BenchOptions, type Row } from '../harness.js'
import { RoleProcess } from '../proc.js'
import { startNetwork } from './network.js'
import { ours } from './ours.js'

interface Mem {
  rssMiB: number
  heapMiB: number
}

interface MemFigures {
  empty: Mem
  idle: Mem
  hubAfter: Mem
  connected: number
  perConnMiB: number
  manyMiB: number
  procs: number
  failedDials: number
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function measureMemory(role: 'mesh' | 'handler', opts: BenchOptions & { clients: number; many: number }): Promise<MemFigures> {
  const settleMs = opts.quick ? 300 : 2000
  const spawn = (r: string, name: string) => RoleProcess.spawn(r, { name, signal: opts.signal, profile: opts.profile })
  const hub = await spawn(role, `p6-${role}-hub`)
  const clientProcs = await Promise.all(Array.from({ length: opts.quick ? 1 : 2 }, (_, i) => spawn('mesh', `p6-${role}-clients${i}`)))
  let f: Omit<MemFigures, 'manyMiB' | 'procs' | 'failedDials'>
  try {
    // RSS with every module loaded (the handler role imports @cpc/network lazily) but no node yet.
    await hub.call('load', {}, 60_000)
    const empty = await hub.call<Mem>('memory')
    const [h] = await hub.call<Array<{ addrs: string[] }>>('start', { count: 1 }, 60_000)
    await settle(settleMs)
    const idle = await hub.call<Mem>('memory')
    const half = opts.clients / clientProcs.length
    await Promise.all(clientProcs.map((p) => p.call('start', { count: half }, 60_000)))
    await Promise.all(
      clientProcs.map((p) => p.call('dial', { edges: Array.from({ length: half }, (_, i) => [i, h.addrs[0]]), concurrency: 4 }, 60_000)),
    )
    await settle(settleMs)
    const hubAfter = await hub.call<Mem>('memory')
    const connected = (await hub.call<{ perNode: number[] }>('connections')).perNode[0]
    f = { empty, idle, hubAfter, connected, perConnMiB: (hubAfter.rssMiB - idle.rssMiB) / Math.max(1, connected) }
  } finally {
    await Promise.all([hub.kill(), ...clientProcs.map((p) => p.kill())])
  }
  const procs = opts.quick ? 1 : 4
  const net = await startNetwork({
    n: opts.many,
    procs,
    degree: 4,
    seed: 42,
    role,
    name: `p6-${role}-many`,
    signal: opts.signal,
    profile: opts.profile,
    tolerant: true,
  })
  try {
    await settle(settleMs)
    const mems = await Promise.all(net.procs.map((p) => p.call<Mem>('memory')))
    return { ...f, manyMiB: mems.reduce((a, m) => a + m.rssMiB, 0), procs, failedDials: net.failedDials }
  } finally {
    await net.close()
  }
}

export async function p6(opts: BenchOptions): Promise<Row[]> {
  const o = { ...opts, clients: opts.quick ? 6 : 50, many: opts.quick ? 8 : 100 }
  const bare = await measureMemory('mesh', o)
  const rows: Row[] = [
    { id: 'P6.node', what: 'Node process with libp2p modules loaded, no node (RSS)', value: bare.empty.rssMiB, unit: 'MiB' },
    {
      id: 'P6.bare',
      what: 'idle bare libp2p node, own process (RSS after GC)',
      value: bare.idle.rssMiB,
      unit: 'MiB',
      note: `heap ${bare.idle.heapMiB.toFixed(1)} MiB`,
    },
    {
      id: 'P6.bconn',
      what: `bare libp2p hub: RSS growth per inbound connection (${bare.connected} clients)`,
      value: bare.perConnMiB,
      unit: 'MiB',
      note: `hub RSS ${bare.idle.rssMiB.toFixed(1)} -> ${bare.hubAfter.rssMiB.toFixed(1)} MiB`,
    },
    {
      id: 'P6.b100',
      what: `${o.many} bare nodes (4-regular graph) in ${bare.procs} processes: total RSS`,
      value: bare.manyMiB,
      unit: 'MiB',
      note: `${(bare.manyMiB / o.many).toFixed(1)} MiB per node, Node runtime included once per process; ${bare.failedDials} of ${o.many * 2} dials failed`,
    },
  ]
  let r: MemFigures | undefined
  try {
    r = (await ours.p6available?.()) ? await measureMemory('handler', o) : undefined
  } catch (err) {
    // Keep the baselines of this run; the cpc-net rows say what failed.
    rows.push(errorRow('P6.idle', 'cpc-net NetworkHandler memory', err instanceof Error ? err : new Error(String(err))))
    return rows
  }
  if (!r) {
    rows.push(
      missing('P6.idle', 'cpc-net idle NetworkHandler node (RSS)', 'pending', {
        unit: 'MiB',
        baseline: { what: 'bare node', value: bare.idle.rssMiB },
        target: '<= 100 MiB',
        note: 'needs NetworkHandler (@cpc/network built)',
      }),
    )
    rows.push(
      missing('P6.conn', 'cpc-net RSS growth per connection', 'pending', {
        unit: 'MiB',
        baseline: { what: 'bare', value: bare.perConnMiB },
        target: '<= 0.5 MiB',
      }),
    )
    rows.push(
      missing('P6.100', `${o.many} cpc-net nodes: total RSS`, 'pending', { unit: 'MiB', baseline: { what: 'bare', value: bare.manyMiB } }),
    )
  } else {
    rows.push({
      ...atMost('P6.idle', 'cpc-net idle NetworkHandler node, own process (RSS after GC)', r.idle.rssMiB, 'MiB', {
        what: 'bare node',
        value: bare.idle.rssMiB,
      }),
      target: '<= 100 MiB',
      met: r.idle.rssMiB <= 100,
      note: `heap ${r.idle.heapMiB.toFixed(1)} MiB; with @cpc/network loaded but no node ${r.empty.rssMiB.toFixed(1)} MiB (bare: ${bare.empty.rssMiB.toFixed(1)})`,
    })
    rows.push({
      ...atMost('P6.conn', `cpc-net hub: RSS growth per inbound connection (${r.connected} bare clients)`, r.perConnMiB, 'MiB', {
        what: 'bare',
        value: bare.perConnMiB,
      }),
      target: '<= 0.5 MiB',
      met: r.perConnMiB <= 0.5,
      note: `hub RSS ${r.idle.rssMiB.toFixed(1)} -> ${r.hubAfter.rssMiB.toFixed(1)} MiB`,
    })
    rows.push({
      ...atMost('P6.100', `${o.many} NetworkHandler nodes (4-regular graph) in ${r.procs} processes: total RSS`, r.manyMiB, 'MiB', {
        what: 'bare',
        value: bare.manyMiB,
      }),
      note: `${(r.manyMiB / o.many).toFixed(1)} MiB per node; ${r.failedDials} of ${o.many * 2} dials failed`,
    })
  }
  return rows
}
