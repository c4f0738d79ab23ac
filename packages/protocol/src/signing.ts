// Signing and verification (ADR docs/design/batch-signatures.md). A message's leaf is
// SHA-256("cpc/1.0.0/leaf" || canonical encoding of every field but signature and batch); a batch of
// leaves from one origin is signed once, Ed25519 over "cpc/1.0.0/batch" || Merkle root, and each
// message carries its inclusion proof (field 14) unless the batch holds only it (root = leaf).
// Ed25519 then signs 47 bytes whatever the payload size: the payload is hashed once, by SHA-256.
import { createHash, hash as oneShotHash, createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { BATCH_DOMAIN, DEFAULT_VERIFIED_ROOTS_CACHE_SIZE, DEFAULT_MAX_VERIFY_BATCH, DEFAULT_VERIFIER_CACHE_SIZE, LEAF_DOMAIN, SIGNATURE_BYTES } from './constants.js'
import { InvalidArgumentError, InvalidOriginError, InvalidSignatureError, MissingSignatureError } from './errors.js'
import { canonicalLength, canonicalParts, encodeSignedFrame, type CanonicalParts } from './canonical.js'
import type { BatchProof, CpcMessage } from './gen/cpc/v1/wire.js'
import { foldBatchPath, merkleTree } from './merkle.js'
import { bytesEqual, ed25519PublicKeyFromPeerIdBytes, peerIdBytesFromEd25519PublicKey, toHex } from './peer.js'

const LEAF_DOMAIN_BYTES = new TextEncoder().encode(LEAF_DOMAIN)
const BATCH_DOMAIN_BYTES = new TextEncoder().encode(BATCH_DOMAIN)
const EMPTY = new Uint8Array(0)
// DER wrappers that turn raw Ed25519 keys into node:crypto KeyObjects (RFC 8410).
const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/**
 * The bytes a message's leaf hashes: the UTF-8 domain prefix "cpc/1.0.0/leaf" followed by the
 * canonical protobuf encoding of the message without `signature` and `batch` (fields in field-number
 * order, fields with default values omitted, minimal varints; see README "Signing bytes"). For
 * tools and vectors: messageLeaf() hashes the same bytes without assembling them.
 */
export function signingBytes(msg: CpcMessage): Uint8Array {
  return leafInput(canonicalParts(msg))
}

/** LEAF_DOMAIN || the parts, in one new buffer. */
function leafInput(parts: CanonicalParts): Buffer {
  const out = Buffer.allocUnsafe(LEAF_DOMAIN_BYTES.length + canonicalLength(parts))
  let at = 0
  for (const part of [LEAF_DOMAIN_BYTES, parts.head, parts.payloadHeader, parts.payload, parts.tail]) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/**
 * Below this many signing bytes the leaf is hashed in one shot over a copy: creating and feeding a
 * Hash object costs more than copying a few KiB (~2.1 vs ~1.5 us for a 256 B EVENT, measured here).
 */
const ONE_SHOT_HASH_MAX_BYTES = 16 * 1024

function leafOfParts(parts: CanonicalParts): Uint8Array {
  if (canonicalLength(parts) <= ONE_SHOT_HASH_MAX_BYTES) return oneShotHash('sha256', leafInput(parts), 'buffer')
  // A large payload is hashed where it lies (no copy): one SHA-256 pass is all it costs.
  return createHash('sha256').update(LEAF_DOMAIN_BYTES).update(parts.head).update(parts.payloadHeader).update(parts.payload).update(parts.tail).digest()
}

/** SHA-256 of signingBytes(msg): the message's Merkle leaf. */
export function messageLeaf(msg: CpcMessage): Uint8Array {
  return leafOfParts(canonicalParts(msg))
}

/** The bytes Ed25519 signs for a batch: "cpc/1.0.0/batch" || root. */
export function batchSigningBytes(root: Uint8Array): Uint8Array {
  return concat(BATCH_DOMAIN_BYTES, root)
}

/** A node:crypto public KeyObject from a raw 32-byte Ed25519 public key. */
export function ed25519PublicKeyObject(raw: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(concat(SPKI_ED25519_PREFIX, raw)), format: 'der', type: 'spki' })
  } catch (err) {
    throw new InvalidOriginError('Origin does not hold a valid Ed25519 public key', { cause: err })
  }
}

/**
 * A message ready to be signed in a batch: its leaf, and how to encode its frame once the batch's
 * signature and its proof are known (the payload is copied once, into the frame).
 */
export interface UnsignedFrame {
  readonly signer: MessageSigner
  readonly leaf: Uint8Array
  /** Body size without signature and batch proof (the canonical encoding). */
  readonly unsignedBodyBytes: number
  /** Length prefix and body, carrying this signature and (in a batch of 2 or more) this proof. */
  encode(signature: Uint8Array, batch?: BatchProof): Uint8Array
}

/**
 * Signs messages with an Ed25519 identity. The key is turned into a node:crypto KeyObject once:
 * signing through it measured ~2x faster than @libp2p/crypto's sign (see README), and it is
 * synchronous.
 */
export class MessageSigner {
  /** The signer's peer id (multihash bytes), written into `origin`. */
  readonly peerIdBytes: Uint8Array
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  private readonly key: KeyObject

  constructor(privateKey: PrivateKey) {
    if (privateKey.type !== 'Ed25519') throw new InvalidArgumentError(`MessageSigner needs an Ed25519 key, got ${privateKey.type}`)
    // @libp2p/crypto's Ed25519 raw private key is seed (32 bytes) || public key (32 bytes).
    const seed = privateKey.raw.subarray(0, 32)
    this.key = createPrivateKey({ key: Buffer.from(concat(PKCS8_ED25519_PREFIX, seed)), format: 'der', type: 'pkcs8' })
    this.publicKey = privateKey.publicKey.raw
    this.peerIdBytes = peerIdBytesFromEd25519PublicKey(this.publicKey)
  }

  /** Ed25519 over "cpc/1.0.0/batch" || root. */
  signRoot(root: Uint8Array): Uint8Array {
    const signature = edSign(null, batchSigningBytes(root), this.key)
    return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength)
  }

  /** Returns a copy of msg with origin set (if empty) to this signer, signed alone (no batch field). */
  sign(msg: CpcMessage): CpcMessage {
    return this.signBatch([msg])[0]
  }

  /**
   * Signs the messages together under one Merkle root: copies with origin set (if empty) to this
   * signer, the root's signature, and (for 2 or more) each message's inclusion proof.
   */
  signBatch(msgs: readonly CpcMessage[]): CpcMessage[] {
    if (msgs.length === 0) return []
    const unsigned = msgs.map((m): CpcMessage => ({ ...m, origin: m.origin.length === 0 ? this.peerIdBytes : m.origin, signature: EMPTY, batch: undefined }))
    const { root, paths } = merkleTree(unsigned.map(messageLeaf))
    const signature = this.signRoot(root)
    const count = unsigned.length
    return unsigned.map((m, index) => ({ ...m, signature, batch: count === 1 ? undefined : { index, count, path: paths[index] } }))
  }

  /** A message (origin set to this signer if empty) as an UnsignedFrame, for signFrames(). */
  unsignedFrame(msg: CpcMessage): UnsignedFrame {
    const parts = canonicalParts({ ...msg, origin: msg.origin.length === 0 ? this.peerIdBytes : msg.origin })
    return {
      signer: this,
      leaf: leafOfParts(parts),
      unsignedBodyBytes: canonicalLength(parts),
      encode: (signature, batch) => encodeSignedFrame(parts, signature, batch),
    }
  }
}

/**
 * Signs frames in batches of at most maxBatch leaves per Ed25519 signature (consecutive frames of
 * one signer together, split into near-equal batches so proofs stay short) and encodes them, in
 * order. Returns the frames (length prefix and body).
 */
export function signFrames(frames: readonly UnsignedFrame[], maxBatch: number): Uint8Array[] {
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new InvalidArgumentError(`maxBatch must be a positive integer, got ${maxBatch}`)
  const out: Uint8Array[] = []
  for (let start = 0; start < frames.length; ) {
    const signer = frames[start].signer
    let end = start + 1
    while (end < frames.length && frames[end].signer === signer) end++
    const run = end - start
    const batches = Math.ceil(run / maxBatch)
    for (let b = 0; b < batches; b++) {
      const from = start + Math.floor((b * run) / batches)
      const to = start + Math.floor(((b + 1) * run) / batches)
      const group = frames.slice(from, to)
      const { root, paths } = merkleTree(group.map((f) => f.leaf))
      const signature = signer.signRoot(root)
      const count = group.length
      group.forEach((f, index) => out.push(f.encode(signature, count === 1 ? undefined : { index, count, path: paths[index] })))
    }
    start = end
  }
  return out
}

export interface MessageVerifierInit {
  /** Public keys kept ready (LRU), default DEFAULT_VERIFIER_CACHE_SIZE. */
  cacheSize?: number
  /** Largest BatchProof.count accepted, default DEFAULT_MAX_VERIFY_BATCH. */
  maxBatch?: number
  /** Verified (origin, root, signature) triples remembered (LRU), default DEFAULT_VERIFIED_ROOTS_CACHE_SIZE. */
  rootCacheSize?: number
}

/** How verify() accepted a message: an Ed25519 verification, or a batch root verified before. */
export type VerifyOutcome = 'verified' | 'cached'

/**
 * Verifies message signatures. The public key comes from the origin peer id itself (an Ed25519
 * peer id embeds its key), so no key lookup is needed; KeyObjects are cached in a bounded LRU. A
 * batched message's root, once verified, is remembered (bounded LRU keyed by origin, root and
 * signature), so the batch's other messages cost a leaf hash and a path fold each.
 */
export class MessageVerifier {
  private readonly cacheSize: number
  private readonly maxBatch: number
  private readonly rootCacheSize: number
  private readonly cache = new Map<string, KeyObject>()
  private readonly roots = new Map<string, true>()
  /** Batched messages accepted from the roots cache / that needed an Ed25519 verification. */
  readonly rootStats = { hits: 0, misses: 0 }

  constructor(init: MessageVerifierInit = {}) {
    this.cacheSize = Math.max(0, init.cacheSize ?? DEFAULT_VERIFIER_CACHE_SIZE)
    this.maxBatch = Math.max(2, init.maxBatch ?? DEFAULT_MAX_VERIFY_BATCH)
    this.rootCacheSize = Math.max(0, init.rootCacheSize ?? DEFAULT_VERIFIED_ROOTS_CACHE_SIZE)
  }

  /**
   * Throws unless msg carries a valid signature by its origin (InvalidBatchProofError for a proof
   * that cannot be folded). If `expectedOrigin` is given (e.g. the remote peer of a direct message),
   * the origin must equal it; a message without origin is then checked against expectedOrigin's key.
   */
  verify(msg: CpcMessage, expectedOrigin?: Uint8Array): VerifyOutcome {
    if (msg.signature.length === 0) throw new MissingSignatureError()
    let origin = msg.origin
    if (expectedOrigin !== undefined && expectedOrigin.length > 0) {
      if (origin.length === 0) origin = expectedOrigin
      else if (!bytesEqual(origin, expectedOrigin)) throw new InvalidOriginError('Origin is not the expected peer')
    }
    if (origin.length === 0) throw new InvalidOriginError('Message has no origin')
    if (msg.signature.length !== SIGNATURE_BYTES) {
      throw new InvalidSignatureError(`Signature must be ${SIGNATURE_BYTES} bytes, got ${msg.signature.length}`)
    }
    const leaf = messageLeaf(msg)
    const batch = msg.batch
    const root = batch === undefined ? leaf : foldBatchPath(leaf, batch.index, batch.count, batch.path, this.maxBatch)
    // Only batch roots are remembered: a lone message's root is its own leaf, never seen again.
    let rootKey: string | undefined
    if (batch !== undefined && this.rootCacheSize > 0) {
      rootKey = Buffer.concat([origin, root, msg.signature]).toString('latin1')
      if (this.roots.has(rootKey)) {
        this.roots.delete(rootKey)
        this.roots.set(rootKey, true)
        this.rootStats.hits++
        return 'cached'
      }
      this.rootStats.misses++
    }
    const key = this.publicKeyFor(origin)
    let ok: boolean
    try {
      ok = edVerify(null, batchSigningBytes(root), key, msg.signature)
    } catch (err) {
      throw new InvalidSignatureError('Signature verification failed', { cause: err })
    }
    if (!ok) throw new InvalidSignatureError()
    if (rootKey !== undefined) {
      if (this.roots.size >= this.rootCacheSize) {
        const oldest = this.roots.keys().next()
        if (oldest.done !== true) this.roots.delete(oldest.value)
      }
      this.roots.set(rootKey, true)
    }
    return 'verified'
  }

  /** Number of cached public keys. */
  get cachedKeys(): number {
    return this.cache.size
  }

  /** Number of remembered verified batch roots. */
  get cachedRoots(): number {
    return this.roots.size
  }

  private publicKeyFor(origin: Uint8Array): KeyObject {
    const id = toHex(origin)
    const hit = this.cache.get(id)
    if (hit !== undefined) {
      this.cache.delete(id)
      this.cache.set(id, hit)
      return hit
    }
    const key = ed25519PublicKeyObject(ed25519PublicKeyFromPeerIdBytes(origin))
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) {
        const oldest = this.cache.keys().next()
        if (oldest.done !== true) this.cache.delete(oldest.value)
      }
      this.cache.set(id, key)
    }
    return key
  }
}
