// CpcChannel backpressure on real libp2p nodes: a burst larger than the stream buffers makes
// send() wait for 'drain', and each wait is seen on the stream itself.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { CpcMessage, MessageType, PROTOCOL_ID, encodeFrame } from '@cpc/protocol'
import type { Stream } from '@libp2p/interface'
import { Registry } from 'prom-client'
import { CpcChannel } from '../src/channel.js'
import { createConnectionManagerMetrics } from '../src/metrics.js'
import { createNode, stopNodes, type TestNode } from './helpers/nodes.js'

describe('CpcChannel backpressure', () => {
  let a: TestNode
  let b: TestNode
  let chA: CpcChannel
  let chB: CpcChannel
  let registry: Registry

  beforeEach(async () => {
    a = await createNode()
    b = await createNode()
    registry = new Registry()
    chA = new CpcChannel({ libp2p: a.node, metrics: createConnectionManagerMetrics(registry) })
    chB = new CpcChannel({ libp2p: b.node })
    await chA.start()
    await chB.start()
    await a.node.dial(b.node.getMultiaddrs()[0])
  })

  afterEach(async () => {
    await chA.stop()
    await chB.stop()
    await stopNodes(a.node, b.node)
  })

  it('a 32 MiB burst waits for drain: every counted wait saw the stream refuse a write and a drain event end it', async () => {
    const payload = new Uint8Array(256 * 1024 - 64)
    const count = 128
    let received = 0
    let inOrder = true
    const done = new Promise<void>((resolve) => {
      chB.addEventListener('message', (evt) => {
        if (evt.detail.message.nonce !== BigInt(received)) inOrder = false
        if (++received === count) resolve()
      })
    })
    const frame = (n: number): Uint8Array => encodeFrame(CpcMessage.fromPartial({ nonce: BigInt(n), messageType: MessageType.EVENT, payload }))
    // The first send opens the stream; watch it from then on.
    await chA.send(b.node.peerId, frame(0))
    const stream = a.node
      .getConnections(b.node.peerId)
      .flatMap((c) => c.streams)
      .find((s): s is Stream => s.protocol === PROTOCOL_ID && s.direction === 'outbound')
    expect(stream).toBeDefined()
    let refused = 0
    let drains = 0
    const send = stream!.send.bind(stream!)
    stream!.send = (data) => {
      const accepted = send(data)
      if (!accepted) refused++
      return accepted
    }
    stream!.addEventListener('drain', () => drains++)

    let waitsSeenBySend = 0
    for (let i = 1; i < count; i += 8) {
      const batch = Array.from({ length: Math.min(8, count - i) }, (_, j) => frame(i + j))
      const before = drains
      await chA.send(b.node.peerId, batch)
      // A send that was refused returns only after the drain that followed it.
      if (drains > before) waitsSeenBySend++
    }
    await done

    const metric = await registry.getSingleMetricAsString('cpc_channel_drain_waits_total')
    const waits = Number(/cpc_channel_drain_waits_total (\d+)/.exec(metric)?.[1])
    expect(refused).toBeGreaterThan(0)
    expect(waits).toBe(refused)
    expect(drains).toBeGreaterThanOrEqual(refused)
    expect(waitsSeenBySend).toBeGreaterThan(0)
    expect(inOrder).toBe(true)
    expect(chB.bytesIn(a.node.peerId)).toBe(chA.bytesOut(b.node.peerId))
  })
})
