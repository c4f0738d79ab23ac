// The canonical encoding of a message, in three parts around the payload: fields 1-3 with the
// payload's tag and length (head), the payload itself (never copied here), fields 6-13 (tail). The
// leaf hashes head || payload || tail; a signed frame is head || payload || signature || tail ||
// batch, written into one buffer. The generated encoder writes both small parts, so they are
// byte for byte what CpcMessage.encode writes for the same fields (tested).
import { BinaryWriter } from '@bufbuild/protobuf/wire'
import { SIGNATURE_BYTES } from './constants.js'
import { InvalidArgumentError } from './errors.js'
import { BatchProof, CpcMessage } from './gen/cpc/v1/wire.js'

const EMPTY = new Uint8Array(0)
/** Field 4 (payload), wire type 2. */
const PAYLOAD_TAG = 0x22
/** Field 5 (signature), wire type 2, then the length 64. */
const SIGNATURE_FIELD = Uint8Array.of(0x2a, SIGNATURE_BYTES)
/** Field 14 (batch), wire type 2. */
const BATCH_TAG = 114

const BLANK: CpcMessage = CpcMessage.fromPartial({})

export interface CanonicalParts {
  /** Fields 1-3, then the payload's tag and length (if the payload is not empty). */
  readonly head: Uint8Array
  readonly payload: Uint8Array
  /** Fields 6-13. */
  readonly tail: Uint8Array
}

export function varintLength(value: number): number {
  let n = 1
  while (value >= 0x80) {
    value = Math.floor(value / 128)
    n++
  }
  return n
}

function writeVarint(value: number, buf: Uint8Array, offset: number): number {
  while (value >= 0x80) {
    buf[offset++] = (value & 0x7f) | 0x80
    value = Math.floor(value / 128)
  }
  buf[offset++] = value
  return offset
}

function encode(msg: CpcMessage, writer = new BinaryWriter()): Uint8Array {
  try {
    return CpcMessage.encode(msg, writer).finish()
  } catch (err) {
    // ts-proto throws a bare Error for out-of-range uint64 values.
    throw new InvalidArgumentError(`Cannot encode message: ${(err as Error).message}`, { cause: err })
  }
}

export function canonicalParts(msg: CpcMessage): CanonicalParts {
  const first = encode({ ...BLANK, nonce: msg.nonce, priority: msg.priority, messageType: msg.messageType })
  let head = first
  if (msg.payload.length > 0) {
    head = new Uint8Array(first.length + 1 + varintLength(msg.payload.length))
    head.set(first, 0)
    head[first.length] = PAYLOAD_TAG
    writeVarint(msg.payload.length, head, first.length + 1)
  }
  const tail = encode({ ...msg, nonce: 0n, priority: 0, messageType: 0, payload: EMPTY, signature: EMPTY, batch: undefined })
  return { head, payload: msg.payload, tail }
}

/** The encoded field 14 for a proof (empty for none). */
export function encodeBatchField(batch: BatchProof | undefined): Uint8Array {
  if (batch === undefined) return EMPTY
  return BatchProof.encode(batch, new BinaryWriter().uint32(BATCH_TAG).fork()).join().finish()
}

/** Length prefix and body of the signed message, the payload copied once. */
export function encodeSignedFrame(parts: CanonicalParts, signature: Uint8Array, batch?: BatchProof): Uint8Array {
  if (signature.length !== SIGNATURE_BYTES) throw new InvalidArgumentError(`Signature must be ${SIGNATURE_BYTES} bytes`)
  const batchField = encodeBatchField(batch)
  const body = parts.head.length + parts.payload.length + SIGNATURE_FIELD.length + SIGNATURE_BYTES + parts.tail.length + batchField.length
  const out = new Uint8Array(varintLength(body) + body)
  let at = writeVarint(body, out, 0)
  out.set(parts.head, at)
  at += parts.head.length
  out.set(parts.payload, at)
  at += parts.payload.length
  out.set(SIGNATURE_FIELD, at)
  at += SIGNATURE_FIELD.length
  out.set(signature, at)
  at += SIGNATURE_BYTES
  out.set(parts.tail, at)
  at += parts.tail.length
  out.set(batchField, at)
  return out
}
