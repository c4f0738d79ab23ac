import { describe, it, expect, beforeAll } from '@jest/globals'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { BinaryWriter } from '@bufbuild/protobuf/wire'
import {
  BatchProof,
  CpcMessage,
  InvalidBatchProofError,
  InvalidSignatureError,
  MessageSigner,
  MessageVerifier,
  ProtocolError,
  batchPathLength,
  decodeMessage,
  encodeBatchField,
  encodeFrame,
  encodeMessage,
  foldBatchPath,
  merkleTree,
  messageLeaf,
  signFrames,
} from '../src/index.js'
import { SEED_A, SEED_B, batchArb, keyFromSeed, messageArb } from './helpers.js'

let signerA: MessageSigner
let signerB: MessageSigner

beforeAll(async () => {
  signerA = new MessageSigner(await keyFromSeed(SEED_A))
  signerB = new MessageSigner(await keyFromSeed(SEED_B))
})

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

const events = (k: number, from = 1n): CpcMessage[] =>
  Array.from({ length: k }, (_, i) => CpcMessage.fromPartial({ nonce: from + BigInt(i), priority: 1, payload: Uint8Array.of(i, i, i), timestampMs: 1_700_000_000_000n }))

/** Strip the unsigned-varint length prefix of one frame. */
function body(frame: Uint8Array): Uint8Array {
  let i = 0
  while ((frame[i] & 0x80) !== 0) i++
  return frame.subarray(i + 1)
}

describe('Merkle tree', () => {
  it('k = 1: the root is the leaf, no path', () => {
    const leaf = sha(Uint8Array.of(1))
    const { root, paths } = merkleTree([leaf])
    expect(root).toEqual(leaf)
    expect(paths).toEqual([[]])
  })

  it('k = 3: pairs hash with the 0x01 prefix, the odd node is promoted unchanged', () => {
    const leaves = [1, 2, 3].map((x) => sha(Uint8Array.of(x)))
    const n01 = sha(Uint8Array.of(1), leaves[0], leaves[1])
    const { root, paths } = merkleTree(leaves)
    expect(root).toEqual(sha(Uint8Array.of(1), n01, leaves[2]))
    expect(paths[0]).toEqual([leaves[1], leaves[2]])
    expect(paths[2]).toEqual([n01])
  })

  it('property: every leaf of any tree folds to its root, with the path length the verifier expects', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.nat(), (k, seed) => {
        const leaves = Array.from({ length: k }, (_, i) => sha(Uint8Array.of(i, seed & 0xff)))
        const { root, paths } = merkleTree(leaves)
        leaves.forEach((leaf, i) => {
          expect(paths[i]).toHaveLength(batchPathLength(i, k))
          expect(foldBatchPath(leaf, i, k, paths[i])).toEqual(root)
        })
      }),
      { numRuns: 100 },
    )
  })

  it('rejects impossible proofs with InvalidBatchProofError', () => {
    const leaves = [1, 2, 3].map((x) => sha(Uint8Array.of(x)))
    const { paths } = merkleTree(leaves)
    expect(() => foldBatchPath(leaves[0], 0, 1, [])).toThrow(InvalidBatchProofError)
    expect(() => foldBatchPath(leaves[0], 3, 3, paths[0])).toThrow(InvalidBatchProofError)
    expect(() => foldBatchPath(leaves[0], 0, 65, paths[0])).toThrow(InvalidBatchProofError)
    expect(() => foldBatchPath(leaves[0], 0, 3, paths[0].slice(1))).toThrow(InvalidBatchProofError)
    expect(() => foldBatchPath(leaves[0], 0, 3, [paths[0][0], paths[0][1].subarray(1)])).toThrow(InvalidBatchProofError)
  })
})

describe('batch signatures', () => {
  it('property: for any k, every message of a batch verifies alone (proof + root signature) after a frame round trip', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 20 }), (msgs) => {
        const signed = signerA.signBatch(msgs.map((m) => ({ ...m, origin: new Uint8Array(0) })))
        expect(new Set(signed.map((m) => Buffer.from(m.signature).toString('hex'))).size).toBe(1)
        for (const m of signed) {
          expect(m.batch === undefined).toBe(msgs.length === 1)
          // A fresh verifier each time: no help from the roots cache.
          expect(new MessageVerifier().verify(decodeMessage(encodeMessage(m)))).toBe('verified')
        }
      }),
      { numRuns: 60 },
    )
  })

  it('property: flipping any bit of a batched frame body fails decoding or verification, or decodes to the same message', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 2, maxLength: 8 }), fc.nat(), fc.nat(), (msgs, pick, bitSeed) => {
        const signed = signerA.signBatch(msgs.map((m) => ({ ...m, origin: new Uint8Array(0) })))
        const m = signed[pick % signed.length]
        const b = encodeMessage(m)
        const bit = bitSeed % (b.length * 8)
        const flipped = b.slice()
        flipped[bit >> 3] ^= 1 << (bit & 7)
        let decoded: CpcMessage
        try {
          decoded = decodeMessage(flipped)
          new MessageVerifier().verify(decoded)
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
          return
        }
        // Only flips the decoder reads as the very same message (e.g. high varint bits) survive.
        expect(decoded).toEqual(m)
      }),
      { numRuns: 300 },
    )
  })

  it('the roots cache verifies a batch once and still rejects a forged member', () => {
    const verifier = new MessageVerifier()
    const signed = signerA.signBatch(events(4))
    expect(verifier.verify(signed[0])).toBe('verified')
    expect(verifier.verify(signed[1])).toBe('cached')
    expect(verifier.verify(signed[3])).toBe('cached')
    expect(verifier.rootStats).toEqual({ hits: 2, misses: 1 })
    expect(verifier.cachedRoots).toBe(1)
    expect(() => verifier.verify({ ...signed[2], payload: Uint8Array.of(9) })).toThrow(InvalidSignatureError)
    // The same root and signature claimed by another origin is not a cache hit.
    expect(() => verifier.verify({ ...signed[2], origin: signerB.peerIdBytes })).toThrow(InvalidSignatureError)
    expect(verifier.verify(signed[2])).toBe('cached')
  })

  it('keeps the roots cache bounded (LRU)', () => {
    const verifier = new MessageVerifier({ rootCacheSize: 2 })
    for (let b = 0; b < 5; b++) verifier.verify(signerA.signBatch(events(2, BigInt(b * 10)))[0])
    expect(verifier.cachedRoots).toBe(2)
    expect(new MessageVerifier({ maxBatch: 4 }).verify(signerA.signBatch(events(4))[0])).toBe('verified')
    expect(() => new MessageVerifier({ maxBatch: 4 }).verify(signerA.signBatch(events(5))[0])).toThrow(InvalidBatchProofError)
  })

  it('signFrames: one signature per batch of at most maxBatch, near-equal batches, signers kept apart', () => {
    const msgs = events(17)
    const frames = signFrames(msgs.map((m) => signerA.unsignedFrame(m)), 16)
    const decoded = frames.map((f) => decodeMessage(body(f)))
    expect(decoded.map((m) => m.batch?.count)).toEqual([...Array(8).fill(8), ...Array(9).fill(9)])
    expect(new Set(decoded.map((m) => Buffer.from(m.signature).toString('hex'))).size).toBe(2)
    const verifier = new MessageVerifier()
    for (const m of decoded) verifier.verify(m)

    const mixed = signFrames([signerA.unsignedFrame(msgs[0]), signerA.unsignedFrame(msgs[1]), signerB.unsignedFrame(msgs[2])], 16)
    const [a0, a1, b0] = mixed.map((f) => decodeMessage(body(f)))
    expect(a0.batch?.count).toBe(2)
    expect(b0.batch).toBeUndefined()
    expect(b0.origin).toEqual(signerB.peerIdBytes)
    for (const m of [a0, a1, b0]) verifier.verify(m)
  })

  it('signFrames with k = 1 equals sign() + encodeFrame(), and a batch equals signBatch() + encodeFrame()', () => {
    const [m] = events(1)
    expect(signFrames([signerA.unsignedFrame(m)], 16)).toEqual([encodeFrame(signerA.sign(m))])
    const msgs = events(5)
    expect(signFrames(msgs.map((x) => signerA.unsignedFrame(x)), 16)).toEqual(signerA.signBatch(msgs).map((x) => encodeFrame(x)))
  })

  it('property: the hand-written batch field is byte for byte the generated encoding', () => {
    fc.assert(
      fc.property(batchArb, (proof) => {
        expect(encodeBatchField(proof)).toEqual(BatchProof.encode(proof, new BinaryWriter().uint32(114).fork()).join().finish())
      }),
      { numRuns: 300 },
    )
  })

  it('the leaf does not depend on signature or proof', () => {
    const [m] = signerA.signBatch(events(2))
    expect(messageLeaf(m)).toEqual(messageLeaf({ ...m, signature: new Uint8Array(0), batch: undefined }))
  })
})
