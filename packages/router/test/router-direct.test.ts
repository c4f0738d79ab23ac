// Router over real libp2p nodes on 127.0.0.1: priorities, dedup, chunking/compression, rejections.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from '@jest/globals'
import { Compression, MessageType, Priority, Route, buildMessages, encodeFrame, type CpcMessage } from '@cpc/protocol'
import type { DeliveredMessage, MessageRejectedDetail } from '../src/types.js'
import { record, waitForEvent } from './helpers/events.js'
import { createRouterStack, link, stopAll, type RouterStack } from './helpers/stack.js'

const { HIGH, MEDIUM, LOW } = Priority

describe('Router over real nodes', () => {
  let stacks: RouterStack[] = []
  afterEach(async () => {
    await stopAll(stacks)
    stacks = []
  })

  async function pair(init: Parameters<typeof createRouterStack>[0] = {}): Promise<[RouterStack, RouterStack]> {
    const a = await createRouterStack(init)
    const b = await createRouterStack(init)
    stacks.push(a, b)
    await link(a, b)
    return [a, b]
  }

  it('delivers a message at each priority with its payload, origin and verified signature', async () => {
    const [a, b] = await pair()
    const got = record<DeliveredMessage>(b.router, 'message')
    const results = []
    for (const priority of [LOW, MEDIUM, HIGH]) results.push(await a.router.send(b.peerId, new TextEncoder().encode(`p${priority}`), { priority }))
    expect(results.every((r) => r.route === Route.ROUTE_DIRECT)).toBe(true)
    await got.until((e) => e.length === 3)
    for (const priority of [LOW, MEDIUM, HIGH]) {
      const m = got.events.find((e) => e.priority === priority) as DeliveredMessage
      expect(new TextDecoder().decode(m.payload)).toBe(`p${priority}`)
      expect(m.origin).toBe(a.peerId.toString())
      expect(m.from).toBe(a.peerId.toString())
      expect(m.type).toBe(MessageType.EVENT)
      expect(m.route).toBe(Route.ROUTE_DIRECT)
      expect(results.map((r) => r.nonce)).toContain(m.nonce)
    }
    const delivered = await b.registry.getSingleMetricAsString('cpc_router_delivered_total')
    expect(delivered).toContain('priority="high"')
  })

  it('a HIGH message sent after a large LOW backlog is delivered before the backlog drains', async () => {
    const [a, b] = await pair({ routerInit: { rateLimits: { [MessageType.EVENT]: { [LOW]: { ratePerSec: 10_000, burst: 10_000 } } } } })
    const got = record<DeliveredMessage>(b.router, 'message')
    const backlog = 200
    const lows: Array<Promise<unknown>> = []
    for (let i = 0; i < backlog; i++) lows.push(a.router.send(b.peerId, randomBytes(64 * 1024), { priority: LOW }))
    await Promise.all(lows)
    const depth = a.router.queueDepth()
    const high = await a.router.send(b.peerId, new TextEncoder().encode('urgent'), { priority: HIGH })
    await got.until((e) => e.length === backlog + 1, 30_000)
    const position = got.events.findIndex((e) => e.nonce === high.nonce)
    console.info(`LOW queued when HIGH was sent: ${depth.low}; HIGH delivered at position ${position} of ${backlog + 1}`)
    expect(depth.low).toBeGreaterThan(0)
    expect(position).toBeLessThan(backlog)
  })

  it('the same message arriving twice (resend and a forwarded copy) reaches the application once', async () => {
    const [a, b] = await pair()
    const c = await createRouterStack()
    stacks.push(c)
    await link(c, b)
    const got = record<DeliveredMessage>(b.router, 'message')
    const dups = record<MessageRejectedDetail>(b.router, 'message:rejected')
    const [msg] = buildMessages({ type: MessageType.EVENT, priority: MEDIUM, payload: new Uint8Array([1, 2, 3]) }, a.signer, a.nonces)
    const frame = encodeFrame(msg)
    await a.channel.send(b.peerId, frame)
    await a.channel.send(b.peerId, frame) // resend
    await c.channel.send(b.peerId, frame) // forwarded copy: origin a, from c
    await dups.until((e) => e.filter((d) => d.reason === 'duplicate').length === 2)
    expect(got.events).toHaveLength(1)
    expect(got.events[0].nonce).toBe(msg.nonce)
    const hits = await b.registry.getSingleMetric('cpc_router_dedup_hits_total')?.get()
    expect(hits?.values[0].value).toBe(2)
  })

  it('chunks, compresses, reassembles and verifies a 20 MiB payload (compressible and not)', async () => {
    // Both nodes share this process's event loop: compressing, signing and verifying 20 MiB blocks it
    // for hundreds of ms, which the load shedder rightly sees as lag and would shed the next MEDIUM
    // message for. Delay-based shedding is out of the way here (it has its own tests).
    const [a, b] = await pair({ routerInit: { shedding: { delayMs: { lowEnter: 60_000, lowExit: 30_000, mediumEnter: 120_000, mediumExit: 60_000 } } } })
    const frames = record<{ message: CpcMessage }>(b.channel, 'message')
    const got = record<DeliveredMessage>(b.router, 'message')
    // Compressible: 1 KiB random then 1 KiB of zeros, repeated; incompressible: random.
    const compressible = new Uint8Array(20 * 1024 * 1024)
    for (let off = 0; off < compressible.length; off += 2048) compressible.set(randomBytes(1024), off)
    const random = randomBytes(20 * 1024 * 1024)
    const r1 = await a.router.send(b.peerId, compressible)
    await got.until((e) => e.length === 1, 60_000)
    const chunks1 = frames.events.filter((e) => e.message.chunk?.messageId === r1.nonce)
    expect(Buffer.from(got.events[0].payload).equals(Buffer.from(compressible))).toBe(true)
    expect(chunks1.every((e) => e.message.compression === Compression.LZ4)).toBe(true)
    const bytes1 = b.channel.bytesIn(a.peerId)
    const r2 = await a.router.send(b.peerId, random)
    await got.until((e) => e.length === 2, 60_000)
    const chunks2 = frames.events.filter((e) => e.message.chunk?.messageId === r2.nonce)
    expect(Buffer.from(got.events[1].payload).equals(random)).toBe(true)
    expect(chunks2.every((e) => e.message.compression === Compression.NONE)).toBe(true)
    console.info(`20 MiB compressible: ${chunks1.length} chunks, ${bytes1} bytes on the wire; random: ${chunks2.length} chunks`)
    expect(chunks1.length).toBeGreaterThan(1)
    expect(chunks1.length).toBeLessThan(chunks2.length)
    expect(chunks2.length).toBe(80)
    expect(b.router.reassembly()).toEqual({ bytes: 0, messages: 0 })
  })

  it('a chunked message with a missing chunk fails after the reassembly timeout and releases its memory', async () => {
    const [a, b] = await pair({ routerInit: { reassemblyTimeoutMs: 300, reassemblySweepMs: 100 } })
    const rejected = record<MessageRejectedDetail>(b.router, 'message:rejected')
    const msgs = buildMessages({ type: MessageType.EVENT, priority: MEDIUM, payload: randomBytes(1024 * 1024) }, a.signer, a.nonces)
    expect(msgs.length).toBe(4)
    await a.channel.send(
      b.peerId,
      msgs.filter((_, i) => i !== 2).map((m) => encodeFrame(m)),
    )
    await rejected.until((e) => e.some((d) => d.reason === 'reassembly_timeout'))
    const timeout = rejected.events.find((d) => d.reason === 'reassembly_timeout') as MessageRejectedDetail
    expect(timeout.code).toBe('ERR_REASSEMBLY_TIMEOUT')
    expect(timeout.peer).toBe(a.peerId.toString())
    expect(b.router.reassembly()).toEqual({ bytes: 0, messages: 0 })
  })

  it('rejects a tampered signature and lowers the sender score', async () => {
    const [a, b] = await pair()
    const rejected = record<MessageRejectedDetail>(b.router, 'message:rejected')
    const before = b.scorer.composite(a.peerId.toString())
    const [msg] = buildMessages({ type: MessageType.EVENT, priority: MEDIUM, payload: new Uint8Array([9, 9, 9]) }, a.signer, a.nonces)
    const tampered = { ...msg, payload: new Uint8Array([9, 9, 8]) }
    await a.channel.send(b.peerId, encodeFrame(tampered))
    await rejected.until((e) => e.length === 1)
    expect(rejected.events[0]).toMatchObject({ peer: a.peerId.toString(), reason: 'invalid_signature', code: 'ERR_INVALID_SIGNATURE' })
    expect(b.scorer.composite(a.peerId.toString())).toBeLessThan(before)
    // The genuine message, sent after, still gets through (the forgery did not poison dedup).
    const got = waitForEvent<DeliveredMessage>(b.router, 'message')
    await a.channel.send(b.peerId, encodeFrame(msg))
    expect((await got).nonce).toBe(msg.nonce)
  })

  it('throttles a peer flooding past its rate limit while another peer keeps flowing', async () => {
    const init = { routerInit: { rateLimits: { [MessageType.EVENT]: { [MEDIUM]: { ratePerSec: 50, burst: 20 } } } } }
    const [flooder, b] = await pair(init)
    const c = await createRouterStack(init)
    stacks.push(c)
    await link(c, b)
    const got = record<DeliveredMessage>(b.router, 'message')
    const rejected = record<MessageRejectedDetail>(b.router, 'message:rejected')
    const before = b.scorer.composite(flooder.peerId.toString())
    const flood = buildMessages({ type: MessageType.EVENT, priority: MEDIUM, payload: new Uint8Array(8) }, flooder.signer, flooder.nonces)
    const floodFrames = Array.from({ length: 500 }, () => encodeFrame(buildMessages({ type: MessageType.EVENT, priority: MEDIUM, payload: new Uint8Array(8) }, flooder.signer, flooder.nonces)[0]))
    floodFrames.push(encodeFrame(flood[0]))
    await flooder.channel.send(b.peerId, floodFrames)
    for (let i = 0; i < 10; i++) await c.router.send(b.peerId, new Uint8Array([i]))
    await got.until((e) => e.filter((m) => m.from === c.peerId.toString()).length === 10)
    await rejected.until((e) => e.filter((d) => d.reason === 'rate_limited').length >= 400)
    const fromFlooder = got.events.filter((m) => m.from === flooder.peerId.toString()).length
    const limited = rejected.events.filter((d) => d.reason === 'rate_limited')
    console.info(`flood of 501: ${fromFlooder} delivered, ${limited.length} rate-limited; other peer 10/10`)
    expect(fromFlooder).toBeLessThan(100)
    expect(limited.every((d) => d.peer === flooder.peerId.toString())).toBe(true)
    expect(b.scorer.composite(flooder.peerId.toString())).toBeLessThan(before)
  })
})
