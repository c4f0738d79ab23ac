// A network of N bare libp2p nodes spread over a few "mesh" processes, connected as a random regular
// graph with a fixed seed (the same topology every run, and for every system compared on it).
import { RoleProcess } from '../proc.js'

export interface NetNode {
  proc: RoleProcess
  /** Index of the node inside its process. */
  local: number
  peerId: string
  addr: string
}

export interface Network {
  procs: RoleProcess[]
  nodes: NetNode[]
  edges: Array<[number, number]>
  /** neighbors[i]: indices adjacent to node i. */
  neighbors: number[][]
  dialMs: number
  /** Edges that could not be dialled (only with `tolerant`). */
  failedDials: number
  close(): Promise<void>
}

/** mulberry32: a small seeded PRNG, so topologies are identical across runs and systems. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A connected random d-regular simple graph on n nodes (pairing model, retried until valid). */
export function randomRegularGraph(n: number, d: number, seed: number): Array<[number, number]> {
  if ((n * d) % 2 !== 0 || d >= n) throw new RangeError(`no ${d}-regular graph on ${n} nodes`)
  const rnd = prng(seed)
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const points = Array.from({ length: n * d }, (_, i) => Math.floor(i / d))
    for (let i = points.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1))
      ;[points[i], points[j]] = [points[j], points[i]]
    }
    const edges: Array<[number, number]> = []
    const seen = new Set<string>()
    let ok = true
    for (let i = 0; i < points.length; i += 2) {
      const [a, b] = points[i] < points[i + 1] ? [points[i], points[i + 1]] : [points[i + 1], points[i]]
      if (a === b || seen.has(`${a}-${b}`)) {
        ok = false
        break
      }
      seen.add(`${a}-${b}`)
      edges.push([a, b])
    }
    if (ok && connected(n, edges)) return edges
  }
  throw new Error(`could not build a ${d}-regular graph on ${n} nodes`)
}

function connected(n: number, edges: Array<[number, number]>): boolean {
  const adj = adjacency(n, edges)
  const seen = new Set([0])
  const todo = [0]
  while (todo.length) {
    for (const m of adj[todo.pop()!]) {
      if (seen.has(m)) continue
      seen.add(m)
      todo.push(m)
    }
  }
  return seen.size === n
}

/** getMultiaddrs() already ends in /p2p/<id>; add it only when missing. */
export function withPeer(addr: string, peerId: string): string {
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${peerId}`
}

export function adjacency(n: number, edges: Array<[number, number]>): number[][] {
  const adj = Array.from({ length: n }, () => [] as number[])
  for (const [a, b] of edges) {
    adj[a].push(b)
    adj[b].push(a)
  }
  return adj
}

export interface NetworkOptions {
  n: number
  procs: number
  degree: number
  seed: number
  dht?: boolean
  name: string
  signal?: AbortSignal
  profile?: boolean
  /** 'mesh' (bare libp2p nodes, default), 'cpc' (Router stacks) or 'handler' (NetworkHandler). */
  role?: 'mesh' | 'cpc' | 'handler'
  /** Extra arguments of the role's 'start' command. */
  startArgs?: Record<string, unknown>
  /** Count failed dials instead of failing (memory runs need most edges, not all). */
  tolerant?: boolean
  /** Dial these edges instead of the seeded random regular graph (P5: a topology another system formed). */
  edges?: Array<[number, number]>
}

/** Starts N nodes over `procs` processes (node i lives in process i % procs) and dials the graph. */
export async function startNetwork(o: NetworkOptions): Promise<Network> {
  const procs = await Promise.all(
    Array.from({ length: o.procs }, (_, p) =>
      RoleProcess.spawn(o.role ?? 'mesh', { name: `${o.name}-${o.role ?? 'mesh'}${p}`, signal: o.signal, profile: o.profile }),
    ),
  )
  const close = async () => {
    await Promise.all(procs.map((p) => p.kill()))
  }
  try {
    const perProc = procs.map((_, p) => Array.from({ length: o.n }, (_, i) => i).filter((i) => i % o.procs === p).length)
    const started = await Promise.all(
      procs.map((p, k) =>
        p.call<Array<{ peerId: string; addrs: string[] }>>('start', { ...o.startArgs, count: perProc[k], dht: o.dht }, 120_000),
      ),
    )
    const nodes: NetNode[] = Array.from({ length: o.n }, (_, i) => {
      const p = i % o.procs
      const local = Math.floor(i / o.procs)
      return {
        proc: procs[p],
        local,
        peerId: started[p][local].peerId,
        addr: withPeer(started[p][local].addrs[0], started[p][local].peerId),
      }
    })
    const edges = o.edges ?? randomRegularGraph(o.n, o.degree, o.seed)
    const byProc = procs.map(() => [] as Array<[number, string]>)
    for (const [a, b] of edges) byProc[a % o.procs].push([nodes[a].local, nodes[b].addr])
    const t0 = performance.now()
    // A few dials at a time per process: dozens of simultaneous Noise handshakes on 2 busy cores
    // time out (EncryptionFailedError) and libp2p refuses > 10 pending inbound ones per listener.
    const dialled = await Promise.all(
      procs.map((p, k) => p.call<{ failed?: number }>('dial', { edges: byProc[k], concurrency: 4, tolerant: o.tolerant }, 180_000)),
    )
    const failedDials = dialled.reduce((a, d) => a + (d.failed ?? 0), 0)
    return { procs, nodes, edges, neighbors: adjacency(o.n, edges), dialMs: performance.now() - t0, failedDials, close }
  } catch (err) {
    await close()
    throw err
  }
}
