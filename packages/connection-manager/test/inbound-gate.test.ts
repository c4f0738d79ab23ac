// CpcChannel's inbound gate (the router's rate limiter hook) over real libp2p nodes on 127.0.0.1.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { CpcMessage, MessageType, encodeFrame } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import { Registry } from 'prom-client'
import { CpcChannel, type ChannelGatedDetail, type ChannelMessageDetail } from '../src/channel.js'
import { createConnectionManagerMetrics } from '../src/metrics.js'
import { record } from './helpers/events.js'
import { createNode, stopNodes, type TestNode } from './helpers/nodes.js'

const msg = (n: number, messageType: MessageType): CpcMessage => CpcMessage.fromPartial({ nonce: BigInt(n), messageType, payload: new Uint8Array(8) })

describe('CpcChannel inbound gate', () => {
  let a: TestNode
  let b: TestNode
  let chA: CpcChannel
  let chB: CpcChannel
  let registry: Registry

  beforeEach(async () => {
    a = await createNode()
    b = await createNode()
    registry = new Registry()
    chA = new CpcChannel({ libp2p: a.node })
    chB = new CpcChannel({ libp2p: b.node, metrics: createConnectionManagerMetrics(registry) })
    await chA.start()
    await chB.start()
    await a.node.dial(b.node.getMultiaddrs()[0])
  })

  afterEach(async () => {
    await chA.stop()
    await chB.stop()
    await stopNodes(a.node, b.node)
  })

  it('sees every frame of every type first; refused frames are counted, emitted as message:gated, never as message', async () => {
    const seen: Array<{ peer: PeerId; nonce: bigint; type: MessageType; bytes: number }> = []
    // Refuse odd nonces, whatever the type: CONTROL and DISCOVERY go through the gate like EVENT.
    chB.setInboundGate((peer, message, bytes) => {
      seen.push({ peer, nonce: message.nonce, type: message.messageType, bytes })
      return message.nonce % 2n === 0n
    })
    const messages = record<ChannelMessageDetail>(chB, 'message')
    const gated = record<ChannelGatedDetail>(chB, 'message:gated')
    const types = [MessageType.EVENT, MessageType.CONTROL, MessageType.DISCOVERY]
    const frames = Array.from({ length: 12 }, (_, i) => encodeFrame(msg(i, types[i % 3])))
    await chA.send(b.node.peerId, frames)
    await messages.until((e) => e.length === 6)
    await gated.until((e) => e.length === 6)

    expect(seen.map((s) => s.nonce)).toEqual(frames.map((_, i) => BigInt(i)))
    expect(seen.every((s) => s.peer.equals(a.node.peerId))).toBe(true)
    expect(seen.map((s) => s.bytes)).toEqual(frames.map((f) => f.byteLength))
    expect(messages.events.map((e) => e.message.nonce)).toEqual([0n, 2n, 4n, 6n, 8n, 10n])
    expect(gated.events.map((e) => e.message.nonce)).toEqual([1n, 3n, 5n, 7n, 9n, 11n])
    expect(gated.events.every((e) => e.peer.equals(a.node.peerId))).toBe(true)
    expect(gated.events.map((e) => e.bytes)).toEqual(frames.filter((_, i) => i % 2 === 1).map((f) => f.byteLength))
    expect(Object.keys(gated.events[0]).sort()).toEqual(['bytes', 'message', 'peer'])
    // Refused nonces by type (i % 3): 3, 9 EVENT; 1, 7 CONTROL; 5, 11 DISCOVERY.
    const metric = await registry.getSingleMetricAsString('cpc_channel_gated_total')
    expect(metric).toContain('cpc_channel_gated_total{type="event"} 2')
    expect(metric).toContain('cpc_channel_gated_total{type="control"} 2')
    expect(metric).toContain('cpc_channel_gated_total{type="discovery"} 2')
    messages.stop()
    gated.stop()
  })

  it('a gate that throws drops the frame; removing the gate delivers everything again', async () => {
    chB.setInboundGate(() => {
      throw new Error('limiter bug')
    })
    const gated = record<ChannelGatedDetail>(chB, 'message:gated')
    await chA.send(b.node.peerId, encodeFrame(msg(1, MessageType.EVENT)))
    await gated.until((e) => e.length === 1)
    chB.setInboundGate(undefined)
    const messages = record<ChannelMessageDetail>(chB, 'message')
    await chA.send(b.node.peerId, encodeFrame(msg(2, MessageType.EVENT)))
    await messages.until((e) => e.length === 1)
    expect(messages.events[0].message.nonce).toBe(2n)
    expect(gated.events).toHaveLength(1)
    gated.stop()
    messages.stop()
  })
})
