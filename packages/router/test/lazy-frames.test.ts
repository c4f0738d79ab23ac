import { describe, it, expect } from '@jest/globals'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { FrameDecoder, MessageSigner, MessageType, MessageVerifier, NonceGenerator, Priority, prepareMessage } from '@cpc/protocol'
import { PeerQueues } from '../src/outbound/peer-queues.js'
import type { FrameSource } from '../src/outbound/frame-source.js'

/** A lazy source of `count` frames of `size` bytes that records which frames were built. */
function lazy(count: number, size: number, tag: number): FrameSource & { built: number[] } {
  const built: number[] = []
  return {
    built,
    count,
    size: () => size,
    frame: (i) => {
      built.push(i)
      return new Uint8Array(size).fill(tag)
    },
  }
}

describe('PeerQueues with a lazy frame source', () => {
  it('builds each frame only as it is taken, and HIGH overtakes between them', () => {
    const q = new PeerQueues<string>()
    const big = lazy(4, 1000, 1)
    q.enqueue(big, Priority.LOW, 'big')
    expect(big.built).toEqual([])
    expect(q.bytes()).toBe(4000)
    expect(q.nextBatch(1000, 64).map((f) => f.meta)).toEqual(['big'])
    expect(big.built).toEqual([0])
    q.enqueue(new Uint8Array(10), Priority.HIGH, 'high')
    expect(q.nextBatch(1000, 64).map((f) => f.meta)).toEqual(['high'])
    expect(big.built).toEqual([0])
    const rest = [...q.nextBatch(5000, 64)]
    expect(rest.map((f) => f.index)).toEqual([1, 2, 3])
    expect(rest[2].last).toBe(true)
    expect(q.bytes()).toBe(0)
  })

  it('sheds a lazy message whole before its first frame, building nothing', () => {
    const q = new PeerQueues<string>({}, { maxBytes: 5000 })
    const low = lazy(4, 1000, 1)
    q.enqueue(low, Priority.LOW, 'low')
    const shed: string[] = []
    q.addEventListener('shed', (e) => shed.push(e.detail.message.meta))
    expect(q.enqueue(new Uint8Array(2000), Priority.MEDIUM, 'medium').accepted).toBe(true)
    expect(shed).toEqual(['low'])
    expect(low.built).toEqual([])
  })

  it('takeAll hands back the unwritten frames, built only when read', () => {
    const q = new PeerQueues<string>()
    const src = lazy(3, 100, 7)
    q.enqueue(src, Priority.MEDIUM, 'm')
    q.nextBatch(100, 1)
    const [msg] = q.takeAll()
    expect(src.built).toEqual([0])
    expect(msg.bytes).toBe(200)
    expect(msg.frames.length).toBe(2)
    expect(src.built).toEqual([0, 1, 2])
  })
})

describe('PeerQueues signs the unsigned frames of a batch together', () => {
  it('one Merkle root per batch (at most maxSignBatch), every frame verifies alone, HIGH built frames untouched', async () => {
    const signer = new MessageSigner(await generateKeyPair('Ed25519'))
    const nonces = new NonceGenerator()
    const q = new PeerQueues<string>()
    const prepared = Array.from({ length: 20 }, (_, i) =>
      prepareMessage({ type: MessageType.EVENT, priority: Priority.MEDIUM, payload: Uint8Array.of(i, 1, 2, 3) }, signer, nonces),
    )
    for (const p of prepared) q.enqueue(p, Priority.MEDIUM, 'm')
    const high = prepared[0].frame(0)
    q.enqueue(high, Priority.HIGH, 'high')
    const batch = q.nextBatch(64 * 1024, 64, 16)
    expect(batch).toHaveLength(21)
    expect(batch[0].frame).toBe(high)
    const decoder = new FrameDecoder()
    const msgs = batch.slice(1).flatMap((f) => decoder.push(f.frame))
    // 20 frames at 16 per root: two near-equal batches of 10.
    expect(msgs.map((m) => m.batch?.count)).toEqual(Array(20).fill(10))
    expect(new Set(msgs.map((m) => Buffer.from(m.signature).toString('hex'))).size).toBe(2)
    const verifier = new MessageVerifier()
    expect(msgs.map((m) => verifier.verify(m)).filter((r) => r === 'verified')).toHaveLength(2)
    expect(msgs.map((m) => m.nonce)).toEqual(prepared.map((p) => p.nonce))
  })

  it('maxSignBatch 1 signs each frame alone, as frame(i) does', async () => {
    const signer = new MessageSigner(await generateKeyPair('Ed25519'))
    const q = new PeerQueues<string>()
    const p = prepareMessage({ type: MessageType.EVENT, priority: Priority.LOW, payload: Uint8Array.of(1) }, signer, new NonceGenerator())
    q.enqueue(p, Priority.LOW, 'x')
    expect(q.nextBatch(1000, 64, 1)[0].frame).toEqual(p.frame(0))
  })
})
