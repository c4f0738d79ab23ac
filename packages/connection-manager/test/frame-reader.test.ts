// The channel's frame reader and fast decoder against @cpc/protocol's FrameDecoder and generated
// decoder: same messages, same byte counts, same error codes, for any split of the byte stream.
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import {
  CpcMessage,
  FrameDecoder,
  MessageType,
  Priority,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  type ProtocolError,
} from '@cpc/protocol'
import { fastDecode, fastDecodeEnabled } from '../src/fast-decode.js'
import { FrameReader } from '../src/frame-reader.js'

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
const bytes = fc.uint8Array({ maxLength: 64 })

/** Messages over every field the fast path reads, plus the ones it hands to the generated decoder. */
const message = fc
  .record({
    nonce: u64,
    priority: fc.constantFrom(Priority.LOW, Priority.MEDIUM, Priority.HIGH),
    messageType: fc.constantFrom(MessageType.EVENT, MessageType.DISCOVERY, MessageType.CONTROL),
    payload: fc.uint8Array({ maxLength: 600 }),
    signature: bytes,
    origin: bytes,
    timestampMs: u64,
    ttl: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
    compression: fc.constantFrom(0, 1),
    expiresAtMs: u64,
    recipient: bytes,
    group: fc.oneof(fc.constant(''), fc.string({ maxLength: 8 })),
    chunk: fc.option(fc.record({ messageId: u64, index: fc.nat(1000), count: fc.nat(1000), totalBytes: u64 }), { nil: undefined }),
  })
  .map((m) => CpcMessage.fromPartial(m))

/** Splits `buf` at the given cut points (sorted, deduplicated, inside the buffer). */
function split(buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (buf.byteLength + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const c of [...at, buf.byteLength]) {
    out.push(buf.subarray(prev, c))
    prev = c
  }
  return out
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.byteLength
  }
  return out
}

/** Runs a whole stream through FrameReader: messages, byte counts, and the error code if any. */
function readAll(chunks: Uint8Array[], maxFrameBytes = 1 << 20): { messages: CpcMessage[]; bytes: number[]; error?: string } {
  const reader = new FrameReader(maxFrameBytes)
  const messages: CpcMessage[] = []
  const sizes: number[] = []
  try {
    for (const c of chunks) reader.push(c, (m, b) => (messages.push(m), sizes.push(b)))
    reader.end()
  } catch (err) {
    return { messages, bytes: sizes, error: (err as ProtocolError).code }
  }
  return { messages, bytes: sizes }
}

/** The same through @cpc/protocol's FrameDecoder (the reference). */
function referenceAll(chunks: Uint8Array[], maxFrameBytes = 1 << 20): { messages: CpcMessage[]; error?: string } {
  const decoder = new FrameDecoder({ maxFrameBytes })
  const messages: CpcMessage[] = []
  try {
    for (const c of chunks) for (const m of decoder.decode(c)) messages.push(m)
    decoder.end()
  } catch (err) {
    return { messages, error: (err as ProtocolError).code }
  }
  return { messages }
}

describe('fastDecode', () => {
  it('is enabled against the generated CpcMessage', () => {
    expect(fastDecodeEnabled).toBe(true)
  })

  it('agrees with the generated decoder on every message, and takes the common ones itself', () => {
    fc.assert(
      fc.property(message, (m) => {
        const body = encodeMessage(m)
        const fast = fastDecode(body, 0, body.byteLength)
        const common = m.chunk === undefined && m.group === '' && m.ttl < 2 ** 28
        if (common) expect(fast).toBeDefined()
        if (fast !== undefined) expect(fast).toEqual(decodeMessage(body))
      }),
      { numRuns: 500 },
    )
  })

  it('on arbitrary bytes, declines or agrees with the generated decoder (which must then accept them)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (body) => {
        const fast = fastDecode(body, 0, body.byteLength)
        if (fast !== undefined) expect(fast).toEqual(decodeMessage(body))
      }),
      { numRuns: 2000 },
    )
  })

  it('reads byte fields as views of the frame, absent ones as empty', () => {
    const body = encodeMessage(CpcMessage.fromPartial({ messageType: MessageType.CONTROL, payload: new Uint8Array([1, 2, 3]) }))
    const m = fastDecode(body, 0, body.byteLength)!
    expect(m.payload.buffer).toBe(body.buffer)
    expect(m.signature.byteLength).toBe(0)
  })
})

describe('FrameReader', () => {
  it('yields what FrameDecoder yields, with exact wire sizes, for any split of the stream', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
        const frames = msgs.map((m) => encodeFrame(m))
        const got = readAll(split(concat(frames), cuts))
        expect(got.error).toBeUndefined()
        expect(got.messages).toEqual(referenceAll([concat(frames)]).messages)
        expect(got.bytes).toEqual(frames.map((f) => f.byteLength))
      }),
      { numRuns: 300 },
    )
  })

  it('fails like FrameDecoder on arbitrary bytes, after delivering the same frames', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), (buf, cuts) => {
        const chunks = split(buf, cuts)
        const got = readAll(chunks, 64)
        const want = referenceAll(chunks, 64)
        expect(got.error).toEqual(want.error)
        expect(got.messages).toEqual(want.messages)
      }),
      { numRuns: 2000 },
    )
  })

  it('rejects an oversized length at the prefix and stays poisoned', () => {
    const reader = new FrameReader(100)
    const frame = encodeFrame(CpcMessage.fromPartial({ payload: new Uint8Array(200) }))
    expect(() => reader.push(frame.subarray(0, 2), () => {})).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }))
    expect(() => reader.push(new Uint8Array([0]), () => {})).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }))
  })

  it('a stream that ends inside a frame is truncated', () => {
    const frame = encodeFrame(CpcMessage.fromPartial({ payload: new Uint8Array(50) }))
    expect(readAll([frame.subarray(0, 20)]).error).toBe('ERR_TRUNCATED_FRAME')
    expect(readAll([frame.subarray(0, 1)]).error).toBe('ERR_TRUNCATED_FRAME')
  })

  it('an error thrown by the sink propagates as it is and is not a frame error', () => {
    const reader = new FrameReader(1 << 20)
    const boom = new Error('boom')
    expect(() =>
      reader.push(encodeFrame(CpcMessage.fromPartial({})), () => {
        throw boom
      }),
    ).toThrow(boom)
  })
})
