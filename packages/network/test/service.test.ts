// The gRPC NodeService over a real nice-grpc server and client on 127.0.0.1, including a Subscribe
// stream that receives a message event, and errors mapped to statuses by nodeErrorMiddleware.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { DiscoverySource, PeerState, Priority, Route, common, nodeApi, wire } from '@cpc/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Status, createChannel, createClient, createServer, type Channel, type Client, type Server } from 'nice-grpc'
import type { NetworkHandler } from '../src/network-handler.js'
import { createNodeService, nodeErrorMiddleware } from '../src/service.js'
import { waitForEvent } from './helpers/events.js'
import { Handlers, addressOf } from './helpers/handlers.js'

type NodeClient = Client<typeof nodeApi.NodeServiceDefinition>

describe('NodeService over gRPC', () => {
  const handlers = new Handlers()
  let a: NetworkHandler
  let b: NetworkHandler
  const servers: Server[] = []
  const channels: Channel[] = []
  let clientA: NodeClient
  let clientB: NodeClient

  async function serve(handler: NetworkHandler): Promise<NodeClient> {
    const server = createServer().use(nodeErrorMiddleware)
    server.add(nodeApi.NodeServiceDefinition, createNodeService(handler))
    const port = await server.listen('127.0.0.1:0')
    servers.push(server)
    const channel = createChannel(`127.0.0.1:${port}`)
    channels.push(channel)
    return createClient(nodeApi.NodeServiceDefinition, channel)
  }

  beforeAll(async () => {
    a = await handlers.started()
    b = await handlers.create({ bootstrap: [addressOf(a)] })
    const connected = waitForEvent(b, 'peer:state', (d: { peerId: string; to: PeerState }) => d.peerId === a.peerId.toString() && d.to === PeerState.PEER_STATE_CONNECTED)
    await b.start()
    await connected
    clientA = await serve(a)
    clientB = await serve(b)
  })

  afterAll(async () => {
    for (const c of channels) c.close()
    await Promise.all(servers.map(async (s) => s.shutdown()))
    await handlers.stopAll()
  })

  it('GetStatus reports identity, addresses and counts', async () => {
    const s = await clientB.getStatus({})
    expect(s.peerId).toBe(b.peerId.toString())
    expect(s.listenAddrs.some((x) => x.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
    expect(s.connectedPeers).toBe(1)
    expect(s.reachability).toBe('unknown')
    expect(s.version).not.toBe('')
  })

  it('GetConnectionState, ListPeers and GetPeerScore', async () => {
    const state = await clientA.getConnectionState({ peerId: b.peerId.toString() })
    expect(state.state).toBe(PeerState.PEER_STATE_CONNECTED)
    expect(state.sinceMs).toBeGreaterThan(0n)
    const all = await clientA.listPeers({})
    expect(all.peers.map((p) => p.peerId)).toContain(b.peerId.toString())
    const connected = await clientA.listPeers({ state: PeerState.PEER_STATE_CONNECTED })
    expect(connected.peers.every((p) => p.state === PeerState.PEER_STATE_CONNECTED)).toBe(true)
    const score = await clientA.getPeerScore({ peerId: b.peerId.toString() })
    expect(score.score?.peerId).toBe(b.peerId.toString())
    expect(score.score?.composite).toBeGreaterThan(0)
  })

  it('Subscribe streams a message sent with SendMessage, as an Event when kind is given', async () => {
    const stream = clientB.subscribe({ kinds: ['message'] })
    const iterator = stream[Symbol.asyncIterator]()
    const first = iterator.next()
    // The server registers the subscription asynchronously; a first message may race it, so resend until one arrives.
    const sent = await clientA.sendMessage({ peerId: b.peerId.toString(), payload: new TextEncoder().encode('hi'), priority: Priority.HIGH, kind: 'greeting', contentId: 'c1' })
    expect(sent.route).toBe(Route.ROUTE_DIRECT)
    let resend: ReturnType<typeof setInterval> | undefined = setInterval(() => {
      void clientA.sendMessage({ peerId: b.peerId.toString(), payload: new TextEncoder().encode('hi'), priority: Priority.HIGH, kind: 'greeting', contentId: 'c1' })
    }, 200)
    try {
      const { value } = await first
      const event = value?.event?.event
      expect(event?.$case).toBe('message')
      if (event?.$case !== 'message') throw new Error('not a message')
      expect(event.value.originPeerId).toBe(a.peerId.toString())
      expect(event.value.priority).toBe(Priority.HIGH)
      const decoded = wire.Event.decode(event.value.payload)
      expect(decoded).toMatchObject({ kind: 'greeting', contentId: 'c1' })
      expect(new TextDecoder().decode(decoded.body)).toBe('hi')
    } finally {
      clearInterval(resend)
      resend = undefined
      // Ending the iteration cancels the call; the server's subscription closes with it.
      await iterator.return?.()
    }
  })

  it('Broadcast to neighbors and DiscoverPeers by peer id', async () => {
    const res = await clientA.broadcast({ payload: new Uint8Array([1]), priority: Priority.LOW, scope: { kind: common.BroadcastScope_Kind.KIND_NEIGHBORS, group: '' } })
    expect(res.sentTo).toBe(1)
    const found = await clientB.discoverPeers({ target: { target: { $case: 'peerId', value: a.peerId.toString() } }, timeoutMs: 5000 })
    expect(found.peers.map((p) => p.peerId)).toContain(a.peerId.toString())
  })

  it('maps typed errors to gRPC statuses', async () => {
    await expect(clientA.getConnectionState({ peerId: 'nope' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT })
    await expect(clientA.sendMessage({ peerId: 'nope', payload: new Uint8Array([1]) })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining('ERR_INVALID_PEER_ID') })
    await expect(clientA.broadcast({ payload: new Uint8Array([1]) })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT })
    await expect(clientA.discoverPeers({})).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT })
    const stream = clientA.subscribe({ kinds: ['nonsense'] })
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT })
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    expect((await clientA.getPeerScore({ peerId: nobody })).score?.composite).toBeCloseTo(0.5)
  })

  it('Subscribe carries peer_discovered with its source', async () => {
    const stream = clientA.subscribe({ kinds: ['peer_discovered'] })
    const iterator = stream[Symbol.asyncIterator]()
    const first = iterator.next()
    const c = await handlers.create({ bootstrap: [addressOf(a)] })
    await c.start()
    try {
      const { value } = await first
      expect(value?.event?.event?.$case).toBe('peerDiscovered')
      if (value?.event?.event?.$case === 'peerDiscovered') {
        expect(value.event.event.value.peerId).toBe(c.peerId.toString())
        expect(value.event.event.value.source).toBe(DiscoverySource.DISCOVERY_SOURCE_CONNECTION)
      }
    } finally {
      // Ending the iteration cancels the call; the server's subscription closes with it.
      await iterator.return?.()
    }
  })
})
