// CpcChannel over real libp2p nodes on 127.0.0.1.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { CpcMessage, MessageType, PROTOCOL_ID, encodeFrame, type ProtocolError } from '@cpc/protocol'
import { CpcChannel, type ChannelMessageDetail, type ChannelProtocolErrorDetail } from '../src/channel.js'
import { NotStartedError } from '../src/errors.js'
import { record, waitForEvent } from './helpers/events.js'
import { createNode, stopNodes, type TestNode } from './helpers/nodes.js'

const msg = (n: number, payload = new Uint8Array(16)): CpcMessage => CpcMessage.fromPartial({ nonce: BigInt(n), messageType: MessageType.EVENT, payload })

describe('CpcChannel', () => {
  let a: TestNode
  let b: TestNode
  let chA: CpcChannel
  let chB: CpcChannel

  beforeEach(async () => {
    a = await createNode()
    b = await createNode()
    chA = new CpcChannel({ libp2p: a.node }, { maxFrameBytes: 64 * 1024 })
    chB = new CpcChannel({ libp2p: b.node }, { maxFrameBytes: 64 * 1024 })
    await chA.start()
    await chB.start()
    await a.node.dial(b.node.getMultiaddrs()[0])
  })

  afterEach(async () => {
    await chA.stop()
    await chB.stop()
    await stopNodes(a.node, b.node)
  })

  it('delivers frames as typed message events with exact byte counts, one stream reused', async () => {
    const rec = record<ChannelMessageDetail>(chB, 'message')
    const frames = [1, 2, 3].map((n) => encodeFrame(msg(n)))
    await chA.send(b.node.peerId, frames[0])
    await chA.send(b.node.peerId, [frames[1], frames[2]])
    await rec.until((e) => e.length === 3)
    rec.stop()
    expect(rec.events.map((e) => e.message.nonce)).toEqual([1n, 2n, 3n])
    expect(rec.events.map((e) => e.bytes)).toEqual(frames.map((f) => f.byteLength))
    expect(rec.events.every((e) => e.peer.equals(a.node.peerId) && !e.limited)).toBe(true)
    const total = frames.reduce((s, f) => s + f.byteLength, 0)
    expect(chA.bytesOut(b.node.peerId)).toBe(total)
    expect(chB.bytesIn(a.node.peerId)).toBe(total)
    expect(chB.counters(a.node.peerId)).toMatchObject({ framesIn: 3, bytesIn: total })
    expect(chA.counters(b.node.peerId)).toMatchObject({ framesOut: 3, bytesOut: total })
    const streams = a.node.getConnections(b.node.peerId).flatMap((c) => c.streams.filter((s) => s.protocol === PROTOCOL_ID))
    expect(streams).toHaveLength(1)
  })

  it('message handlers get only their type, in order, before listeners; one that throws stops nothing', async () => {
    const events: bigint[] = []
    const control: bigint[] = []
    const calls: string[] = []
    const thrower = (): void => {
      throw new Error('consumer bug')
    }
    const onEvent = (d: ChannelMessageDetail): void => {
      events.push(d.message.nonce)
      calls.push('handler')
    }
    chB.addMessageHandler(MessageType.EVENT, thrower)
    chB.addMessageHandler(MessageType.EVENT, onEvent)
    chB.addMessageHandler(MessageType.EVENT, onEvent) // twice is once
    chB.addMessageHandler(MessageType.CONTROL, (d) => control.push(d.message.nonce))
    const rec = record<ChannelMessageDetail>(chB, 'message')
    chB.addEventListener('message', () => calls.push('listener'))
    const ctl = (n: number): CpcMessage => CpcMessage.fromPartial({ nonce: BigInt(n), messageType: MessageType.CONTROL })
    await chA.send(b.node.peerId, [encodeFrame(msg(1)), encodeFrame(ctl(2)), encodeFrame(msg(3))])
    await rec.until((e) => e.length === 3)
    expect(events).toEqual([1n, 3n])
    expect(control).toEqual([2n])
    expect(calls.slice(0, 2)).toEqual(['handler', 'listener'])
    chB.removeMessageHandler(MessageType.EVENT, onEvent)
    await chA.send(b.node.peerId, encodeFrame(msg(4)))
    await rec.until((e) => e.length === 4)
    rec.stop()
    expect(events).toEqual([1n, 3n])
    expect(chB.counters(a.node.peerId).framesIn).toBe(4)
  })

  it('honours backpressure: 16 MiB in 32 KiB frames arrive complete and in order', async () => {
    const count = 512
    const payload = new Uint8Array(32 * 1024 - 64)
    let received = 0
    let inOrder = true
    const done = new Promise<void>((resolve) => {
      chB.addEventListener('message', (evt) => {
        if (evt.detail.message.nonce !== BigInt(received)) inOrder = false
        if (++received === count) resolve()
      })
    })
    for (let i = 0; i < count; i += 8) {
      await chA.send(
        b.node.peerId,
        Array.from({ length: 8 }, (_, j) => encodeFrame(msg(i + j, payload))),
      )
    }
    await done
    expect(inOrder).toBe(true)
    expect(chB.bytesIn(a.node.peerId)).toBe(chA.bytesOut(b.node.peerId))
  })

  it('an oversized frame emits protocol:error, aborts only that stream, and the channel keeps working', async () => {
    const errors = record<ChannelProtocolErrorDetail>(chB, 'protocol:error')
    const raw = await a.node.dialProtocol(b.node.peerId, PROTOCOL_ID)
    // A varint length prefix declaring 1 MiB, above B's 64 KiB limit.
    raw.send(Uint8Array.from([0x80, 0x80, 0x40]))
    await errors.until((e) => e.length === 1)
    expect((errors.events[0].error as ProtocolError).code).toBe('ERR_FRAME_TOO_LARGE')
    expect(errors.events[0].peer.equals(a.node.peerId)).toBe(true)
    await waitForEvent(raw, 'close', () => true, 5000).catch(() => undefined)
    expect(raw.status).not.toBe('open')
    // A well-behaved stream still works.
    const next = waitForEvent<ChannelMessageDetail>(chB, 'message')
    await chA.send(b.node.peerId, encodeFrame(msg(9)))
    expect((await next).message.nonce).toBe(9n)
    errors.stop()
  })

  it('a malformed frame emits protocol:error', async () => {
    const errors = record<ChannelProtocolErrorDetail>(chB, 'protocol:error')
    const raw = await a.node.dialProtocol(b.node.peerId, PROTOCOL_ID)
    raw.send(Uint8Array.from([3, 0xff, 0xff, 0xff]))
    await errors.until((e) => e.length === 1)
    expect((errors.events[0].error as ProtocolError).code).toMatch(/^ERR_/)
    errors.stop()
  })

  it('reopens the outbound stream after a reset', async () => {
    const first = waitForEvent<ChannelMessageDetail>(chB, 'message')
    await chA.send(b.node.peerId, encodeFrame(msg(1)))
    await first
    for (const s of a.node.getConnections(b.node.peerId).flatMap((c) => c.streams)) if (s.protocol === PROTOCOL_ID) s.abort(new Error('reset'))
    const second = waitForEvent<ChannelMessageDetail>(chB, 'message')
    await chA.send(b.node.peerId, encodeFrame(msg(2)))
    expect((await second).message.nonce).toBe(2n)
  })

  it('send honours an aborted signal and refuses when stopped', async () => {
    await expect(chA.send(b.node.peerId, encodeFrame(msg(1)), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await chA.stop()
    await expect(chA.send(b.node.peerId, encodeFrame(msg(1)))).rejects.toBeInstanceOf(NotStartedError)
    expect(a.node.getProtocols()).not.toContain(PROTOCOL_ID)
  })
})
