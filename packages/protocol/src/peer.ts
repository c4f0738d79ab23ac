import { InvalidOriginError } from './errors.js'

/**
 * An Ed25519 peer id is an identity multihash of the protobuf-encoded public key:
 * 0x00 (identity) 0x24 (36 bytes) | 0x08 0x01 (KeyType = Ed25519) 0x12 0x20 (Data, 32 bytes) | key.
 */
const ED25519_PEER_ID_PREFIX = Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20])

/** Length of an Ed25519 peer id's multihash bytes. */
export const ED25519_PEER_ID_BYTES = ED25519_PEER_ID_PREFIX.length + 32

/** The multihash bytes of the peer id of an Ed25519 public key (raw, 32 bytes). */
export function peerIdBytesFromEd25519PublicKey(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new InvalidOriginError(`Ed25519 public key must be 32 bytes, got ${publicKey.length}`)
  const out = new Uint8Array(ED25519_PEER_ID_BYTES)
  out.set(ED25519_PEER_ID_PREFIX, 0)
  out.set(publicKey, ED25519_PEER_ID_PREFIX.length)
  return out
}

/** The raw Ed25519 public key embedded in a peer id's multihash bytes; InvalidOriginError otherwise. */
export function ed25519PublicKeyFromPeerIdBytes(peerId: Uint8Array): Uint8Array {
  if (peerId.length !== ED25519_PEER_ID_BYTES) {
    throw new InvalidOriginError(`Origin is not an Ed25519 peer id (${peerId.length} bytes)`)
  }
  for (let i = 0; i < ED25519_PEER_ID_PREFIX.length; i++) {
    if (peerId[i] !== ED25519_PEER_ID_PREFIX[i]) throw new InvalidOriginError('Origin is not an Ed25519 identity multihash')
  }
  return peerId.subarray(ED25519_PEER_ID_PREFIX.length)
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function toHex(bytes: Uint8Array): string {
  if (bytes.length > 16) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]]
  return s
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** The usual string form of a peer id (base58btc of the multihash bytes, e.g. "12D3KooW..."). */
export function peerIdToString(peerId: Uint8Array): string {
  // Receivers name the origin of every message, nearly always one of a few peers: the last answer
  // is kept (9% of a P2 receiver's profile went to base58 before).
  if (lastPeerIdString !== undefined && bytesEqual(peerId, lastPeerIdBytes)) return lastPeerIdString
  const s = base58(peerId)
  lastPeerIdBytes = peerId.slice()
  lastPeerIdString = s
  return s
}

let lastPeerIdBytes = new Uint8Array(0)
let lastPeerIdString: string | undefined

function base58(bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  // Base-58 digits, least significant first: multiply by 256 and add each byte.
  const digits: number[] = []
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] * 256
      digits[j] = carry % 58
      carry = Math.floor(carry / 58)
    }
    while (carry > 0) {
      digits.push(carry % 58)
      carry = Math.floor(carry / 58)
    }
  }
  let s = '1'.repeat(zeros)
  for (let i = digits.length - 1; i >= 0; i--) s += B58[digits[i]]
  return s
}

/** Multihash bytes from a base58btc peer id string; InvalidOriginError on a bad character. */
export function peerIdFromString(text: string): Uint8Array {
  let zeros = 0
  while (zeros < text.length && text[zeros] === '1') zeros++
  let n = 0n
  for (const c of text) {
    const v = B58.indexOf(c)
    if (v < 0) throw new InvalidOriginError(`Invalid base58btc character in peer id: ${JSON.stringify(c)}`)
    n = n * 58n + BigInt(v)
  }
  const bytes: number[] = []
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn))
    n >>= 8n
  }
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...bytes])
}
