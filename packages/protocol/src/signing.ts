import { createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto'
import { BinaryWriter } from '@bufbuild/protobuf/wire'
import type { PrivateKey } from '@libp2p/interface'
import { DEFAULT_VERIFIER_CACHE_SIZE, SIGNATURE_BYTES, SIGNING_DOMAIN } from './constants.js'
import { InvalidArgumentError, InvalidOriginError, InvalidSignatureError, MissingSignatureError } from './errors.js'
import { CpcMessage } from './gen/cpc/v1/wire.js'
import { bytesEqual, ed25519PublicKeyFromPeerIdBytes, peerIdBytesFromEd25519PublicKey, toHex } from './peer.js'

const DOMAIN_BYTES = new TextEncoder().encode(SIGNING_DOMAIN)
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
 * The bytes an origin signs: the UTF-8 domain prefix "cpc/1.0.0/sig" followed by the canonical
 * protobuf encoding of the message with `signature` empty (fields in field-number order, fields with
 * default values omitted, minimal varints; see README "Signing bytes").
 */
export function signingBytes(msg: CpcMessage): Uint8Array {
  // The domain goes into the protobuf writer first: one copy of the payload (finish), not two.
  const writer = new BinaryWriter()
  writer.raw(DOMAIN_BYTES)
  try {
    return CpcMessage.encode({ ...msg, signature: EMPTY }, writer).finish()
  } catch (err) {
    // ts-proto throws a bare Error for out-of-range uint64 values.
    throw new InvalidArgumentError(`Cannot encode message: ${(err as Error).message}`, { cause: err })
  }
}

/** Length of the signing domain prefix in signingBytes(). */
export const SIGNING_DOMAIN_BYTES = DOMAIN_BYTES.length

/** A node:crypto public KeyObject from a raw 32-byte Ed25519 public key. */
export function ed25519PublicKeyObject(raw: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(concat(SPKI_ED25519_PREFIX, raw)), format: 'der', type: 'spki' })
  } catch (err) {
    throw new InvalidOriginError('Origin does not hold a valid Ed25519 public key', { cause: err })
  }
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

  /** Returns a copy of msg with origin set (if empty) to this signer and signature filled in. */
  sign(msg: CpcMessage): CpcMessage {
    return this.signWithBytes(msg).message
  }

  /**
   * sign(), also returning the length of the signed message's unsigned canonical encoding (what the
   * signature covers, without the domain): the signed body is that plus 66 bytes (field 5: tag,
   * length, 64-byte signature), which lets a frame be written with its length prefix in one pass.
   */
  signWithBytes(msg: CpcMessage): { message: CpcMessage; unsignedBodyBytes: number } {
    const unsigned: CpcMessage = { ...msg, origin: msg.origin.length === 0 ? this.peerIdBytes : msg.origin, signature: EMPTY }
    const bytes = signingBytes(unsigned)
    const signature = edSign(null, bytes, this.key)
    return {
      message: { ...unsigned, signature: new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength) },
      unsignedBodyBytes: bytes.length - DOMAIN_BYTES.length,
    }
  }
}

export interface MessageVerifierInit {
  /** Public keys kept ready (LRU), default DEFAULT_VERIFIER_CACHE_SIZE. */
  cacheSize?: number
}

/**
 * Verifies message signatures. The public key comes from the origin peer id itself (an Ed25519
 * peer id embeds its key), so no key lookup is needed; KeyObjects are cached in a bounded LRU.
 */
export class MessageVerifier {
  private readonly cacheSize: number
  private readonly cache = new Map<string, KeyObject>()

  constructor(init: MessageVerifierInit = {}) {
    this.cacheSize = Math.max(0, init.cacheSize ?? DEFAULT_VERIFIER_CACHE_SIZE)
  }

  /**
   * Throws unless msg carries a valid signature by its origin. If `expectedOrigin` is given (e.g.
   * the remote peer of a direct message), the origin must equal it; a message without origin is
   * then checked against expectedOrigin's key.
   */
  verify(msg: CpcMessage, expectedOrigin?: Uint8Array): void {
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
    const key = this.publicKeyFor(origin)
    let ok: boolean
    try {
      ok = edVerify(null, signingBytes(msg), key, msg.signature)
    } catch (err) {
      throw new InvalidSignatureError('Signature verification failed', { cause: err })
    }
    if (!ok) throw new InvalidSignatureError()
  }

  /** Number of cached public keys. */
  get cachedKeys(): number {
    return this.cache.size
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
