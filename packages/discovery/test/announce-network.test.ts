// Real nodes on 127.0.0.1 (DHT server mode, CpcChannel, ConnectionManager): a member's announcement
// after joinGroup reaches its neighbour, which then answers a group-filtered exchange with exactly the
// member; and the periodic exchange connects an under-connected node without anyone calling
// exchangePeers.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Registry } from 'prom-client'
import type { Libp2p } from '@libp2p/interface'
import { ConnectionManager, CpcChannel } from '@cpc/connection-manager'
import { MessageSigner } from '@cpc/protocol'
import { Discovery, createDiscoveryMetrics, type DiscoveryInit, type PeerDiscoveredDetail } from '../src/index.js'
import { createTestNode, waitFor } from './helpers/node.js'

interface Member {
  node: Libp2p
  channel: CpcChannel
  manager: ConnectionManager
  discovery: Discovery
  registry: Registry
  discovered: PeerDiscoveredDetail[]
}

describe('announcements and periodic exchange between real nodes', () => {
  const members: Member[] = []
  let hub: Member
  let member: Member
  let other: Member

  async function start(init: DiscoveryInit): Promise<Member> {
    const { node, privateKey } = await createTestNode()
    const channel = new CpcChannel({ libp2p: node })
    await channel.start()
    const signer = new MessageSigner(privateKey)
    const manager = new ConnectionManager({ libp2p: node, channel, signer })
    await manager.start()
    const registry = new Registry()
    const discovery = new Discovery(
      { libp2p: node, connectionManager: manager, channel, signer, privateKey, metrics: createDiscoveryMetrics(registry) },
      { discoverTimeoutMs: 15_000, ...init },
    )
    const m: Member = { node, channel, manager, discovery, registry, discovered: [] }
    discovery.addEventListener('peer:discovered', (evt) => m.discovered.push(evt.detail))
    await discovery.start()
    members.push(m)
    return m
  }

  const counter = async (m: Member, name: string, labels: string): Promise<number> => {
    const text = await m.registry.getSingleMetricAsString(name)
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`))
    return line === undefined ? 0 : Number(line.split(' ').at(-1))
  }

  beforeAll(async () => {
    hub = await start({ periodicExchange: false, peerExchange: { rateBurst: 20 } })
    const bootstrap = hub.node.getMultiaddrs().map(String)
    member = await start({ bootstrap, periodicExchange: false })
    other = await start({ bootstrap, periodicExchange: false })
    await Promise.all([member, other].map(async (m) => m.discovery.bootstrapped()))
    await waitFor(() => (member.discovery.routingTableSize() ?? 0) >= 1 && (hub.discovery.routingTableSize() ?? 0) >= 2, 'routing tables to hold the hub and its peers')
  })

  afterAll(async () => {
    await Promise.all(members.map(async (m) => m.discovery.stop()))
    await Promise.all(members.map(async (m) => m.manager.stop()))
    await Promise.all(members.map(async (m) => m.channel.stop()))
    await Promise.all(members.map(async (m) => m.node.stop()))
  })

  it('joinGroup announces the signed record and groups to the neighbours; a group-filtered exchange returns exactly the member', async () => {
    await member.discovery.joinGroup('g')
    await waitFor(async () => (await counter(hub, 'cpc_discovery_peer_exchange_messages_total', 'direction="in",kind="announce"')) >= 1, 'the hub to receive the announcement')
    expect(await counter(member, 'cpc_discovery_announces_total', 'trigger="group"')).toBe(1)
    const asker = await start({ bootstrap: hub.node.getMultiaddrs().map(String), periodicExchange: false, announce: false })
    await asker.discovery.bootstrapped()
    const inGroup = await asker.discovery.exchangePeers(hub.node.peerId, { groups: ['g'], limit: 8 })
    expect(inGroup.map((p) => p.peerId.toString())).toEqual([member.node.peerId.toString()])
    expect(await asker.discovery.exchangePeers(hub.node.peerId, { groups: ['nobody-here'], limit: 8 })).toEqual([])
    const unfiltered = await asker.discovery.exchangePeers(hub.node.peerId, { limit: 8 })
    expect(unfiltered.map((p) => p.peerId.toString()).sort()).toEqual([member, other].map((m) => m.node.peerId.toString()).sort())
  })

  it('the periodic exchange connects an under-connected node to the peers of its only neighbour', async () => {
    const lonely = await start({ bootstrap: hub.node.getMultiaddrs().map(String), periodicExchange: { intervalMs: 100, targetPeers: 8 }, announce: false })
    const wanted = [member, other].map((m) => m.node.peerId.toString())
    await waitFor(() => wanted.every((id) => lonely.discovered.some((d) => d.source === 'exchange' && d.peerId.toString() === id)), 'the periodic exchange to learn the hub’s peers', 15_000)
    await waitFor(() => wanted.every((id) => lonely.manager.connectedPeers().some((p) => p.toString() === id)), 'connections to them', 15_000)
    expect(await counter(lonely, 'cpc_discovery_periodic_exchanges_total', 'outcome="learned"')).toBeGreaterThanOrEqual(1)
  })
})
