// The canonical encoding of a message, in parts around the payload: fields 1-3 (head), the payload's
// tag and length, the payload itself (never copied here), fields 6-13 (tail). The leaf hashes
// head || payloadHeader || payload || tail; a signed frame is those with the signature between
// payload and tail and the batch proof last, written into one buffer. The generated encoder writes
// head and tail, so they are byte for byte what CpcMessage.encode writes for the same fields (tested).
import { SIGNATURE_BYTES } from './constants.js'
import { InvalidArgumentError } from './errors.js'
import { CpcMessage, type BatchProof } from './gen/cpc/v1/wire.js'
import { varintLength, writeVarint } from './varint.js'

const EMPTY = new Uint8Array(0)
/** Field 4 (payload), wire type 2. */
const PAYLOAD_TAG = 0x22
/** Field 5 (signature), wire type 2, then the length 64. */
const SIGNATURE_FIELD = Uint8Array.of(0x2a, SIGNATURE_BYTES)
/** Field 14 (batch), wire type 2. */
const BATCH_TAG = 114

export interface CanonicalParts {
  /** Fields 1-3. */
  readonly head: Uint8Array
  /** The payload's tag and length (empty if the payload is empty). */
  readonly payloadHeader: Uint8Array
  readonly payload: Uint8Array
  /** Fields 6-13. */
  readonly tail: Uint8Array
}

function encode(msg: CpcMessage): Uint8Array {
  try {
    return CpcMessage.encode(msg).finish()
  } catch (err) {
    // ts-proto throws a bare Error for out-of-range uint64 values.
    throw new InvalidArgumentError(`Cannot encode message: ${(err as Error).message}`, { cause: err })
  }
}

/** Tags of fields 1-3 (nonce, priority, message_type), all varints. */
const HEAD_TAGS = new Set([0x08, 0x10, 0x18])

export function canonicalParts(msg: CpcMessage): CanonicalParts {
  // One encode without payload, signature and batch, split where fields 1-3 end: the encoder writes
  // fields in number order, so what follows them is fields 6-13.
  const rest = encode({ ...msg, payload: EMPTY, signature: EMPTY, batch: undefined })
  let split = 0
  while (split < rest.length && HEAD_TAGS.has(rest[split])) {
    split++
    while ((rest[split] & 0x80) !== 0) split++
    split++
  }
  let payloadHeader = EMPTY
  if (msg.payload.length > 0) {
    payloadHeader = new Uint8Array(1 + varintLength(msg.payload.length))
    payloadHeader[0] = PAYLOAD_TAG
    writeVarint(msg.payload.length, payloadHeader, 1)
  }
  return { head: rest.subarray(0, split), payloadHeader, payload: msg.payload, tail: rest.subarray(split) }
}

/** Length of the canonical encoding the parts make up. */
export function canonicalLength(parts: CanonicalParts): number {
  return parts.head.length + parts.payloadHeader.length + parts.payload.length + parts.tail.length
}

/**
 * The encoded field 14 for a proof (empty for none), written by hand: it is built for every batched
 * frame, and a BinaryWriter's buffers cost more than the ~150 bytes themselves. Same bytes as
 * BatchProof.encode (tested: signFrames against signBatch + encodeFrame).
 */
export function encodeBatchField(batch: BatchProof | undefined): Uint8Array {
  if (batch === undefined) return EMPTY
  let inner = 0
  if (batch.index !== 0) inner += 1 + varintLength(batch.index)
  if (batch.count !== 0) inner += 1 + varintLength(batch.count)
  for (const h of batch.path) inner += 1 + varintLength(h.length) + h.length
  const out = new Uint8Array(1 + varintLength(inner) + inner)
  out[0] = BATCH_TAG
  let at = writeVarint(inner, out, 1)
  if (batch.index !== 0) {
    out[at++] = 0x08
    at = writeVarint(batch.index, out, at)
  }
  if (batch.count !== 0) {
    out[at++] = 0x10
    at = writeVarint(batch.count, out, at)
  }
  for (const h of batch.path) {
    out[at++] = 0x1a
    at = writeVarint(h.length, out, at)
    out.set(h, at)
    at += h.length
  }
  return out
}

/** Length prefix and body of the signed message, the payload copied once. */
export function encodeSignedFrame(parts: CanonicalParts, signature: Uint8Array, batch?: BatchProof): Uint8Array {
  if (signature.length !== SIGNATURE_BYTES) throw new InvalidArgumentError(`Signature must be ${SIGNATURE_BYTES} bytes`)
  const batchField = encodeBatchField(batch)
  const body = canonicalLength(parts) + SIGNATURE_FIELD.length + SIGNATURE_BYTES + batchField.length
  const out = new Uint8Array(varintLength(body) + body)
  let at = writeVarint(body, out, 0)
  out.set(parts.head, at)
  at += parts.head.length
  out.set(parts.payloadHeader, at)
  at += parts.payloadHeader.length
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
