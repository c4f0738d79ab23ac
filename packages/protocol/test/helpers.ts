import fc from 'fast-check'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { ProtocolError, type BatchProof, type CpcMessage, type Chunk } from '../src/index.js'

/** Test-only Ed25519 seeds (never use outside tests). */
export const SEED_A = Uint8Array.from({ length: 32 }, (_, i) => i + 1)
export const SEED_B = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i)

export async function keyFromSeed(seed: Uint8Array): Promise<Ed25519PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', seed)
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'))
}

/** Throws unless fn throws a ProtocolError; returns it. */
export function expectProtocolError(fn: () => unknown): ProtocolError {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw new Error(`expected a ProtocolError, got ${String(err)}`, { cause: err })
    return err
  }
  throw new Error('expected a ProtocolError, nothing was thrown')
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })

export const chunkArb: fc.Arbitrary<Chunk> = fc.record({
  messageId: u64,
  index: fc.nat({ max: 0xffffffff }),
  count: fc.nat({ max: 0xffffffff }),
  totalBytes: u64,
})

export const batchArb: fc.Arbitrary<BatchProof> = fc.record({
  index: fc.nat({ max: 0xffffffff }),
  count: fc.nat({ max: 0xffffffff }),
  path: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 6 }),
})

/** Any CpcMessage the schema can express (valid enum values, UTF-8 safe group). */
export const messageArb: fc.Arbitrary<CpcMessage> = fc.record({
  nonce: u64,
  priority: fc.constantFrom(0, 1, 2),
  messageType: fc.constantFrom(0, 1, 2),
  payload: fc.uint8Array({ maxLength: 600 }),
  signature: fc.uint8Array({ maxLength: 64 }),
  origin: fc.uint8Array({ maxLength: 40 }),
  timestampMs: u64,
  ttl: fc.nat({ max: 0xffffffff }),
  compression: fc.constantFrom(0, 1),
  chunk: fc.option(chunkArb, { nil: undefined }),
  group: fc.string({ maxLength: 20 }),
  expiresAtMs: u64,
  recipient: fc.uint8Array({ maxLength: 40 }),
  batch: fc.option(batchArb, { nil: undefined }),
})
