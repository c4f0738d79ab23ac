import { describe, it, expect, beforeAll } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import {
  Compression,
  FrameDecoder,
  FrameTooLargeError,
  MessageSigner,
  MessageType,
  MessageVerifier,
  NonceGenerator,
  PayloadTooLargeError,
  Priority,
  Reassembler,
  buildMessages,
  compressPayload,
  encodeFrame,
  openMessage,
  prepareMessage,
} from '../src/index.js'
import { SEED_A, keyFromSeed } from './helpers.js'

let signer: MessageSigner

beforeAll(async () => {
  signer = new MessageSigner(await keyFromSeed(SEED_A))
})

const clock = (): number => 1_700_000_000_000

function pair(): [NonceGenerator, NonceGenerator] {
  return [new NonceGenerator({ clock }), new NonceGenerator({ clock })]
}

describe('prepareMessage', () => {
  it.each([
    ['single', 300, 1024],
    ['chunked, last chunk short', 10_000, 1024],
    ['chunked, index varints of 2 bytes', 200 * 64 + 7, 64],
  ])('builds the same frames as buildMessages + encodeFrame, with exact sizes (%s)', (_name, length, chunkBytes) => {
    const payload = new Uint8Array(randomBytes(length))
    const input = { type: MessageType.EVENT, priority: Priority.MEDIUM, payload, expiresAtMs: 5, recipient: Uint8Array.from([1, 2]) }
    const [a, b] = pair()
    const eager = buildMessages(input, signer, a, { chunkBytes, now: 42 }).map((m) => encodeFrame(m))
    const lazy = prepareMessage(input, signer, b, { chunkBytes, now: 42 })
    expect(lazy.count).toBe(eager.length)
    expect(lazy.nonce).toBe(lazy.nonces[0])
    for (let i = lazy.count - 1; i >= 0; i--) {
      expect(lazy.size(i)).toBe(eager[i].length)
      expect(lazy.frame(i)).toEqual(eager[i])
    }
    expect(lazy.frame(1 % lazy.count)).toEqual(eager[1 % lazy.count]) // deterministic when rebuilt
  })

  it('frames it builds open to the payload', () => {
    const payload = new Uint8Array(randomBytes(5000))
    const lazy = prepareMessage({ type: MessageType.EVENT, priority: Priority.LOW, payload }, signer, new NonceGenerator(), { chunkBytes: 1000 })
    const decoder = new FrameDecoder()
    const components = { verifier: new MessageVerifier(), reassembler: new Reassembler() }
    let out: Uint8Array | undefined
    for (let i = 0; i < lazy.count; i++) for (const m of decoder.push(lazy.frame(i))) out = openMessage(m, components)?.payload ?? out
    expect(out).toEqual(payload)
  })

  it('refuses too large payloads and frames at once', () => {
    const input = { type: MessageType.EVENT, priority: Priority.LOW, payload: new Uint8Array(2000) }
    expect(() => prepareMessage(input, signer, new NonceGenerator(), { maxPayloadBytes: 1999 })).toThrow(PayloadTooLargeError)
    expect(() => prepareMessage(input, signer, new NonceGenerator(), { maxFrameBytes: 100, compressionThresholdBytes: 1e9 })).toThrow(FrameTooLargeError)
  })
})

describe('compression sampling', () => {
  it('skips LZ4 on a large incompressible payload and still compresses a large text', () => {
    const noise = new Uint8Array(randomBytes(256 * 1024))
    expect(compressPayload(noise).compression).toBe(Compression.NONE)
    const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(10_000))
    expect(compressPayload(text).compression).toBe(Compression.LZ4)
  })
})
