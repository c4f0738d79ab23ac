import { describe, it, expect, beforeAll } from '@jest/globals'
import fc from 'fast-check'
import {
  Compression,
  FrameDecoder,
  InvalidSignatureError,
  MessageExpiredError,
  MessageSigner,
  MessageType,
  MessageVerifier,
  NonceGenerator,
  PayloadTooLargeError,
  Priority,
  Reassembler,
  WrongRecipientError,
  buildMessages,
  encodeFrames,
  openMessage,
  type CpcMessage,
} from '../src/index.js'
import { SEED_A, SEED_B, keyFromSeed } from './helpers.js'

let signer: MessageSigner
let other: MessageSigner

beforeAll(async () => {
  signer = new MessageSigner(await keyFromSeed(SEED_A))
  other = new MessageSigner(await keyFromSeed(SEED_B))
})

function receive(msgs: CpcMessage[], options = {}): Uint8Array[] {
  const components = { verifier: new MessageVerifier(), reassembler: new Reassembler() }
  const out: Uint8Array[] = []
  for (const m of new FrameDecoder().push(encodeFrames(msgs))) {
    const opened = openMessage(m, components, options)
    if (opened !== undefined) out.push(opened.payload)
  }
  return out
}

describe('buildMessages / openMessage', () => {
  it('builds one signed message for a small payload', () => {
    const nonces = new NonceGenerator({ clock: () => 1000 })
    const [msg, ...rest] = buildMessages({ type: MessageType.CONTROL, priority: Priority.HIGH, payload: Uint8Array.from([1, 2]), ttl: 2, group: 'g' }, signer, nonces, { now: 1234 })
    expect(rest).toEqual([])
    expect(msg.origin).toEqual(signer.peerIdBytes)
    expect(msg.timestampMs).toBe(1234n)
    expect(msg.nonce).toBe(1000n << 20n)
    expect(msg.chunk).toBeUndefined()
    expect(msg.compression).toBe(Compression.NONE)
    expect(receive([msg])).toEqual([Uint8Array.from([1, 2])])
  })

  it('compresses, chunks and signs each chunk of a large payload', () => {
    const payload = new TextEncoder().encode('hello cpc-net '.repeat(20_000))
    const msgs = buildMessages({ type: MessageType.EVENT, priority: Priority.LOW, payload }, signer, new NonceGenerator(), { chunkBytes: 1024 })
    expect(msgs.length).toBeGreaterThan(1)
    expect(msgs.every((m) => m.compression === Compression.LZ4)).toBe(true)
    expect(msgs[0].chunk?.messageId).toBe(msgs[0].nonce)
    expect(new Set(msgs.map((m) => m.nonce)).size).toBe(msgs.length)
    expect(receive([...msgs].reverse())).toEqual([payload])
  })

  it('refuses payloads over maxPayloadBytes', () => {
    expect(() => buildMessages({ type: 0, priority: 0, payload: new Uint8Array(11) }, signer, new NonceGenerator(), { maxPayloadBytes: 10 })).toThrow(PayloadTooLargeError)
  })

  it('rejects forged, expired and misaddressed messages', () => {
    const [msg] = buildMessages({ type: 0, priority: 0, payload: Uint8Array.from([1]), expiresAtMs: 5000, recipient: other.peerIdBytes }, signer, new NonceGenerator())
    expect(() => receive([{ ...msg, priority: 2 }])).toThrow(InvalidSignatureError)
    expect(() => receive([msg], { now: 5001 })).toThrow(MessageExpiredError)
    expect(() => receive([msg], { localPeer: signer.peerIdBytes })).toThrow(WrongRecipientError)
    expect(receive([msg], { now: 5000, localPeer: other.peerIdBytes })).toEqual([Uint8Array.from([1])])
  })

  it('property: every payload survives build → frames → open', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 64, max: 2048 }), fc.nat({ max: 2048 }), (payload, chunkBytes, threshold) => {
        const msgs = buildMessages({ type: 1, priority: 1, payload }, signer, new NonceGenerator(), { chunkBytes, compressionThresholdBytes: threshold })
        expect(receive(msgs)).toEqual([payload])
      }),
      { numRuns: 100 },
    )
  })
})
