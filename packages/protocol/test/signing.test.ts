import { describe, it, expect, beforeAll } from '@jest/globals'
import fc from 'fast-check'
import { createPublicKey, verify } from 'node:crypto'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import {
  CpcMessage,
  InvalidOriginError,
  InvalidSignatureError,
  MessageSigner,
  MessageVerifier,
  MissingSignatureError,
  ProtocolError,
  SIGNING_DOMAIN,
  decodeMessage,
  encodeMessage,
  peerIdToString,
  signingBytes,
} from '../src/index.js'
import { SEED_A, SEED_B, keyFromSeed, messageArb } from './helpers.js'

let keyA: Ed25519PrivateKey
let keyB: Ed25519PrivateKey
let signerA: MessageSigner
let signerB: MessageSigner

beforeAll(async () => {
  keyA = await keyFromSeed(SEED_A)
  keyB = await keyFromSeed(SEED_B)
  signerA = new MessageSigner(keyA)
  signerB = new MessageSigner(keyB)
})

const base = CpcMessage.fromPartial({ nonce: 7n, priority: 1, payload: Uint8Array.from([9, 9, 9]), timestampMs: 1_700_000_000_000n })

describe('signing', () => {
  it('signing bytes are the domain prefix and the encoding without signature', () => {
    const msg = { ...base, signature: Uint8Array.from([1, 2]) }
    const bytes = signingBytes(msg)
    const domain = new TextEncoder().encode(SIGNING_DOMAIN)
    expect(bytes.subarray(0, domain.length)).toEqual(domain)
    expect(bytes.subarray(domain.length)).toEqual(encodeMessage(base))
  })

  it('the signer sets origin to its Ed25519 peer id and signs deterministically', () => {
    const signed = signerA.sign(base)
    expect(signed.origin).toEqual(keyA.publicKey.toMultihash().bytes)
    expect(peerIdToString(signed.origin)).toBe(keyA.publicKey.toString())
    expect(signed.signature).toHaveLength(64)
    expect(signerA.sign(base).signature).toEqual(signed.signature)
    new MessageVerifier().verify(signed)
  })

  it('signatures match @libp2p/crypto and verify with it', async () => {
    const signed = signerA.sign(base)
    const viaLibp2p = await keyA.sign(signingBytes(signed))
    expect(viaLibp2p).toEqual(signed.signature)
    expect(await keyA.publicKey.verify(signingBytes(signed), signed.signature)).toBe(true)
  })

  it('survives a frame round trip', () => {
    const signed = signerB.sign({ ...base, group: 'g', recipient: signerA.peerIdBytes, ttl: 3 })
    new MessageVerifier().verify(decodeMessage(encodeMessage(signed)), signerB.peerIdBytes)
  })

  it('rejects missing signature, wrong origin, foreign keys and tampering with typed errors', () => {
    const verifier = new MessageVerifier()
    const signed = signerA.sign(base)
    expect(() => verifier.verify({ ...signed, signature: new Uint8Array(0) })).toThrow(MissingSignatureError)
    expect(() => verifier.verify(signed, signerB.peerIdBytes)).toThrow(InvalidOriginError)
    expect(() => verifier.verify({ ...signed, origin: new Uint8Array(0) })).toThrow(InvalidOriginError)
    expect(() => verifier.verify({ ...signed, origin: Uint8Array.from([0x12, 0x20, ...new Uint8Array(32)]) })).toThrow(InvalidOriginError)
    expect(() => verifier.verify({ ...signed, origin: signerB.peerIdBytes })).toThrow(InvalidSignatureError)
    expect(() => verifier.verify({ ...signed, signature: signed.signature.subarray(1) })).toThrow(InvalidSignatureError)
    expect(() => verifier.verify({ ...signed, ttl: 1 })).toThrow(InvalidSignatureError)
    try {
      verifier.verify({ ...signed, nonce: 8n })
    } catch (err) {
      expect((err as ProtocolError).code).toBe('ERR_INVALID_SIGNATURE')
    }
  })

  it('uses expectedOrigin as the key when origin is omitted', () => {
    const unsignedOrigin = { ...base, origin: new Uint8Array(0) }
    const sig = new Uint8Array(signerA.sign({ ...unsignedOrigin, origin: signerA.peerIdBytes }).signature)
    // A signature over a message carrying origin does not cover the same message without it.
    expect(() => new MessageVerifier().verify({ ...unsignedOrigin, signature: sig }, signerA.peerIdBytes)).toThrow(InvalidSignatureError)
  })

  it('keeps the key cache bounded', () => {
    const verifier = new MessageVerifier({ cacheSize: 1 })
    verifier.verify(signerA.sign(base))
    verifier.verify(signerB.sign(base))
    verifier.verify(signerA.sign(base))
    expect(verifier.cachedKeys).toBe(1)
  })

  it('property: flipping any bit of the signed bytes fails verification', () => {
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(signerA.publicKey).toString('base64url') }, format: 'jwk' })
    fc.assert(
      fc.property(messageArb, fc.nat(), (msg, bitSeed) => {
        const signed = signerA.sign({ ...msg, origin: new Uint8Array(0) })
        const bytes = signingBytes(signed)
        expect(verify(null, bytes, publicKey, signed.signature)).toBe(true)
        const bit = bitSeed % (bytes.length * 8)
        const flipped = bytes.slice()
        flipped[bit >> 3] ^= 1 << (bit & 7)
        expect(verify(null, flipped, publicKey, signed.signature)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  it('property: flipping any bit of a signed frame body fails decoding or verification', () => {
    const verifier = new MessageVerifier()
    fc.assert(
      fc.property(messageArb, fc.nat(), (msg, bitSeed) => {
        const signed = signerA.sign({ ...msg, origin: new Uint8Array(0), signature: new Uint8Array(0) })
        const body = encodeMessage(signed)
        const bit = bitSeed % (body.length * 8)
        const flipped = body.slice()
        flipped[bit >> 3] ^= 1 << (bit & 7)
        let decoded: CpcMessage
        try {
          decoded = decodeMessage(flipped)
          verifier.verify(decoded)
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
          return
        }
        // The only flips that verify are those the protobuf decoder reads as the very same message
        // (e.g. bits above 64 in the 10th byte of a uint64 varint): no meaning changes.
        expect(decoded).toEqual(signed)
      }),
      { numRuns: 300 },
    )
  })
})
