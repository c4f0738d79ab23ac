// PreparedMessage: the frames of one payload, built and signed one at a time as they are taken.
// buildMessages signs every chunk before returning; a 64 MiB payload then costs ~1 s of signing and
// copying before its first byte is on the wire. prepareMessage does the cheap, fallible part at once
// (size check, compression decision, nonces, frame 0, which checks maxFrameBytes) and the rest in
// frame(i): the sender's CPU, the wire and the receiver's verification overlap instead of running one
// after the other, and each frame is garbage as soon as it is written.
//
// frame(i) is deterministic (Ed25519 signatures are, and nonces and timestamp are fixed here), so a
// frame built twice (e.g. a message requeued after a failed write) is byte for byte the same, and the
// receiver's dedup on (origin, nonce) still recognises it.
import { BinaryWriter } from '@bufbuild/protobuf/wire'
import { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_PAYLOAD_BYTES } from './constants.js'
import { compressPayload } from './compression.js'
import { FrameTooLargeError, InvalidArgumentError, PayloadTooLargeError } from './errors.js'
import { CpcMessage } from './gen/cpc/v1/wire.js'
import type { BuildMessageInput, BuildMessageOptions } from './message.js'
import type { NonceGenerator } from './nonce.js'
import type { MessageSigner } from './signing.js'

/** Field 5 (signature) of a signed body: tag, length, 64 bytes. */
const SIGNATURE_FIELD_BYTES = 66

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
  /** Exact wire size of frame i (length prefix included), without building it. */
  size(i: number): number
  /** Builds (signs and encodes) frame i: unsigned-varint length prefix, then the body. */
  frame(i: number): Uint8Array
}

function varintLength(value: number): number {
  let n = 1
  while (value >= 0x80) {
    value = Math.floor(value / 128)
    n++
  }
  return n
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

  const build = (i: number): Uint8Array => {
    const { message: signed, unsignedBodyBytes } = signer.signWithBytes(message(i))
    const bodyBytes = unsignedBodyBytes + SIGNATURE_FIELD_BYTES
    if (bodyBytes > maxFrameBytes) throw new FrameTooLargeError(`Frame body of ${bodyBytes} bytes exceeds maxFrameBytes ${maxFrameBytes}`)
    // Length prefix and body through one writer: one copy of the chunk (finish).
    const writer = new BinaryWriter()
    writer.uint32(bodyBytes)
    const out = CpcMessage.encode(signed, writer).finish()
    if (out.length !== varintLength(bodyBytes) + bodyBytes) throw new InvalidArgumentError(`Frame ${i} encodes to ${out.length} bytes, expected ${bodyBytes}`)
    return out
  }

  // Frame 0 now: it checks maxFrameBytes (every later chunk is the same size or smaller) and gives
  // the exact sizes of the others.
  const first = build(0)
  let firstBody = first.length - 1
  while (varintLength(firstBody) + firstBody > first.length) firstBody--
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
    frame: (i) => (i === 0 ? first : build(i)),
  }
}
