// The gRPC ConnectionManagerService through a real nice-grpc server and client on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { GoodbyeReason, PeerState, Priority, connectionManagerApi } from '@cpc/protocol'
import { ClientError, Status, createChannel, createClient, createServer, type Channel, type Client, type Server } from 'nice-grpc'
import type { ConnectionManager } from '../src/connection-manager.js'
import { connectionManagerErrorMiddleware, createConnectionManagerService } from '../src/service.js'
import { createStack, type Stack } from './helpers/stack.js'

type CmClient = Client<typeof connectionManagerApi.ConnectionManagerServiceDefinition>

describe('ConnectionManagerService over gRPC', () => {
  let a: Stack
  let b: Stack
  let server: Server
  let channel: Channel
  let client: CmClient
  let subscribed: () => void = () => {}

  beforeAll(async () => {
    a = await createStack()
    b = await createStack()
    // The service sees the manager through this view, so the test knows when WatchStates subscribed.
    const cm: ConnectionManager = a.cm
    const view = {
      info: cm.info.bind(cm),
      summaries: cm.summaries.bind(cm),
      connect: cm.connect.bind(cm),
      disconnect: cm.disconnect.bind(cm),
      state: cm.state.bind(cm),
      removeEventListener: cm.removeEventListener.bind(cm),
      addEventListener: ((type, listener) => {
        cm.addEventListener(type, listener)
        subscribed()
      }) as ConnectionManager['addEventListener'],
    }
    server = createServer().use(connectionManagerErrorMiddleware)
    server.add(connectionManagerApi.ConnectionManagerServiceDefinition, createConnectionManagerService(view))
    const port = await server.listen('127.0.0.1:0')
    channel = createChannel(`127.0.0.1:${port}`)
    client = createClient(connectionManagerApi.ConnectionManagerServiceDefinition, channel)
  })

  afterAll(async () => {
    channel?.close()
    await server?.shutdown()
    await a?.stop()
    await b?.stop()
  })

  it('GetState of an unknown peer is DISCONNECTED', async () => {
    const res = await client.getState({ peerId: b.node.peerId.toString() })
    expect(res.state).toBe(PeerState.PEER_STATE_DISCONNECTED)
    expect(res.dialAttempts).toBe(0)
  })

  it('maps a bad peer id to INVALID_ARGUMENT', async () => {
    await expect(client.getState({ peerId: 'not-a-peer' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT })
    const err = await client.connect({ peerId: 'nope' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClientError)
    expect((err as ClientError).details).toContain('ERR_INVALID_PEER_ID')
  })

  it('Connect, ListConnections, GetState, and WatchStates seeing the Disconnect', async () => {
    const bId = b.node.peerId.toString()
    const connected = await client.connect({ peerId: bId, multiaddrs: b.node.getMultiaddrs().map(String), priority: Priority.HIGH, timeoutMs: 5000 })
    expect(connected.state).toBe(PeerState.PEER_STATE_CONNECTED)

    const list = await client.listConnections({})
    expect(list.peers).toHaveLength(1)
    expect(list.peers[0]).toMatchObject({ peerId: bId, state: PeerState.PEER_STATE_CONNECTED, protected: false })
    const state = await client.getState({ peerId: bId })
    expect(state.state).toBe(PeerState.PEER_STATE_CONNECTED)
    expect(state.dialAttempts).toBe(1)
    expect(state.sinceMs).toBeGreaterThan(0n)

    const isSubscribed = new Promise<void>((resolve) => {
      subscribed = resolve
    })
    const abort = new AbortController()
    const changes: Array<{ from: PeerState; to: PeerState; reason: string }> = []
    const watching = (async () => {
      for await (const res of client.watchStates({ peerId: bId }, { signal: abort.signal })) {
        changes.push({ from: res.change!.from, to: res.change!.to, reason: res.change!.reason })
        if (res.change!.to === PeerState.PEER_STATE_DISCONNECTED) break
      }
    })()
    await isSubscribed

    const disconnected = await client.disconnect({ peerId: bId, reason: GoodbyeReason.USER_REQUESTED })
    expect(disconnected.state).toBe(PeerState.PEER_STATE_DISCONNECTED)
    await watching
    abort.abort()
    expect(changes).toEqual([
      { from: PeerState.PEER_STATE_CONNECTED, to: PeerState.PEER_STATE_DISCONNECTING, reason: 'goodbye' },
      { from: PeerState.PEER_STATE_DISCONNECTING, to: PeerState.PEER_STATE_DISCONNECTED, reason: 'closed' },
    ])
  })

  it('Connect to an unreachable address fails with UNAVAILABLE', async () => {
    const other = await createStack()
    const id = other.node.peerId.toString()
    const addrs = other.node.getMultiaddrs().map(String)
    await other.stop()
    await expect(client.connect({ peerId: id, multiaddrs: addrs, timeoutMs: 5000 })).rejects.toMatchObject({ code: Status.UNAVAILABLE })
    // Stop the background retries of that peer.
    await client.disconnect({ peerId: id, reason: GoodbyeReason.USER_REQUESTED })
  })
})
