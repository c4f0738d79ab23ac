// The gRPC DiscoveryService over a real nice-grpc server and client on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createChannel, createClient, createServer, Status, type Channel, type Server, type ServerError } from 'nice-grpc'
import { common, discoveryApi } from '@cpc/protocol'
import type { Libp2p } from '@libp2p/interface'
import { Discovery, createDiscoveryService, discoveryErrorMiddleware } from '../src/index.js'
import { createTestNode, waitFor } from './helpers/node.js'

describe('gRPC DiscoveryService', () => {
  const nodes: Libp2p[] = []
  const discoveries: Discovery[] = []
  let server: Server
  let channel: Channel
  let client: discoveryApi.DiscoveryServiceClient

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push((await createTestNode()).node)
    const bootstrap = nodes[0].getMultiaddrs().map(String)
    for (let i = 0; i < 3; i++) discoveries.push(new Discovery({ libp2p: nodes[i] }, { bootstrap: i === 0 ? [] : bootstrap }))
    await Promise.all(discoveries.map((d) => d.start()))
    await Promise.all(discoveries.map((d) => d.bootstrapped()))
    await waitFor(() => (discoveries[0].routingTableSize() ?? 0) >= 2, 'the bootstrap routing table')
    server = createServer().use(discoveryErrorMiddleware)
    server.add(discoveryApi.DiscoveryServiceDefinition, createDiscoveryService(discoveries[1]))
    const port = await server.listen('127.0.0.1:0')
    channel = createChannel(`127.0.0.1:${port}`)
    client = createClient(discoveryApi.DiscoveryServiceDefinition, channel)
  })

  afterAll(async () => {
    channel?.close()
    await server?.shutdown()
    await Promise.all(discoveries.map((d) => d.stop()))
    await Promise.all(nodes.map((n) => n.stop()))
  })

  it('JoinGroup, Discover(group) and LeaveGroup', async () => {
    const group = `grpc-${process.pid}`
    expect((await client.joinGroup({ group })).groups).toEqual([group])
    const found = await discoveries[2].discoverPeers({ group })
    expect(found.map((p) => p.peerId.toString())).toEqual([nodes[1].peerId.toString()])
    await discoveries[2].joinGroup(group)
    const res = await client.discover({ target: { target: { $case: 'group', value: group } }, limit: 10, timeoutMs: 15_000 })
    expect(res.peers.map((p) => p.peerId)).toEqual([nodes[2].peerId.toString()])
    expect(res.peers[0].source).toBe(common.DiscoverySource.DISCOVERY_SOURCE_DHT)
    expect((await client.leaveGroup({ group })).groups).toEqual([])
  })

  it('Discover(peerId) and Discover(random)', async () => {
    const res = await client.discover({ target: { target: { $case: 'peerId', value: nodes[2].peerId.toString() } } })
    expect(res.peers).toHaveLength(1)
    expect(res.peers[0].multiaddrs.length).toBeGreaterThan(0)
    const random = await client.discover({ target: { target: { $case: 'random', value: true } }, limit: 5 })
    expect(random.peers.length).toBeGreaterThan(0)
  })

  it('ListKnownPeers, filtered by source', async () => {
    const all = await client.listKnownPeers({})
    expect(all.peers.map((p) => p.peerId)).toEqual(expect.arrayContaining([nodes[0].peerId.toString(), nodes[2].peerId.toString()]))
    const boot = await client.listKnownPeers({ source: common.DiscoverySource.DISCOVERY_SOURCE_BOOTSTRAP })
    expect(boot.peers.map((p) => p.peerId)).toEqual([nodes[0].peerId.toString()])
    expect((await client.listKnownPeers({ limit: 1 })).peers).toHaveLength(1)
  })

  it('maps invalid input to INVALID_ARGUMENT', async () => {
    for (const call of [
      () => client.joinGroup({ group: '' }),
      () => client.discover({}),
      () => client.discover({ target: { target: { $case: 'peerId', value: 'not-a-peer-id' } } }),
      () => client.listKnownPeers({ source: common.DiscoverySource.DISCOVERY_SOURCE_CONNECTION }),
    ]) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(Error)
      expect((err as ServerError).code).toBe(Status.INVALID_ARGUMENT)
    }
  })
})
