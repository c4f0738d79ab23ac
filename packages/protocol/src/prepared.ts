// PreparedMessage: the frames of one payload, built and signed one at a time as they are taken.
// buildMessages signs every chunk before returning; a 64 MiB payload then costs ~1 s of signing and
// copying before its first byte is on the wire. prepareMessage does the cheap, fallible part at once
// (size check, compression decision, nonces, frame 0, which checks maxFrameBytes) and the rest in
// frame(i): the sender's CPU, the wire and the receiver's verification overlap instead of running one
// after the other, and each frame is garbage as soon as it is written.
//
// A writer that takes several frames at once signs them together: unsigned(i) gives frame i's leaf,
// and signFrames() signs a batch of leaves with one Ed25519 signature (ADR batch-signatures.md).
// frame(i) signs frame i alone. Nothing is built up front: frame sizes are computed, not encoded.
//
// frame(i) is deterministic (Ed25519 signatures are, and nonces and timestamp are fixed here), so a
// frame built twice is byte for byte the same. A frame signed in a batch differs from frame(i) only
// in signature and proof; the receiver's dedup on (origin, nonce) recognises either.
import { varintLength } from './varint.js'
import { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_PAYLOAD_BYTES } from './constants.js'
import { compressPayload } from './compression.js'
import { FrameTooLargeError, InvalidArgumentError, PayloadTooLargeError } from './errors.js'
import type { CpcMessage } from './gen/cpc/v1/wire.js'
import type { BuildMessageInput, BuildMessageOptions } from './message.js'
import type { NonceGenerator } from './nonce.js'
import { signFrames, type MessageSigner, type UnsignedFrame } from './signing.js'

/** Field 5 (signature) of a signed body: tag, length, 64 bytes. */
const SIGNATURE_FIELD_BYTES = 66

/**
 * Room kept below maxFrameBytes for a batch proof (field 14): tag, length, index, count and up to
 * 6 hashes of 34 bytes (a 64-leaf batch, DEFAULT_MAX_VERIFY_BATCH) take at most 218 bytes.
 */
export const BATCH_PROOF_RESERVE_BYTES = 256

export interface PrepareMessageOptions extends BuildMessageOptions {
  /** Largest frame body produced (default DEFAULT_MAX_FRAME_BYTES). */
  maxFrameBytes?: number
}

export interface PreparedMessage {
  /** The first message's nonce: the message id of a chunked payload. */
  readonly nonce: bigint
  /** Every message's nonce, in frame order. */
  readonly nonces: readonly bigint[]
  /** Frames (one per chunk). */
  readonly count: number
  /**
   * Exact wire size of frame i signed alone (length prefix included), without building it. A frame
   * signed in a batch of k is larger by its proof: at most BATCH_PROOF_RESERVE_BYTES.
   */
  size(i: number): number
  /** Builds (signs alone and encodes) frame i: unsigned-varint length prefix, then the body. */
  frame(i: number): Uint8Array
  /** Frame i unsigned, to be signed in a batch with signFrames(). */
  unsigned(i: number): UnsignedFrame
}

function varint64Length(value: bigint): number {
  let n = 1
  while (value >= 0x80n) {
    value >>= 7n
    n++
  }
  return n
}

/**
 * Validates and plans the messages of one payload (see buildMessages for what they hold): the
 * PayloadTooLargeError, compression and nonces happen now, each signature in frame(i).
 */
export function prepareMessage(input: BuildMessageInput, signer: MessageSigner, nonces: NonceGenerator, options: PrepareMessageOptions = {}): PreparedMessage {
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  if (input.payload.length > maxPayloadBytes) throw new PayloadTooLargeError(`Payload of ${input.payload.length} bytes exceeds ${maxPayloadBytes}`)
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new InvalidArgumentError(`chunkBytes must be a positive integer, got ${chunkBytes}`)
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const { payload, compression } = compressPayload(input.payload, { thresholdBytes: options.compressionThresholdBytes })
  const base: CpcMessage = {
    priority: input.priority,
    messageType: input.type,
    signature: new Uint8Array(0),
    origin: signer.peerIdBytes,
    nonce: 0n,
    timestampMs: BigInt(Math.floor(options.now ?? Date.now())),
    ttl: input.ttl ?? 0,
    compression,
    group: input.group ?? '',
    expiresAtMs: BigInt(input.expiresAtMs ?? 0),
    recipient: input.recipient ?? new Uint8Array(0),
    payload,
    chunk: undefined,
    batch: undefined,
  }
  const chunked = payload.length > chunkBytes
  const count = chunked ? Math.ceil(payload.length / chunkBytes) : 1
  const ids: bigint[] = []
  for (let i = 0; i < count; i++) ids.push(nonces.next())
  const totalBytes = BigInt(payload.length)

  const message = (i: number): CpcMessage => {
    if (!chunked) return { ...base, nonce: ids[0] }
    const part = payload.subarray(i * chunkBytes, Math.min(payload.length, (i + 1) * chunkBytes))
    return { ...base, nonce: ids[i], payload: part, chunk: { messageId: ids[0], index: i, count, totalBytes } }
  }

  // Frame 0 unsigned now: its size checks maxFrameBytes (every later chunk is the same size or
  // smaller, and a batch proof fits in the reserve) and gives the exact sizes of the others. It is
  // kept (immutable: encode() may run more than once), so a one-frame message is hashed once.
  const first = signer.unsignedFrame(message(0))
  const unsigned = (i: number): UnsignedFrame => (i === 0 ? first : signer.unsignedFrame(message(i)))
  const firstBody = first.unsignedBodyBytes + SIGNATURE_FIELD_BYTES
  if (firstBody + BATCH_PROOF_RESERVE_BYTES > maxFrameBytes) {
    throw new FrameTooLargeError(`Frame body of ${firstBody} bytes (+${BATCH_PROOF_RESERVE_BYTES} for a batch proof) exceeds maxFrameBytes ${maxFrameBytes}`)
  }
  const bodyOf = (i: number): number => {
    if (i === 0) return firstBody
    const p0 = Math.min(payload.length, chunkBytes)
    const pi = Math.min(payload.length, (i + 1) * chunkBytes) - i * chunkBytes
    // Payload field length, the chunk's index field (absent for 0) and the nonce varint differ.
    const indexBytes = 1 + varintLength(i)
    return firstBody - varintLength(p0) - p0 + varintLength(pi) + pi + indexBytes - varint64Length(ids[0]) + varint64Length(ids[i])
  }
  return {
    nonce: ids[0],
    nonces: ids,
    count,
    size: (i) => {
      const body = bodyOf(i)
      return varintLength(body) + body
    },
    frame: (i) => signFrames([unsigned(i)], 1)[0],
    unsigned,
  }
}
