// Routes over real nodes: through a circuit relay, queued for an offline peer, across a restart.
import { afterEach, describe, expect, it } from '@jest/globals'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { Priority, Route } from '@cpc/protocol'
import type { DeliveredMessage, MessageExpiredDetail } from '../src/types.js'
import { record, waitForEvent } from './helpers/events.js'
import { createRelayServer, createRouterStack, link, stopAll, tempDir, type RouterStack } from './helpers/stack.js'

const { HIGH, MEDIUM, LOW } = Priority
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Resolves once the outbox holds `n` entries: removal follows the write by one LevelDB batch. */
async function outboxSettles(stack: RouterStack, n: number): Promise<void> {
  for (let i = 0; i < 20_000 && stack.outbox.size() !== n; i++) await new Promise((resolve) => setImmediate(resolve))
  expect(stack.outbox.size()).toBe(n)
}

describe('Router routes', () => {
  let stacks: RouterStack[] = []
  let relay: Libp2p | undefined
  afterEach(async () => {
    await stopAll(stacks)
    stacks = []
    await relay?.stop()
    relay = undefined
  })

  it('reaches a peer that listens only through a circuit relay (RELAY route)', async () => {
    relay = await createRelayServer()
    const relayAddr = relay.getMultiaddrs()[0]
    const target = await createRouterStack({ listen: [`${relayAddr.toString()}/p2p-circuit`], relayClient: true })
    stacks.push(target)
    if (!target.node.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'))) {
      await waitForEvent(target.node, 'self:peer:update', () => target.node.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit')))
    }
    const circuitAddrs = target.node.getMultiaddrs()
    expect(circuitAddrs.every((a) => a.toString().includes('/p2p-circuit'))).toBe(true)
    const sender = await createRouterStack({ relayClient: true })
    stacks.push(sender)
    // The sender learns only the relayed address.
    await sender.node.peerStore.merge(target.peerId, { multiaddrs: [multiaddr(`${relayAddr.toString()}/p2p-circuit/p2p/${target.peerId.toString()}`)] })
    const got = waitForEvent<DeliveredMessage>(target.router, 'message')
    const result = await sender.router.send(target.peerId, text('via relay'), { priority: HIGH })
    expect(result.route).toBe(Route.ROUTE_RELAY)
    const m = await got
    expect(str(m.payload)).toBe('via relay')
    expect(m.origin).toBe(sender.peerId.toString())
    // The receiver knows it came through the relay too.
    expect(m.route).toBe(Route.ROUTE_RELAY)
    const conns = sender.node.getConnections(target.peerId)
    expect(conns.length).toBeGreaterThan(0)
    expect(conns.every((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true)
  })

  it('queues a message for an offline peer and delivers it when the peer comes online; expires what is due', async () => {
    const a = await createRouterStack({ routerInit: { outboxExpireIntervalMs: 50 } })
    stacks.push(a)
    const bKey = await generateKeyPair('Ed25519')
    const bFirst = await createRouterStack({ privateKey: bKey })
    const bAddrs = bFirst.node.getMultiaddrs()
    await bFirst.stop()
    await a.node.peerStore.merge(bFirst.peerId, { multiaddrs: bAddrs })

    const expired = record<MessageExpiredDetail>(a.router, 'message:expired')
    const queued = await a.router.send(bFirst.peerId, text('later'), { priority: HIGH })
    const shortLived = await a.router.send(bFirst.peerId, text('too late'), { priority: LOW, ttlMs: 100 })
    expect(queued.route).toBe(Route.ROUTE_QUEUED)
    expect(shortLived.route).toBe(Route.ROUTE_QUEUED)
    await expired.until((e) => e.length === 1)
    expect(expired.events[0]).toEqual({ peer: bFirst.peerId.toString(), nonce: shortLived.nonce, reason: 'expired' })
    expect(a.router.queueDepth().outbox).toBe(1)

    const b = await createRouterStack({ privateKey: bKey })
    stacks.push(b)
    const got = waitForEvent<DeliveredMessage>(b.router, 'message')
    await link(b, a) // the peer comes online and connects; a's manager reports it Connected
    const m = await got
    expect(str(m.payload)).toBe('later')
    expect(m.nonce).toBe(queued.nonce)
    await outboxSettles(a, 0)
  })

  it('messages queued before a restart of the sender (same identity, same data dir) are still delivered', async () => {
    const aKey = await generateKeyPair('Ed25519')
    const dataDir = await tempDir()
    const bKey = await generateKeyPair('Ed25519')
    const bFirst = await createRouterStack({ privateKey: bKey })
    const bAddrs = bFirst.node.getMultiaddrs()
    await bFirst.stop()

    const a1 = await createRouterStack({ privateKey: aKey, dataDir })
    stacks.push(a1)
    await a1.node.peerStore.merge(bFirst.peerId, { multiaddrs: bAddrs })
    const sent = []
    for (const [i, priority] of [LOW, MEDIUM, HIGH].entries()) sent.push(await a1.router.send(bFirst.peerId, text(`m${i}`), { priority }))
    expect(sent.every((r) => r.route === Route.ROUTE_QUEUED)).toBe(true)
    await a1.stop()

    const a2 = await createRouterStack({ privateKey: aKey, dataDir })
    stacks.push(a2)
    expect(a2.peerId.equals(a1.peerId)).toBe(true)
    expect(a2.router.queueDepth().outbox).toBe(3)
    const b = await createRouterStack({ privateKey: bKey })
    stacks.push(b)
    const got = record<DeliveredMessage>(b.router, 'message')
    await link(b, a2)
    await got.until((e) => e.length === 3)
    // HIGH first from the outbox.
    expect(got.events.map((m) => str(m.payload))).toEqual(['m2', 'm1', 'm0'])
    expect(new Set(got.events.map((m) => m.nonce))).toEqual(new Set(sent.map((r) => r.nonce)))
    await outboxSettles(a2, 0)
  })
})
