// ConnectionManager on real libp2p nodes: the pooled ('reused') path, the dial timeout on the
// injected clock, protection mirrored into libp2p's peer store, and goodbyes on stop().
import { afterEach, describe, expect, it } from '@jest/globals'
import net from 'node:net'
import { GoodbyeReason, MessageSigner, PROTOCOL_ID, PeerState } from '@cpc/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerUpdate } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Registry } from 'prom-client'
import { CpcChannel } from '../src/channel.js'
import { ConnectionManager, type ManagerNode, type PeerStateEventDetail } from '../src/connection-manager.js'
import { PEER_STORE_PROTECT_TAG, PEER_STORE_PROTECT_TAG_VALUE } from '../src/constants.js'
import { createConnectionManagerMetrics } from '../src/metrics.js'
import { ManualClock } from './helpers/clock.js'
import { record, waitForEvent } from './helpers/events.js'
import { createNode, stopNodes, type TestNode } from './helpers/nodes.js'
import { FakeScorer, createStack, type Stack } from './helpers/stack.js'

const { PEER_STATE_DISCONNECTED: D, PEER_STATE_CONNECTING: CI, PEER_STATE_CONNECTED: C, PEER_STATE_DISCONNECTING: DI } = PeerState

const steps = (events: PeerStateEventDetail[], peerId: string): Array<[PeerState, PeerState, string]> =>
  events.filter((e) => e.peerId === peerId).map((e) => [e.from, e.to, e.reason])

describe('ConnectionManager lifecycle (real libp2p nodes)', () => {
  const stacks: Stack[] = []
  const nodes: TestNode[] = []
  const cleanups: Array<() => Promise<void>> = []
  const track = (s: Stack): Stack => {
    stacks.push(s)
    return s
  }

  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
    await Promise.all(stacks.splice(0).map(async (s) => s.stop()))
    await stopNodes(...nodes.splice(0).map((n) => n.node))
  })

  it("pooling: a libp2p connection the manager has not seen open is reused by connect(): Connecting → Connected ('reused'), no dial", async () => {
    const a = await createNode()
    const b = await createNode()
    nodes.push(a, b)
    const registry = new Registry()
    const metrics = createConnectionManagerMetrics(registry)
    // The manager's view of the node, withholding 'connection:open': the state libp2p is in when a
    // connection opened (by another component, or an event still in flight) before we heard of it.
    let dials = 0
    const view: ManagerNode = {
      dial: async (peer, options) => {
        dials++
        return a.node.dial(peer, options)
      },
      hangUp: async (peer, options) => a.node.hangUp(peer, options),
      getConnections: (peer) => a.node.getConnections(peer),
      peerStore: a.node.peerStore,
      addEventListener: ((type: 'connection:close', listener: (evt: CustomEvent) => void) => {
        if (type !== ('connection:open' as string)) a.node.addEventListener(type, listener)
      }) as ManagerNode['addEventListener'],
      removeEventListener: ((type: 'connection:close', listener: (evt: CustomEvent) => void) => a.node.removeEventListener(type, listener)) as ManagerNode['removeEventListener'],
    }
    const channel = new CpcChannel({ libp2p: a.node, metrics })
    const scorer = new FakeScorer()
    const cm = new ConnectionManager({ libp2p: view, channel, signer: new MessageSigner(a.privateKey), metrics, scorer })
    await channel.start()
    await cm.start()
    cleanups.push(async () => {
      await cm.stop()
      await channel.stop()
    })

    const conn = await a.node.dial(b.node.getMultiaddrs()[0])
    expect(cm.state(b.node.peerId)).toBe(D)
    const rec = record<PeerStateEventDetail>(cm, 'peer:state')
    await cm.connect(b.node.peerId)
    const bId = b.node.peerId.toString()
    expect(steps(rec.events, bId)).toEqual([
      [D, CI, 'dial'],
      [CI, C, 'reused'],
    ])
    expect(dials).toBe(0)
    expect(a.node.getConnections(b.node.peerId).map((c) => c.id)).toEqual([conn.id])
    expect(scorer.calls).toEqual([`connected ${bId}`, `dialSucceeded ${bId}`])
    expect(await registry.getSingleMetricAsString('cpc_connection_manager_dials_total')).toContain('kind="dial",result="reused"} 1')
    rec.stop()
  })

  it('the dial timeout runs on the injected clock: a peer that accepts TCP but never answers fails when the clock says so', async () => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((s) => {
      sockets.add(s)
      s.on('error', () => {})
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    const port = (server.address() as net.AddressInfo).port
    const clock = new ManualClock()
    const a = track(await createStack({ clock, init: { dialTimeoutMs: 5_000 } }))
    const ghost = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const rec = record<PeerStateEventDetail>(a.cm, 'peer:state')
    const accepted = new Promise<void>((resolve) => server.once('connection', () => resolve()))

    const pending = a.cm.connect(ghost, { multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${ghost.toString()}`)] })
    const outcome = pending.then(
      () => 'connected',
      (err: { code?: string }) => err.code,
    )
    await accepted
    expect(clock.pending).toBe(1) // the dial timeout, and nothing else
    clock.advance(4_999)
    expect(a.cm.state(ghost)).toBe(CI)
    clock.advance(1)
    expect(await outcome).toBe('ERR_DIAL_FAILED')
    expect(steps(rec.events, ghost.toString())).toEqual([
      [D, CI, 'dial'],
      [CI, D, 'dial-failed'],
    ])
    // connect() keeps the peer: the timeout is a failure like any other, so a retry is queued.
    expect(clock.pending).toBe(1)
    rec.stop()
  })

  it('protect() tags the peer in libp2p’s peer store while any protection remains; unprotect() removes it', async () => {
    const a = track(await createStack())
    const b = track(await createStack())
    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    const tagOf = async (): Promise<{ value: number } | undefined> => (await a.node.peerStore.get(b.node.peerId)).tags.get(PEER_STORE_PROTECT_TAG)
    expect(await tagOf()).toBeUndefined()
    const isB = (u: PeerUpdate): boolean => u.peer.id.equals(b.node.peerId)

    const tagged = waitForEvent<PeerUpdate>(a.node, 'peer:update', (u) => isB(u) && u.peer.tags.has(PEER_STORE_PROTECT_TAG))
    a.cm.protect(b.node.peerId, 'bootstrap')
    await tagged
    expect(await tagOf()).toEqual({ value: PEER_STORE_PROTECT_TAG_VALUE })

    // A second tag, then removing the first: still protected, still tagged.
    a.cm.protect(b.node.peerId, 'relay')
    a.cm.unprotect(b.node.peerId, 'bootstrap')
    expect(await tagOf()).toEqual({ value: PEER_STORE_PROTECT_TAG_VALUE })
    expect(a.cm.summaries()[0]).toMatchObject({ protected: true, tags: ['relay'] })

    const untagged = waitForEvent<PeerUpdate>(a.node, 'peer:update', (u) => isB(u) && !u.peer.tags.has(PEER_STORE_PROTECT_TAG))
    a.cm.unprotect(b.node.peerId, 'relay')
    await untagged
    expect(await tagOf()).toBeUndefined()

    // HIGH traffic protects too, and so tags too.
    const highTagged = waitForEvent<PeerUpdate>(a.node, 'peer:update', (u) => isB(u) && u.peer.tags.has(PEER_STORE_PROTECT_TAG))
    a.cm.markHighTraffic(b.node.peerId, true)
    await highTagged
    const highUntagged = waitForEvent<PeerUpdate>(a.node, 'peer:update', (u) => isB(u) && !u.peer.tags.has(PEER_STORE_PROTECT_TAG))
    a.cm.markHighTraffic(b.node.peerId, false)
    await highUntagged
    expect(await tagOf()).toBeUndefined()
  })

  it('stop() says goodbye (SHUTDOWN) to every connected peer, closes the connections and leaves no timer behind', async () => {
    const clock = new ManualClock()
    const a = await createStack({ clock })
    stacks.push(a)
    const peers = [track(await createStack()), track(await createStack())]
    const remotes = peers.map((p) => record<PeerStateEventDetail>(p.cm, 'peer:state'))
    for (const p of peers) await a.cm.connect(p.node.peerId, { multiaddrs: p.node.getMultiaddrs() })
    await Promise.all(remotes.map(async (r) => r.until((e) => e.some((x) => x.to === C))))
    const aId = a.node.peerId.toString()

    await a.cm.stop()
    for (const [i, p] of peers.entries()) {
      await remotes[i].until((e) => e.some((x) => x.to === D))
      expect(steps(remotes[i].events, aId).slice(-2)).toEqual([
        [C, DI, 'remote-goodbye'],
        [DI, D, 'closed'],
      ])
      expect(remotes[i].events.find((e) => e.reason === 'remote-goodbye')?.goodbye).toEqual({ direction: 'in', reason: GoodbyeReason.SHUTDOWN, detail: '' })
      expect(a.node.getConnections(p.node.peerId)).toHaveLength(0)
      remotes[i].stop()
    }
    expect(await a.registry.getSingleMetricAsString('cpc_connection_manager_goodbyes_total')).toContain('direction="out",reason="SHUTDOWN"} 2')
    expect(clock.pending).toBe(0)
  })

  it('stop() bounds all its goodbyes by stopGoodbyeTimeoutMs: a peer that never reads does not hold it up', async () => {
    const clock = new ManualClock()
    const a = await createStack({ clock, init: { goodbyeTimeoutMs: 60_000, stopGoodbyeTimeoutMs: 1_000 } })
    stacks.push(a)
    // A peer that accepts /cpc/1.0.0 streams and never reads or closes them.
    const mute = await createNode()
    nodes.push(mute)
    await mute.node.handle(PROTOCOL_ID, () => {}, { runOnLimitedConnection: true })
    await a.cm.connect(mute.node.peerId, { multiaddrs: mute.node.getMultiaddrs() })
    const rec = record<PeerStateEventDetail>(a.cm, 'peer:state')

    const stopping = a.cm.stop()
    await rec.until((e) => e.some((x) => x.reason === 'goodbye'))
    clock.advance(999)
    expect(a.cm.state(mute.node.peerId)).toBe(DI)
    clock.advance(1)
    await stopping
    expect(steps(rec.events, mute.node.peerId.toString())).toEqual([
      [C, DI, 'goodbye'],
      [DI, D, 'closed'],
    ])
    expect(a.node.getConnections(mute.node.peerId)).toHaveLength(0)
    expect(clock.pending).toBe(0)
    rec.stop()
  })
})
