// Group and neighbors broadcast end to end through the real @cpc/discovery (kad-dht provider
// records), not a stub: seven NetworkHandlers on 127.0.0.1 in a line (each bootstraps from the one
// before it), three join group "g", the last node broadcasts to "g": exactly the three deliver, once.
// A neighbors broadcast reaches exactly the sender's connected set. Every wait is on an event or a
// condition with a bounded timeout; "nobody else" is checked after a fence broadcast to every node.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { PeerState, Priority } from '@cpc/protocol'
import type { NetworkHandler } from '../src/network-handler.js'
import type { MessageEventDetail } from '../src/events.js'
import { record, waitForEvent } from './helpers/events.js'
import { Handlers, addressOf } from './helpers/handlers.js'

const N = 7
const MEMBERS = [1, 3, 5]
const SENDER = 6

const handlers = new Handlers()
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Polls a condition (no fixed sleeps in the assertions); bounded. */
async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('group broadcast through the real discovery', () => {
  const nodes: NetworkHandler[] = []
  let inbox: Array<ReturnType<typeof record<MessageEventDetail>>>

  beforeAll(async () => {
    nodes.push(await handlers.started())
    for (let i = 1; i < N; i++) {
      const prev = nodes[i - 1]
      const node = await handlers.create({ bootstrap: [addressOf(prev)] })
      const connected = waitForEvent(node, 'peer:state', (d: { peerId: string; to: PeerState }) => d.peerId === prev.peerId.toString() && d.to === PeerState.PEER_STATE_CONNECTED, 20_000)
      await node.start()
      await connected
      nodes.push(node)
    }
    // Provider records need routing tables: each node's holds at least its line neighbours.
    await until(
      () => nodes.every((n, i) => (n.discovery.routingTableSize() ?? 0) >= (i === 0 || i === N - 1 ? 1 : 2)),
      'every routing table to hold the line neighbours',
    )
    inbox = nodes.map((n) => record<MessageEventDetail>(n, 'message'))
    for (const i of MEMBERS) await nodes[i].joinGroup('g')
    expect(MEMBERS.map((i) => nodes[i].groups())).toEqual(MEMBERS.map(() => ['g']))
  }, 120_000)

  afterAll(async () => {
    for (const r of inbox ?? []) r.stop()
    await handlers.stopAll()
  })

  const got = (i: number, payload: string): MessageEventDetail[] => inbox[i].events.filter((e) => str(e.payload) === payload)

  /** Broadcasts to every node and waits until each has it: later than anything sent before. */
  async function fence(name: string): Promise<void> {
    await nodes[SENDER].broadcast(text(name), Priority.LOW, { kind: 'all' })
    await Promise.all(nodes.map(async (_n, i) => (i === SENDER ? undefined : inbox[i].until((events) => events.some((e) => str(e.payload) === name), 20_000))))
  }

  it('a broadcast to group "g" from a non-member is delivered exactly once by exactly the three members', async () => {
    // DHT provider lookups are eventually consistent: in a loaded CI run one lookup right after the
    // joins found 2 of the 3 members (2026-11-24; joinGroup awaits its provide, so the lookup walked
    // past a record's holder). Ask again, bounded, until a lookup sees all three; what lookups found
    // stays in the group directory, and the broadcast below must reach exactly those three, once.
    const want = MEMBERS.map((i) => nodes[i].peerId.toString()).sort()
    let members = await nodes[SENDER].discoverPeers({ group: 'g' })
    for (const deadline = Date.now() + 20_000; members.length < want.length && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      members = await nodes[SENDER].discoverPeers({ group: 'g' })
    }
    expect(members.map((p) => p.peerId.toString()).sort()).toEqual(MEMBERS.map((i) => nodes[i].peerId.toString()).sort())
    const result = await nodes[SENDER].broadcast(text('to-g'), Priority.MEDIUM, { kind: 'group', group: 'g' })
    expect(result.sentTo).toBe(MEMBERS.length)
    await Promise.all(MEMBERS.map(async (i) => inbox[i].until((events) => events.some((e) => str(e.payload) === 'to-g'), 20_000)))
    await fence('fence-1')
    for (let i = 0; i < N; i++) {
      const deliveries = got(i, 'to-g')
      if (MEMBERS.includes(i)) {
        expect(deliveries).toHaveLength(1)
        expect(deliveries[0].group).toBe('g')
        expect(deliveries[0].origin).toBe(nodes[SENDER].peerId.toString())
      } else {
        expect(deliveries).toHaveLength(0)
      }
    }
  })

  it('a neighbors broadcast reaches exactly the connected set, once each', async () => {
    const sender = nodes[SENDER]
    const connected = sender.parts.connectionManager.connectedPeers().map(String).sort()
    expect(connected.length).toBeGreaterThan(0)
    const result = await sender.broadcast(text('to-neighbors'), Priority.MEDIUM, { kind: 'neighbors' })
    expect(result.sentTo).toBe(connected.length)
    const index = (id: string): number => nodes.findIndex((n) => n.peerId.toString() === id)
    await Promise.all(connected.map(async (id) => inbox[index(id)].until((events) => events.some((e) => str(e.payload) === 'to-neighbors'), 20_000)))
    await fence('fence-2')
    const reached = nodes
      .map((n, i) => ({ id: n.peerId.toString(), count: got(i, 'to-neighbors').length }))
      .filter((r) => r.count > 0)
    expect(reached.map((r) => r.id).sort()).toEqual(connected)
    expect(reached.every((r) => r.count === 1)).toBe(true)
  })
})
