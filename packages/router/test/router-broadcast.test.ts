// Broadcast scopes over 10 real nodes in a sparse topology: a ring plus two chords.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { PeerId } from '@libp2p/interface'
import type { DeliveredMessage, MessageRejectedDetail } from '../src/types.js'
import { record } from './helpers/events.js'
import { createRouterStack, link, stopAll, type RouterStack } from './helpers/stack.js'

const N = 10
const EDGES: Array<[number, number]> = [...Array.from({ length: N }, (_, i) => [i, (i + 1) % N] as [number, number]), [0, 5], [2, 7]]

async function counter(stack: RouterStack, name: string): Promise<number> {
  const m = await stack.registry.getSingleMetric(name)?.get()
  return m?.values.reduce((s, v) => s + v.value, 0) ?? 0
}

describe('Router broadcast over 10 nodes (ring + chords)', () => {
  const stacks: RouterStack[] = []
  const groupMembers: PeerId[] = []
  let deliveries: Array<ReturnType<typeof record<DeliveredMessage>>> = []
  let rejections: Array<ReturnType<typeof record<MessageRejectedDetail>>> = []

  beforeAll(async () => {
    for (let i = 0; i < N; i++) {
      stacks.push(await createRouterStack({ groups: { members: async (group) => (group === 'blue' ? [...groupMembers] : []) } }))
    }
    groupMembers.push(stacks[1].peerId, stacks[5].peerId, stacks[8].peerId, stacks[0].peerId)
    for (const [x, y] of EDGES) await link(stacks[x], stacks[y])
    deliveries = stacks.map((s) => record<DeliveredMessage>(s.router, 'message'))
    rejections = stacks.map((s) => record<MessageRejectedDetail>(s.router, 'message:rejected'))
  }, 60_000)

  afterAll(async () => {
    await stopAll(stacks)
  })

  const deliveredOf = (nonce: bigint): number[] => deliveries.map((d) => d.events.filter((m) => m.nonce === nonce).length)

  it('All: every other node delivers exactly once; the flood ends through dedup', async () => {
    const result = await stacks[0].router.broadcast(new TextEncoder().encode('to all'), { scope: { kind: 'all' } })
    expect(result.sentTo).toBe(3) // ring neighbors 1, 9 and the chord to 5
    await Promise.all(deliveries.slice(1).map(async (d) => d.until((e) => e.some((m) => m.nonce === result.nonce))))
    // Quiescence: every copy sent (by the origin or a forwarder) was received as a delivery or a duplicate.
    const sent = async (): Promise<number> => result.sentTo + (await Promise.all(stacks.map(async (s) => counter(s, 'cpc_router_forwarded_total')))).reduce((a, b) => a + b, 0)
    const received = (): number =>
      deliveries.reduce((s, d) => s + d.events.filter((m) => m.nonce === result.nonce).length, 0) +
      rejections.reduce((s, r) => s + r.events.filter((e) => e.reason === 'duplicate').length, 0)
    for (let i = 0; i < 20_000 && received() < (await sent()); i++) await new Promise((resolve) => setImmediate(resolve))
    const total = await sent()
    expect(received()).toBe(total)
    console.info(`broadcast All over ${N} nodes, ${EDGES.length} links: ${total} transmissions for ${N - 1} deliveries`)
    expect(deliveredOf(result.nonce)).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    expect(deliveries[4].events.find((m) => m.nonce === result.nonce)?.origin).toBe(stacks[0].peerId.toString())
  })

  it('Neighbors: exactly the connected peers, no forwarding', async () => {
    const forwardedBefore = await Promise.all(stacks.map(async (s) => counter(s, 'cpc_router_forwarded_total')))
    const result = await stacks[3].router.broadcast(new TextEncoder().encode('hi neighbors'), { scope: { kind: 'neighbors' } })
    expect(result.sentTo).toBe(2)
    await Promise.all([2, 4].map(async (i) => deliveries[i].until((e) => e.some((m) => m.nonce === result.nonce))))
    // The copies were the last thing written: once both arrived, nothing else is in flight.
    await Promise.all(stacks.map(async (s) => s.router.whenIdle()))
    expect(deliveredOf(result.nonce)).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 0])
    expect(await Promise.all(stacks.map(async (s) => counter(s, 'cpc_router_forwarded_total')))).toEqual(forwardedBefore)
  })

  it('Group: exactly the members from discovery (dialling one that is not connected)', async () => {
    // Node 8 is no neighbor of node 0: discovery would have put its addresses in the peer store.
    await stacks[0].node.peerStore.merge(stacks[8].peerId, { multiaddrs: stacks[8].node.getMultiaddrs() })
    const result = await stacks[0].router.broadcast(new TextEncoder().encode('blue team'), { scope: { kind: 'group', group: 'blue' } })
    expect(result.sentTo).toBe(3)
    await Promise.all([1, 5, 8].map(async (i) => deliveries[i].until((e) => e.some((m) => m.nonce === result.nonce))))
    await Promise.all(stacks.map(async (s) => s.router.whenIdle()))
    expect(deliveredOf(result.nonce)).toEqual([0, 1, 0, 0, 0, 1, 0, 0, 1, 0])
    expect(deliveries[8].events.find((m) => m.nonce === result.nonce)?.group).toBe('blue')
  })
})
