// Broadcast forwards under load shedding, over real nodes in a line 0 - 1 - 2 - 3 (every copy past
// node 1 is a forward): event-loop delay alone never sheds a forward; queue pressure still does, and
// then the drop is counted and announced.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Priority } from '@cpc/protocol'
import type { DeliveredMessage, ForwardDroppedDetail } from '../src/types.js'
import { record, waitForEvent } from './helpers/events.js'
import { createRouterStack, link, stopAll, type RouterStack } from './helpers/stack.js'

const N = 4

async function dropped(stack: RouterStack, reason: string): Promise<number> {
  const m = await stack.registry.getSingleMetric('cpc_router_dropped_total')?.get()
  return m?.values.filter((v) => v.labels.reason === reason).reduce((s, v) => s + v.value, 0) ?? 0
}

async function forwardDropped(stack: RouterStack, reason: string): Promise<number> {
  const m = await stack.registry.getSingleMetric('cpc_router_forward_dropped_total')?.get()
  return m?.values.find((v) => v.labels.reason === reason)?.value ?? 0
}

describe('Broadcast forwards and load shedding (line of 4 nodes)', () => {
  const stacks: RouterStack[] = []
  let deliveries: Array<ReturnType<typeof record<DeliveredMessage>>> = []

  beforeAll(async () => {
    for (let i = 0; i < N; i++) stacks.push(await createRouterStack())
    for (let i = 0; i + 1 < N; i++) await link(stacks[i], stacks[i + 1])
    deliveries = stacks.map((s) => record<DeliveredMessage>(s.router, 'message'))
    // The forwarders' shedders are driven by hand: no timer resampling the real loop under them.
    for (const i of [1, 2]) stacks[i].router.shedder.stop()
  }, 60_000)

  afterAll(async () => {
    await stopAll(stacks)
  })

  const has = (i: number, nonce: bigint): boolean => deliveries[i].events.some((m) => m.nonce === nonce)

  it('event-loop delay sheds a node its own MEDIUM sends but not the MEDIUM broadcasts it forwards', async () => {
    for (const i of [1, 2]) {
      stacks[i].router.shedder.update(1e9, 0) // far past any threshold: level medium, reason event_loop_delay
      expect(stacks[i].router.shedder.shouldShed(Priority.MEDIUM)).toBe('event_loop_delay')
    }
    // The node's own new message is shed as it is queued...
    await expect(stacks[1].router.send(stacks[2].peerId, new Uint8Array([1]), { priority: Priority.MEDIUM })).rejects.toMatchObject({
      code: 'ERR_MESSAGE_SHED',
    })
    // ...while a broadcast from node 0 crosses both shedding nodes to the end of the line.
    const result = await stacks[0].router.broadcast(new TextEncoder().encode('through the load'), {
      scope: { kind: 'all' },
      priority: Priority.MEDIUM,
    })
    expect(result.sentTo).toBe(1)
    await deliveries[3].until((e) => e.some((m) => m.nonce === result.nonce))
    expect([1, 2, 3].map((i) => has(i, result.nonce))).toEqual([true, true, true])
    expect(stacks.map((s) => s.router.forwardDropCount())).toEqual([0, 0, 0, 0])
    expect(await dropped(stacks[1], 'event_loop_delay')).toBe(1) // the own send above, nothing else
  })

  it('queue pressure still sheds a forward: counted in cpc_router_dropped_total and announced', async () => {
    stacks[1].router.shedder.update(0, 1) // queue fill at 100%: level medium, reason queue_pressure
    expect(stacks[1].router.shedder.shouldShed(Priority.MEDIUM)).toBe('queue_pressure')
    const before = await dropped(stacks[1], 'queue_pressure')
    const drop = waitForEvent<ForwardDroppedDetail>(stacks[1].router, 'forward:dropped')
    const result = await stacks[0].router.broadcast(new TextEncoder().encode('memory first'), {
      scope: { kind: 'all' },
      priority: Priority.MEDIUM,
    })
    const d = await drop
    expect(d).toMatchObject({ nonce: result.nonce, reason: 'queue_pressure', priority: Priority.MEDIUM })
    expect(d.peer).toBe(stacks[2].peerId.toString())
    await deliveries[1].until((e) => e.some((m) => m.nonce === result.nonce))
    await Promise.all(stacks.map(async (s) => s.router.whenIdle()))
    expect([1, 2, 3].map((i) => has(i, result.nonce))).toEqual([true, false, false])
    expect(stacks[1].router.forwardDropCount('queue_pressure')).toBe(1)
    expect(await forwardDropped(stacks[1], 'queue_pressure')).toBe(1)
    expect(await dropped(stacks[1], 'queue_pressure')).toBe(before + 1)
  })
})
