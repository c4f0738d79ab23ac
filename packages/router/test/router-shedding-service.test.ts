// Load shedding under a LOW flood, and the gRPC RouterService, over real nodes.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from '@jest/globals'
import { createChannel, createClient, createServer } from 'nice-grpc'
import { MessageType, Priority, Route, common, routerApi } from '@cpc/protocol'
import { MessageShedError } from '../src/errors.js'
import { createRouterService, routerErrorMiddleware } from '../src/service.js'
import type { DeliveredMessage, MessageExpiredDetail } from '../src/types.js'
import { record } from './helpers/events.js'
import { createRouterStack, link, stopAll, type RouterStack } from './helpers/stack.js'

const { HIGH, LOW } = Priority

describe('Router shedding and gRPC service', () => {
  let stacks: RouterStack[] = []
  afterEach(async () => {
    await stopAll(stacks)
    stacks = []
  })

  it('under a LOW flood past the queue bound, LOW is shed and counted, HIGH is not', async () => {
    const init = {
      routerInit: {
        peerQueueMaxFrames: 64,
        rateLimits: { [MessageType.EVENT]: { [LOW]: { ratePerSec: 100_000, burst: 100_000 }, [HIGH]: { ratePerSec: 100_000, burst: 100_000 } } },
      },
    }
    const a = await createRouterStack(init)
    const b = await createRouterStack(init)
    stacks.push(a, b)
    await link(a, b)
    const got = record<DeliveredMessage>(b.router, 'message')
    const expired = record<MessageExpiredDetail>(a.router, 'message:expired')
    const lows: Array<Promise<unknown>> = []
    const highs: Array<Promise<{ nonce: bigint }>> = []
    let shedAtSend = 0
    for (let i = 0; i < 2_000; i++) {
      lows.push(
        a.router.send(b.peerId, randomBytes(8 * 1024), { priority: LOW }).catch((err: unknown) => {
          if (!(err instanceof MessageShedError)) throw err
          shedAtSend++
        }),
      )
      if (i % 100 === 50) highs.push(a.router.send(b.peerId, new TextEncoder().encode(`high ${i}`), { priority: HIGH }))
    }
    await Promise.all(lows)
    const high = await Promise.all(highs)
    const highNonces = new Set(high.map((h) => h.nonce))
    await got.until((e) => e.filter((m) => highNonces.has(m.nonce)).length === high.length, 30_000)
    // Every LOW is accounted for: delivered, or shed (at send, or later from the queue, with an event).
    await got.until((e) => e.filter((m) => m.priority === LOW).length + shedAtSend + expired.events.length === 2_000, 30_000)
    const dropped = await a.registry.getSingleMetric('cpc_router_dropped_total')?.get()
    const byPriority = (p: string): number => dropped?.values.filter((v) => v.labels.priority === p).reduce((s, v) => s + v.value, 0) ?? 0
    const lowDelivered = got.events.filter((m) => m.priority === LOW).length
    console.info(
      `LOW flood 2000 x 8 KiB, bound 64 frames: ${lowDelivered} LOW delivered, ${shedAtSend} shed at send, ${expired.events.length} shed from the queue; HIGH ${high.length}/${high.length}`,
    )
    expect(a.router.shedCount('queue_full')).toBeGreaterThan(0)
    expect(byPriority('low')).toBe(a.router.shedCount())
    expect(byPriority('high')).toBe(0)
    expect(lowDelivered + shedAtSend + expired.events.length).toBe(2_000)
    expect(expired.events.every((e) => e.reason === 'queue_full')).toBe(true)
  })

  it('serves Send, Broadcast and Subscribe over gRPC, with errors mapped to statuses', async () => {
    const a = await createRouterStack()
    const b = await createRouterStack()
    stacks.push(a, b)
    await link(a, b)
    const servers = [createServer().use(routerErrorMiddleware), createServer().use(routerErrorMiddleware)]
    servers[0].add(routerApi.RouterServiceDefinition, createRouterService(a.router))
    servers[1].add(routerApi.RouterServiceDefinition, createRouterService(b.router))
    const ports = await Promise.all(servers.map(async (s) => s.listen('127.0.0.1:0')))
    const channels = ports.map((p) => createChannel(`127.0.0.1:${p}`))
    const [ca, cb] = channels.map((ch) => createClient(routerApi.RouterServiceDefinition, ch))
    const abort = new AbortController()
    try {
      const stream = cb.subscribe({ messageTypes: [MessageType.EVENT] }, { signal: abort.signal })
      const it = stream[Symbol.asyncIterator]()
      const first = it.next()
      // Subscribe is attached once the server handler runs: send until the stream yields.
      const sent = await ca.send({ peerId: b.peerId.toString(), payload: new Uint8Array([7]), priority: HIGH, messageType: MessageType.EVENT })
      expect(sent.route).toBe(Route.ROUTE_DIRECT)
      let item = await Promise.race([first, new Promise<null>((resolve) => b.router.addEventListener('message', () => resolve(null), { once: true }))])
      if (item === null) {
        // The message beat the subscription: send a second one, which the subscriber must see.
        const again = await ca.send({ peerId: b.peerId.toString(), payload: new Uint8Array([7]), priority: HIGH })
        item = await first
        expect([sent.nonce, again.nonce]).toContain(item.value.item?.$case === 'message' ? item.value.item.value.nonce : undefined)
      } else {
        expect(item.value.item?.$case === 'message' ? item.value.item.value.nonce : undefined).toBe(sent.nonce)
      }
      const received = item.value.item?.$case === 'message' ? item.value.item.value : undefined
      expect(received?.originPeerId).toBe(a.peerId.toString())
      expect(received?.payload).toEqual(new Uint8Array([7]))
      const bc = await ca.broadcast({ payload: new Uint8Array([1]), scope: { kind: common.BroadcastScope_Kind.KIND_NEIGHBORS, group: '' } })
      expect(bc.sentTo).toBe(1)
      await expect(ca.send({ peerId: 'not-a-peer', payload: new Uint8Array([1]) })).rejects.toMatchObject({ code: 3 }) // INVALID_ARGUMENT
      await expect(ca.broadcast({ payload: new Uint8Array([1]) })).rejects.toMatchObject({ code: 3 })
    } finally {
      abort.abort()
      for (const ch of channels) ch.close()
      await Promise.all(servers.map(async (s) => s.shutdown()))
    }
  })
})
