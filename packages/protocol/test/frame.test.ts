import { describe, it, expect } from '@jest/globals'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  AbortError,
  CpcMessage,
  FrameDecoder,
  FrameTooLargeError,
  MalformedFrameError,
  TruncatedFrameError,
  decodeMessage,
  encodeFrame,
  encodeFrames,
  readFrames,
} from '../src/index.js'
import { expectProtocolError, messageArb } from './helpers.js'

const sample = CpcMessage.fromPartial({ nonce: 42n, priority: 2, messageType: 1, payload: Uint8Array.from([1, 2, 3]), group: 'g' })

async function* fromChunks(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c
}

describe('frame codec', () => {
  it('prefixes the body with its unsigned-varint length', () => {
    const frame = encodeFrame(sample)
    const body = CpcMessage.encode(sample).finish()
    expect(frame[0]).toBe(body.length)
    expect(frame.subarray(1)).toEqual(body)
    expect(decodeMessage(frame.subarray(1))).toEqual(sample)
  })

  it('writes multi-byte prefixes for bodies of 128 bytes and more', () => {
    const msg = CpcMessage.fromPartial({ payload: new Uint8Array(300) })
    const frame = encodeFrame(msg)
    const decoder = new FrameDecoder()
    expect(decoder.push(frame)).toEqual([msg])
    expect(frame[0] & 0x80).toBe(0x80)
  })

  it('encodeFrames concatenates frames', () => {
    const msgs = [sample, { ...sample, nonce: 43n }, CpcMessage.fromPartial({})]
    const buf = encodeFrames(msgs)
    expect(buf).toEqual(Uint8Array.from([...encodeFrame(msgs[0]), ...encodeFrame(msgs[1]), ...encodeFrame(msgs[2])]))
    expect(new FrameDecoder().push(buf)).toEqual(msgs)
  })

  it('encodeFrame refuses a body over maxFrameBytes when asked', () => {
    expect(() => encodeFrame(sample, { maxFrameBytes: 4 })).toThrow(FrameTooLargeError)
  })

  it('rejects an over-long declared length from the prefix alone', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1000 })
    // 1001 = 0xe9 0x07: nothing of the body is needed to reject it.
    const err = expectProtocolError(() => decoder.push(Uint8Array.from([0xe9, 0x07])))
    expect(err).toBeInstanceOf(FrameTooLargeError)
    expect(err.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(decoder.bufferedBytes).toBe(0)
    // Poisoned afterwards.
    expect(() => decoder.push(new Uint8Array(1))).toThrow(FrameTooLargeError)
  })

  it('rejects a huge length as soon as the bits read prove it too large', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 * 1024 })
    // Two continuation bytes (16383 so far) are not enough to judge; the third proves > 1 MiB.
    expect(decoder.push(Uint8Array.from([0xff, 0xff]))).toEqual([])
    expect(() => decoder.push(Uint8Array.from([0xff]))).toThrow(FrameTooLargeError)
  })

  it('rejects a varint prefix longer than 5 bytes', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 2 ** 40 })
    expect(() => decoder.push(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))).toThrow(MalformedFrameError)
  })

  it('decodeMessage rejects garbage, truncation and trailing bytes after a zero tag', () => {
    expect(() => decodeMessage(Uint8Array.from([0x0f]))).toThrow(MalformedFrameError)
    expect(() => decodeMessage(Uint8Array.from([0x22, 0x05, 0x01]))).toThrow(MalformedFrameError)
    expect(() => decodeMessage(Uint8Array.from([0x08, 0x01, 0x00, 0x99]))).toThrow(MalformedFrameError)
    expect(decodeMessage(new Uint8Array(0))).toEqual(CpcMessage.fromPartial({}))
  })

  it('accepts Uint8ArrayList input', () => {
    const frame = encodeFrame(sample)
    const list = new Uint8ArrayList(frame.subarray(0, 3), frame.subarray(3))
    expect(new FrameDecoder().push(list)).toEqual([sample])
  })

  it('readFrames yields messages and ends on a frame boundary', async () => {
    const buf = encodeFrames([sample, sample])
    const out: CpcMessage[] = []
    for await (const m of readFrames(fromChunks([buf.subarray(0, 5), buf.subarray(5)]))) out.push(m)
    expect(out).toEqual([sample, sample])
  })

  it('readFrames delivers the good frames, then throws on a truncated one', async () => {
    const buf = encodeFrames([sample, sample])
    const out: CpcMessage[] = []
    await expect(
      (async () => {
        for await (const m of readFrames(fromChunks([buf.subarray(0, buf.length - 1)]))) out.push(m)
      })(),
    ).rejects.toBeInstanceOf(TruncatedFrameError)
    expect(out).toEqual([sample])
  })

  it('readFrames stops with AbortError while waiting for data', async () => {
    const controller = new AbortController()
    let released = false
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<Uint8Array>>(() => {}),
        return: async () => {
          released = true
          return { done: true, value: undefined }
        },
      }),
    }
    const reading = (async () => {
      for await (const _m of readFrames(source, { signal: controller.signal })) {
        // nothing arrives
      }
    })()
    controller.abort()
    await expect(reading).rejects.toBeInstanceOf(AbortError)
    expect(released).toBe(true)
  })

  it('property: every valid message round-trips through frames split at any points', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (msgs, cuts) => {
        const buf = encodeFrames(msgs)
        const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b)
        const decoder = new FrameDecoder()
        const out: CpcMessage[] = []
        let prev = 0
        for (const p of [...points, buf.length]) {
          out.push(...decoder.push(buf.subarray(prev, p)))
          prev = p
        }
        decoder.end()
        expect(out).toEqual(msgs)
        for (const m of msgs) expect(decodeMessage(encodeFrame(m).subarray(encodeFrame(m).length - CpcMessage.encode(m).finish().length))).toEqual(m)
      }),
      { numRuns: 200 },
    )
  })

  it('property: random bytes only ever produce messages or typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat({ max: 4096 }), (bytes, max) => {
        const decoder = new FrameDecoder({ maxFrameBytes: max })
        try {
          decoder.push(bytes)
          decoder.end()
        } catch (err) {
          expect(err).toHaveProperty('code')
          expect(err).toBeInstanceOf(Error)
          expectProtocolError(() => {
            throw err
          })
        }
        try {
          decodeMessage(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(MalformedFrameError)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
