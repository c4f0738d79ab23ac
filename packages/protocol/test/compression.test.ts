import { describe, it, expect } from '@jest/globals'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import * as lz4js from 'lz4js'
import {
  Compression,
  DecompressedTooLargeError,
  DecompressionError,
  ProtocolError,
  compressPayload,
  decompressPayload,
  lz4CompressBlock,
  lz4DecompressBlock,
} from '../src/index.js'

const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(100))

describe('compression', () => {
  it('compresses above the threshold when it saves bytes', () => {
    const out = compressPayload(text, { thresholdBytes: 1024 })
    expect(out.compression).toBe(Compression.LZ4)
    expect(out.payload.length).toBeLessThan(text.length / 5)
    expect(decompressPayload(out.payload, out.compression)).toEqual(text)
  })

  it('leaves small and incompressible payloads alone', () => {
    expect(compressPayload(text.subarray(0, 1024), { thresholdBytes: 1024 }).compression).toBe(Compression.NONE)
    const noise = new Uint8Array(randomBytes(4096))
    const out = compressPayload(noise, { thresholdBytes: 0 })
    expect(out.compression).toBe(Compression.NONE)
    expect(out.payload).toBe(noise)
  })

  it('checks the declared size against maxBytes before allocating', () => {
    const out = compressPayload(text, { thresholdBytes: 0 })
    expect(() => decompressPayload(out.payload, Compression.LZ4, { maxBytes: text.length - 1 })).toThrow(DecompressedTooLargeError)
    // A 6-byte payload claiming 1 GiB is refused without touching the block.
    expect(() => decompressPayload(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00]), Compression.LZ4)).toThrow(DecompressedTooLargeError)
    expect(() => decompressPayload(new Uint8Array(10), Compression.NONE, { maxBytes: 5 })).toThrow(DecompressedTooLargeError)
  })

  it('rejects corrupt input and unknown compressions with DecompressionError', () => {
    expect(() => decompressPayload(new Uint8Array(0), Compression.LZ4)).toThrow(DecompressionError)
    expect(() => decompressPayload(Uint8Array.from([10, 0x00]), Compression.LZ4)).toThrow(DecompressionError)
    expect(() => decompressPayload(Uint8Array.from([8, 0x10, 0x41, 0x05, 0x00]), Compression.LZ4)).toThrow(DecompressionError)
    expect(() => decompressPayload(Uint8Array.from([1]), 7 as Compression)).toThrow(DecompressionError)
  })

  it('decodes reference LZ4 blocks (overlapping matches, long lengths)', () => {
    // "a" then a match of offset 1, length 4+15+5 = 24: 25 x "a".
    const block = Uint8Array.from([0x1f, 0x61, 0x01, 0x00, 0x05, 0x50, 0x61, 0x61, 0x61, 0x61, 0x61])
    expect(new TextDecoder().decode(lz4DecompressBlock(block, 30))).toBe('a'.repeat(30))
  })

  it('property: payloads round-trip, and lz4js decodes our blocks identically', () => {
    const payloadArb = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.constantFrom(...'abcab  xyz'), { maxLength: 5000 }).map((cs) => new TextEncoder().encode(cs.join(''))),
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat({ max: 300 })).map(([u, n]) => {
        const out = new Uint8Array(u.length * n)
        for (let i = 0; i < n; i++) out.set(u, i * u.length)
        return out
      }),
    )
    fc.assert(
      fc.property(payloadArb, (payload) => {
        const block = lz4CompressBlock(payload)
        expect(lz4DecompressBlock(block, payload.length)).toEqual(payload)
        const viaLz4js = new Uint8Array(payload.length)
        expect(lz4js.decompressBlock(block, viaLz4js, 0, block.length, 0)).toBe(payload.length)
        expect(viaLz4js).toEqual(payload)
        const c = compressPayload(payload, { thresholdBytes: 0 })
        expect(decompressPayload(c.payload, c.compression)).toEqual(payload)
      }),
      { numRuns: 150 },
    )
  })

  it('property: random bytes only ever decompress or throw typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (bytes) => {
        try {
          decompressPayload(bytes, Compression.LZ4, { maxBytes: 1 << 20 })
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      { numRuns: 2000 },
    )
  })
})
