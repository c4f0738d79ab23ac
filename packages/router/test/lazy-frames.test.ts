import { describe, it, expect } from '@jest/globals'
import { Priority } from '@cpc/protocol'
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
