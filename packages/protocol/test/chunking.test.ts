import { describe, it, expect } from '@jest/globals'
import fc from 'fast-check'
import {
  CpcMessage,
  InvalidChunkError,
  PayloadTooLargeError,
  Reassembler,
  ReassemblyLimitError,
  ReassemblyTimeoutError,
  splitPayload,
  type Chunk,
} from '../src/index.js'

const ORIGIN = Uint8Array.from([1, 2, 3])
const OTHER = Uint8Array.from([4, 5, 6])

function messages(payload: Uint8Array, chunkBytes: number, messageId = 1n): CpcMessage[] {
  return splitPayload(payload, { chunkBytes, messageId }).map((p) => CpcMessage.fromPartial({ payload: p.payload, chunk: p.chunk }))
}

function withChunk(msg: CpcMessage, patch: Partial<Chunk>): CpcMessage {
  return { ...msg, chunk: { ...(msg.chunk as Chunk), ...patch } }
}

describe('splitPayload', () => {
  it('splits into full chunks and a remainder', () => {
    const parts = splitPayload(new Uint8Array(10), { chunkBytes: 4, messageId: 9n })
    expect(parts.map((p) => p.payload.length)).toEqual([4, 4, 2])
    expect(parts.map((p) => p.chunk)).toEqual([0, 1, 2].map((index) => ({ messageId: 9n, index, count: 3, totalBytes: 10n })))
    expect(splitPayload(new Uint8Array(0), { chunkBytes: 4, messageId: 1n })).toHaveLength(1)
  })
})

describe('Reassembler', () => {
  it('passes unchunked messages through and reassembles in order', () => {
    const r = new Reassembler()
    expect(r.add(ORIGIN, CpcMessage.fromPartial({ payload: Uint8Array.from([7]) }))).toEqual(Uint8Array.from([7]))
    const payload = Uint8Array.from({ length: 10 }, (_, i) => i)
    const [a, b, c] = messages(payload, 4)
    expect(r.add(ORIGIN, a)).toBeUndefined()
    expect(r.add(ORIGIN, b)).toBeUndefined()
    expect(r.pendingMessages).toBe(1)
    expect(r.bufferedBytes).toBe(8)
    expect(r.add(ORIGIN, c)).toEqual(payload)
    expect(r.pendingMessages).toBe(0)
    expect(r.bufferedBytes).toBe(0)
  })

  it('keys by origin and message id', () => {
    const r = new Reassembler()
    const p1 = Uint8Array.from([1, 1, 1, 1, 1])
    const p2 = Uint8Array.from([2, 2, 2, 2, 2])
    const m1 = messages(p1, 3, 5n)
    const m2 = messages(p2, 3, 5n)
    r.add(ORIGIN, m1[0])
    r.add(OTHER, m2[1])
    expect(r.add(OTHER, m2[0])).toEqual(p2)
    expect(r.add(ORIGIN, m1[1])).toEqual(p1)
  })

  it('rejects inconsistent chunks with InvalidChunkError', () => {
    const r = new Reassembler()
    const [a, b] = messages(new Uint8Array(8), 4)
    expect(() => r.add(ORIGIN, withChunk(a, { index: 2 }))).toThrow(InvalidChunkError)
    expect(() => r.add(ORIGIN, withChunk(a, { count: 0 }))).toThrow(InvalidChunkError)
    expect(() => r.add(ORIGIN, withChunk(a, { count: 9, index: 0 }))).toThrow(InvalidChunkError)
    expect(() => r.add(ORIGIN, withChunk(a, { totalBytes: 3n }))).toThrow(InvalidChunkError)
    expect(() => r.add(ORIGIN, { ...a, payload: new Uint8Array(0) })).toThrow(InvalidChunkError)
    expect(() => r.add(ORIGIN, withChunk(a, { count: 1 }))).toThrow(InvalidChunkError)
    r.add(ORIGIN, a)
    expect(() => r.add(ORIGIN, withChunk(b, { totalBytes: 9n }))).toThrow(InvalidChunkError)
    expect(() => r.add(ORIGIN, { ...b, compression: 1 })).toThrow(InvalidChunkError)
    expect(() => r.add(ORIGIN, { ...a, payload: Uint8Array.from([1, 1, 1, 1]) })).toThrow(InvalidChunkError)
    expect(r.add(ORIGIN, a)).toBeUndefined()
    // Chunks whose sizes do not add up to total_bytes.
    expect(() => r.add(ORIGIN, { ...b, payload: new Uint8Array(3) })).toThrow(InvalidChunkError)
    expect(r.pendingMessages).toBe(0)
  })

  it('enforces the message, per-origin, byte and total_bytes bounds', () => {
    const r = new Reassembler({}, { maxMessages: 2, maxMessagesPerOrigin: 1, maxBytes: 16, maxMessageBytes: 100 })
    r.add(ORIGIN, messages(new Uint8Array(8), 4, 1n)[0])
    expect(() => r.add(ORIGIN, messages(new Uint8Array(8), 4, 2n)[0])).toThrow(ReassemblyLimitError)
    r.add(OTHER, messages(new Uint8Array(8), 4, 1n)[0])
    expect(() => r.add(Uint8Array.from([9]), messages(new Uint8Array(8), 4, 1n)[0])).toThrow(ReassemblyLimitError)
    expect(() => r.add(OTHER, messages(new Uint8Array(8), 4, 1n)[1])).not.toThrow()
    expect(() => r.add(ORIGIN, messages(new Uint8Array(8), 4, 1n)[1])).not.toThrow()
    const big = new Reassembler({}, { maxBytes: 5 })
    big.add(ORIGIN, messages(new Uint8Array(12), 4)[0])
    expect(() => big.add(ORIGIN, messages(new Uint8Array(12), 4)[1])).toThrow(ReassemblyLimitError)
    expect(() => r.add(ORIGIN, messages(new Uint8Array(101), 50)[0])).toThrow(PayloadTooLargeError)
  })

  it('times out partial messages: expire() drops them and late chunks fail', () => {
    let now = 0
    const r = new Reassembler({ clock: () => now }, { timeoutMs: 1000 })
    const [a, b, c] = messages(new Uint8Array(12), 4)
    r.add(ORIGIN, a)
    const [x, y] = messages(new Uint8Array(8), 4, 2n)
    r.add(ORIGIN, x)
    now = 1000
    expect(r.expire()).toEqual([])
    now = 1001
    expect(() => r.add(ORIGIN, b)).toThrow(ReassemblyTimeoutError)
    const expired = r.expire()
    expect(expired).toHaveLength(1)
    expect(expired[0]).toBeInstanceOf(ReassemblyTimeoutError)
    expect(expired[0].messageId).toBe(2n)
    expect(expired[0].code).toBe('ERR_REASSEMBLY_TIMEOUT')
    expect(r.pendingMessages).toBe(0)
    expect(r.bufferedBytes).toBe(0)
    // A missing chunk fails the whole message: the rest starts over and never completes alone.
    expect(r.add(ORIGIN, c)).toBeUndefined()
    expect(r.add(ORIGIN, y)).toBeUndefined()
    r.clear()
    expect(r.pendingMessages).toBe(0)
  })

  it('property: chunks in any order and with duplicates reassemble to the payload', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 2000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer(),
        (payload, chunkBytes, dupPicks, seed) => {
          const r = new Reassembler()
          const msgs = messages(payload, chunkBytes)
          const order = [...msgs, ...dupPicks.map((i) => msgs[i % msgs.length])]
          // Shuffle deterministically, then make sure one copy of the last chunk to complete comes last.
          let s = seed
          for (let i = order.length - 1; i > 0; i--) {
            s = (Math.imul(s, 1103515245) + 12345) | 0
            const j = (s >>> 0) % (i + 1)
            ;[order[i], order[j]] = [order[j], order[i]]
          }
          const results = order.map((m) => r.add(ORIGIN, m))
          const done = results.filter((x) => x !== undefined)
          expect(done.length).toBeGreaterThanOrEqual(1)
          expect(done[0]).toEqual(payload)
          // Duplicates after completion only start partials that hold no more than the payload.
          expect(r.bufferedBytes).toBeLessThanOrEqual(payload.length)
        },
      ),
      { numRuns: 300 },
    )
  })
})
