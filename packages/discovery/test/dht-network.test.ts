// Ten nodes on 127.0.0.1, each told only the first node's address: DHT discovery, findPeer of a
// never-connected peer, and group membership through provider records.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Registry } from 'prom-client'
import type { Libp2p } from '@libp2p/interface'
import { ConnectionManager, CpcChannel } from '@cpc/connection-manager'
import { MessageSigner } from '@cpc/protocol'
import { Discovery, createDiscoveryMetrics, type DiscoveryMetrics, type PeerDiscoveredDetail } from '../src/index.js'
import { createTestNode, waitFor } from './helpers/node.js'

const N = 10

describe('DHT discovery across 10 nodes', () => {
  const nodes: Libp2p[] = []
  const channels: CpcChannel[] = []
  const managers: ConnectionManager[] = []
  const discoveries: Discovery[] = []
  const registries: Registry[] = []
  const metrics: DiscoveryMetrics[] = []
  /** Peers each node ever had a connection with. */
  const everConnected: Array<Set<string>> = []
  const discovered: PeerDiscoveredDetail[][] = []

  beforeAll(async () => {
    for (let i = 0; i < N; i++) {
      const { node, privateKey } = await createTestNode()
      nodes.push(node)
      const channel = new CpcChannel({ libp2p: node })
      await channel.start()
      channels.push(channel)
      const manager = new ConnectionManager({ libp2p: node, channel, signer: new MessageSigner(privateKey) })
      await manager.start()
      managers.push(manager)
      const seen = new Set<string>()
      node.addEventListener('peer:connect', (evt) => seen.add(evt.detail.toString()))
      everConnected.push(seen)
    }
    const bootstrap = nodes[0].getMultiaddrs().map((m) => m.toString())
    for (let i = 0; i < N; i++) {
      const registry = new Registry()
      registries.push(registry)
      metrics.push(createDiscoveryMetrics(registry))
      const d = new Discovery({ libp2p: nodes[i], connectionManager: managers[i], metrics: metrics[i] }, { bootstrap: i === 0 ? [] : bootstrap, discoverTimeoutMs: 20_000 })
      const events: PeerDiscoveredDetail[] = []
      d.addEventListener('peer:discovered', (evt) => events.push(evt.detail))
      discovered.push(events)
      discoveries.push(d)
    }
    await Promise.all(discoveries.map((d) => d.start()))
    await Promise.all(discoveries.map((d) => d.bootstrapped()))
    // The bootstrap node's routing table holds everyone once identify has run on each connection.
    await waitFor(() => (discoveries[0].routingTableSize() ?? 0) >= N - 1, 'the bootstrap routing table to fill')
  })

  afterAll(async () => {
    await Promise.all(discoveries.map((d) => d.stop()))
    await Promise.all(managers.map((m) => m.stop()))
    await Promise.all(channels.map((c) => c.stop()))
    await Promise.all(nodes.map((n) => n.stop()))
  })

  it('emits bootstrap discoveries and connects to the bootstrap peer through the connection manager, protected', () => {
    const bootId = nodes[0].peerId.toString()
    for (let i = 1; i < N; i++) {
      expect(discovered[i].some((e) => e.source === 'bootstrap' && e.peerId.equals(nodes[0].peerId))).toBe(true)
      expect(managers[i].connectedPeers().map(String)).toContain(bootId)
      expect(managers[i].summaries().find((p) => p.peerId === bootId)?.protected).toBe(true)
    }
  })

  it('findPeer resolves the addresses of a peer never connected to', async () => {
    const asker = N - 1
    const candidates = nodes.slice(1, N - 1).filter((n) => !everConnected[asker].has(n.peerId.toString()))
    expect(candidates.length).toBeGreaterThan(0)
    const target = candidates[0]
    const started = performance.now()
    const found = await discoveries[asker].discoverPeers({ peerId: target.peerId })
    const ms = performance.now() - started
    expect(found).toHaveLength(1)
    expect(found[0].peerId.equals(target.peerId)).toBe(true)
    const expected = target.getMultiaddrs().map((m) => m.decapsulateCode(421).toString())
    expect(found[0].multiaddrs.map((m) => m.toString())).toEqual(expect.arrayContaining(expected))
    // A second lookup runs after the initial self-query and may be answered from the peer store.
    const again = performance.now()
    expect(await discoveries[asker].discoverPeers({ peerId: target.peerId })).toHaveLength(1)
    console.log(`findPeer of a never-connected peer: first ${ms.toFixed(1)} ms, again ${(performance.now() - again).toFixed(1)} ms`)
    // An unknown peer id resolves to nothing rather than throwing.
    const { node: stranger } = await createTestNode({ withDht: false })
    try {
      expect(await discoveries[asker].discoverPeers({ peerId: stranger.peerId }, { signal: AbortSignal.timeout(15_000) })).toEqual([])
    } finally {
      await stranger.stop()
    }
    const text = await registries[asker].metrics()
    expect(text).toMatch(/cpc_discovery_dht_query_duration_seconds_count\{kind="find_peer",outcome="success"\} [1-9]/)
    expect(text).toMatch(/cpc_discovery_dht_query_duration_seconds_count\{kind="find_peer",outcome="not_found"\} 1/)
  })

  it('every node finds every other through the DHT', async () => {
    const missing = (i: number): string[] =>
      nodes
        .filter((_, j) => j !== i)
        .map((n) => n.peerId.toString())
        .filter((id) => !discoveries[i].knownPeers().some((p) => p.peerId.toString() === id))
    // The self-queries usually found everyone already; a random walk on every node fills the rest.
    const walks = await Promise.all(discoveries.map((d) => d.discoverPeers('random', { limit: N })))
    for (const w of walks) expect(w.length).toBeGreaterThan(0)
    for (let round = 0; round < 5; round++) {
      const incomplete = discoveries.map((_, i) => i).filter((i) => missing(i).length > 0)
      if (incomplete.length === 0) break
      await Promise.all(incomplete.map((i) => discoveries[i].discoverPeers('random', { limit: N })))
    }
    for (let i = 0; i < N; i++) expect(missing(i)).toEqual([])
    // Every node learned peers through the DHT (the bootstrap node learns everyone from it too).
    for (let i = 0; i < N; i++) expect(discovered[i].filter((e) => e.source === 'dht').length).toBeGreaterThan(0)
    const text = await registries[1].metrics()
    expect(text).toMatch(/cpc_discovery_peers_discovered_total\{source="dht"\} [1-9]/)
    expect(text).toMatch(/cpc_discovery_dht_query_duration_seconds_count\{kind="random_walk",outcome="success"\} [1-9]/)
    expect(text).toMatch(/cpc_discovery_routing_table_size [1-9]/)
  })

  it('group discovery: 3 of 10 join a group, a fourth finds exactly those three', async () => {
    const group = `players-${process.pid}`
    const members = [2, 4, 6]
    const joined = await Promise.all(members.map((i) => discoveries[i].joinGroup(group)))
    for (const groups of joined) expect(groups).toEqual([group])
    const found = await discoveries[8].discoverPeers({ group })
    expect(found.map((p) => p.peerId.toString()).sort()).toEqual(members.map((i) => nodes[i].peerId.toString()).sort())
    // A member looking up its own group finds the other two, never itself.
    const fromMember = await discoveries[2].discoverPeers({ group })
    expect(fromMember.map((p) => p.peerId.toString()).sort()).toEqual([4, 6].map((i) => nodes[i].peerId.toString()).sort())
    // Another group is empty.
    expect(await discoveries[8].discoverPeers({ group: `${group}-empty` }, { signal: AbortSignal.timeout(15_000) })).toEqual([])
    expect(await discoveries[2].leaveGroup(group)).toEqual([])
  })
})
