// The outbox's storage format: keys that sort per peer by priority then FIFO, and a small versioned
// binary value holding the message's encoded frames. Kept apart from the store so it can be tested
// and changed on its own (the version byte lets a later format coexist with this one).
import { Priority, type MessageType } from '@cpc/protocol'
import { InvalidPeerError, OutboxCorruptError } from '../errors.js'
import type { KnownPriority } from '../priority.js'

export const FORMAT_VERSION = 1

/** 'e' entries: e <peer utf8> 0x00 <rank: 0 HIGH, 1 MEDIUM, 2 LOW> <seq u64 BE> → value. */
export const ENTRY_PREFIX = 0x65
/** 'x' expiry index: x <expiresAtMs u64 BE> <seq u64 BE> → entry key. */
export const EXPIRY_PREFIX = 0x78

export const MAX_PEER_KEY_BYTES = 256

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export interface StoredValue {
  frames: Uint8Array[]
  priority: KnownPriority
  type: MessageType
  expiresAtMs: number
  nonce: bigint
  createdAtMs: number
}

export function peerBytes(peer: string): Uint8Array {
  const bytes = encoder.encode(peer)
  if (bytes.length === 0 || bytes.length > MAX_PEER_KEY_BYTES || bytes.includes(0)) throw new InvalidPeerError(peer)
  return bytes
}

export function entryKey(peer: Uint8Array, priority: KnownPriority, seq: number): Uint8Array {
  const key = new Uint8Array(1 + peer.length + 1 + 1 + 8)
  key[0] = ENTRY_PREFIX
  key.set(peer, 1)
  key[peer.length + 1] = 0
  key[peer.length + 2] = Priority.HIGH - priority
  new DataView(key.buffer).setBigUint64(peer.length + 3, BigInt(seq))
  return key
}

/** [gte, lt) covering every entry of one peer. */
export function peerRange(peer: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  const gte = new Uint8Array(peer.length + 2)
  gte[0] = ENTRY_PREFIX
  gte.set(peer, 1)
  const lt = gte.slice()
  lt[peer.length + 1] = 1
  return { gte, lt }
}

export function decodeEntryKey(key: Uint8Array): { peer: string; priority: KnownPriority; seq: number } {
  const sep = key.indexOf(0, 1)
  if (key[0] !== ENTRY_PREFIX || sep < 2 || key.length !== sep + 10) throw new OutboxCorruptError('bad entry key')
  const rank = key[sep + 1]
  if (rank > 2) throw new OutboxCorruptError('bad priority rank in key')
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength)
  return {
    peer: decoder.decode(key.subarray(1, sep)),
    priority: (Priority.HIGH - rank) as KnownPriority,
    seq: Number(view.getBigUint64(sep + 2)),
  }
}

export function expiryKey(expiresAtMs: number, seq: number): Uint8Array {
  const key = new Uint8Array(17)
  key[0] = EXPIRY_PREFIX
  const view = new DataView(key.buffer)
  view.setBigUint64(1, BigInt(expiresAtMs))
  view.setBigUint64(9, BigInt(seq))
  return key
}

/** [gte, lt) of expiry keys with expiresAtMs <= nowMs. */
export function expiredRange(nowMs: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: Uint8Array.of(EXPIRY_PREFIX), lt: expiryKey(Math.floor(nowMs) + 1, 0) }
}

const HEADER = 1 + 1 + 1 + 8 + 8 + 8 + 4

export function encodeValue(v: StoredValue): Uint8Array {
  let size = HEADER
  for (const f of v.frames) size += 4 + f.byteLength
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  out[0] = FORMAT_VERSION
  out[1] = v.priority
  out[2] = v.type
  view.setBigUint64(3, BigInt(v.expiresAtMs))
  view.setBigUint64(11, BigInt.asUintN(64, v.nonce))
  view.setBigUint64(19, BigInt(v.createdAtMs))
  view.setUint32(27, v.frames.length)
  let offset = HEADER
  for (const f of v.frames) {
    view.setUint32(offset, f.byteLength)
    out.set(f, offset + 4)
    offset += 4 + f.byteLength
  }
  return out
}

export function decodeValue(bytes: Uint8Array): StoredValue {
  if (bytes.length < HEADER) throw new OutboxCorruptError('value too short')
  if (bytes[0] !== FORMAT_VERSION) throw new OutboxCorruptError(`unknown format version ${bytes[0]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const priority = bytes[1]
  if (priority > Priority.HIGH) throw new OutboxCorruptError('bad priority')
  const count = view.getUint32(27)
  const frames: Uint8Array[] = []
  let offset = HEADER
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.length) throw new OutboxCorruptError('truncated frame length')
    const len = view.getUint32(offset)
    if (offset + 4 + len > bytes.length) throw new OutboxCorruptError('truncated frame')
    // Copy: the store may reuse its buffers.
    frames.push(bytes.slice(offset + 4, offset + 4 + len))
    offset += 4 + len
  }
  if (offset !== bytes.length) throw new OutboxCorruptError('trailing bytes')
  return {
    frames,
    priority: priority as KnownPriority,
    type: bytes[2] as MessageType,
    expiresAtMs: Number(view.getBigUint64(3)),
    nonce: view.getBigUint64(11),
    createdAtMs: Number(view.getBigUint64(19)),
  }
}
