import { describe, it, expect, beforeAll } from '@jest/globals'
import fc from 'fast-check'
import { createHash, createPublicKey, verify } from 'node:crypto'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import {
  CpcMessage,
  InvalidOriginError,
  InvalidSignatureError,
  MessageSigner,
  MessageVerifier,
  MissingSignatureError,
  ProtocolError,
  LEAF_DOMAIN,
  batchSigningBytes,
  decodeMessage,
  encodeMessage,
  peerIdToString,
  messageLeaf,
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
  it('signing bytes are the leaf domain prefix and the encoding without signature and batch; the leaf is their SHA-256', () => {
    const msg = { ...base, signature: Uint8Array.from([1, 2]), batch: { index: 1, count: 2, path: [new Uint8Array(32)] } }
    const bytes = signingBytes(msg)
    const domain = new TextEncoder().encode(LEAF_DOMAIN)
    expect(bytes.subarray(0, domain.length)).toEqual(domain)
    expect(bytes.subarray(domain.length)).toEqual(encodeMessage(base))
    expect(messageLeaf(msg)).toEqual(new Uint8Array(createHash('sha256').update(bytes).digest()))
  })

  it('property: the leaf hashes exactly the canonical encoding without signature and batch', () => {
    fc.assert(
      fc.property(messageArb, (msg) => {
        const bytes = signingBytes(msg)
        expect(bytes.subarray(LEAF_DOMAIN.length)).toEqual(encodeMessage({ ...msg, signature: new Uint8Array(0), batch: undefined }))
        expect(messageLeaf(msg)).toEqual(new Uint8Array(createHash('sha256').update(bytes).digest()))
      }),
      { numRuns: 200 },
    )
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
    // A lone message's root is its leaf: Ed25519 signs "cpc/1.0.0/batch" || leaf.
    const signed32 = batchSigningBytes(messageLeaf(signed))
    const viaLibp2p = await keyA.sign(signed32)
    expect(viaLibp2p).toEqual(signed.signature)
    expect(await keyA.publicKey.verify(signed32, signed.signature)).toBe(true)
    expect(signed.batch).toBeUndefined()
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

  it('property: flipping any bit of the signing bytes changes the leaf and fails verification', () => {
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(signerA.publicKey).toString('base64url') }, format: 'jwk' })
    const signedBytes = (bytes: Uint8Array): Uint8Array => batchSigningBytes(new Uint8Array(createHash('sha256').update(bytes).digest()))
    fc.assert(
      fc.property(messageArb, fc.nat(), (msg, bitSeed) => {
        const signed = signerA.sign({ ...msg, origin: new Uint8Array(0) })
        const bytes = signingBytes(signed)
        expect(verify(null, signedBytes(bytes), publicKey, signed.signature)).toBe(true)
        const bit = bitSeed % (bytes.length * 8)
        const flipped = bytes.slice()
        flipped[bit >> 3] ^= 1 << (bit & 7)
        expect(verify(null, signedBytes(flipped), publicKey, signed.signature)).toBe(false)
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
