import { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_PAYLOAD_BYTES } from './constants.js'
import { compressPayload, decompressPayload } from './compression.js'
import { splitPayload, type Reassembler } from './chunking.js'
import { MessageExpiredError, PayloadTooLargeError, WrongRecipientError } from './errors.js'
import type { CpcMessage, CpcMessage_Priority as Priority, CpcMessage_Type as MessageType } from './gen/cpc/v1/wire.js'
import type { NonceGenerator } from './nonce.js'
import { bytesEqual } from './peer.js'
import type { MessageSigner, MessageVerifier } from './signing.js'

export interface BuildMessageInput {
  type: MessageType
  priority: Priority
  /** The whole, uncompressed payload (an encoded Event, Discovery or Control). */
  payload: Uint8Array
  /** Hops left for broadcast forwarding (default 0). */
  ttl?: number
  /** BroadcastScope.Group target. */
  group?: string
  /** Drop after this time (ms since the epoch); 0 or absent means never. */
  expiresAtMs?: number | bigint
  /** Recipient peer id (multihash bytes) of a direct message. */
  recipient?: Uint8Array
}

export interface BuildMessageOptions {
  /** Default DEFAULT_CHUNK_BYTES. */
  chunkBytes?: number
  /** Default DEFAULT_COMPRESSION_THRESHOLD_BYTES. */
  compressionThresholdBytes?: number
  /** Largest payload accepted, before compression (default DEFAULT_MAX_PAYLOAD_BYTES). */
  maxPayloadBytes?: number
  /** The timestamp to stamp, ms since the epoch (default Date.now()). */
  now?: number
  /**
   * Chunks signed together under one Merkle root, at most (default 1: each message signed alone,
   * without a batch field). A chunked broadcast passes its maxSignBatch here.
   */
  maxBatch?: number
}

/**
 * Builds the signed messages that carry one payload: compress (if it pays) → split into chunks
 * (if above chunkBytes) → stamp timestamp and a fresh nonce per message → sign (each alone, or in
 * batches of up to maxBatch chunks). A chunked message's chunk.message_id is the nonce of its first
 * chunk.
 */
export function buildMessages(input: BuildMessageInput, signer: MessageSigner, nonces: NonceGenerator, options: BuildMessageOptions = {}): CpcMessage[] {
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  if (input.payload.length > maxPayloadBytes) throw new PayloadTooLargeError(`Payload of ${input.payload.length} bytes exceeds ${maxPayloadBytes}`)
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const { payload, compression } = compressPayload(input.payload, { thresholdBytes: options.compressionThresholdBytes })
  const timestampMs = BigInt(Math.floor(options.now ?? Date.now()))
  const base = {
    priority: input.priority,
    messageType: input.type,
    signature: new Uint8Array(0),
    origin: signer.peerIdBytes,
    timestampMs,
    ttl: input.ttl ?? 0,
    compression,
    group: input.group ?? '',
    expiresAtMs: BigInt(input.expiresAtMs ?? 0),
    recipient: input.recipient ?? new Uint8Array(0),
  }
  if (payload.length <= chunkBytes) {
    return [signer.sign({ ...base, nonce: nonces.next(), payload, chunk: undefined, batch: undefined })]
  }
  const first = nonces.next()
  const unsigned = splitPayload(payload, { chunkBytes, messageId: first }).map(
    (part, i): CpcMessage => ({ ...base, nonce: i === 0 ? first : nonces.next(), payload: part.payload, chunk: part.chunk, batch: undefined }),
  )
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 1))
  const batches = Math.ceil(unsigned.length / maxBatch)
  const out: CpcMessage[] = []
  // Near-equal batches (17 chunks at 16: 9 + 8), so no proof is longer than it needs to be.
  for (let b = 0; b < batches; b++) {
    out.push(...signer.signBatch(unsigned.slice(Math.floor((b * unsigned.length) / batches), Math.floor(((b + 1) * unsigned.length) / batches))))
  }
  return out
}

export interface OpenMessageComponents {
  verifier: MessageVerifier
  reassembler: Reassembler
}

export interface OpenMessageOptions {
  /** The peer the message must come from (e.g. the remote peer of a direct, unrelayed message). */
  expectedOrigin?: Uint8Array
  /** The local peer id: a message naming another recipient is rejected. */
  localPeer?: Uint8Array
  /** Current time (ms since the epoch) for expires_at_ms; omit to skip the expiry check. */
  now?: number
  /** Cap on the decompressed payload (default DEFAULT_MAX_DECOMPRESSED_BYTES). */
  maxDecompressedBytes?: number
}

export interface OpenedMessage {
  /** The origin peer id (multihash bytes). */
  origin: Uint8Array
  /** The message that completed the payload (the last chunk to arrive, for a chunked payload). */
  message: CpcMessage
  /** The whole, decompressed payload. */
  payload: Uint8Array
}

/**
 * The receiving side of buildMessages: verify → check expiry and recipient → reassemble →
 * decompress. Returns undefined while chunks are missing. Deduplicate on (origin, nonce) before
 * calling it, since it does not remember messages it has opened.
 */
export function openMessage(msg: CpcMessage, components: OpenMessageComponents, options: OpenMessageOptions = {}): OpenedMessage | undefined {
  components.verifier.verify(msg, options.expectedOrigin)
  const origin = msg.origin.length > 0 ? msg.origin : (options.expectedOrigin as Uint8Array)
  if (options.now !== undefined && msg.expiresAtMs !== 0n && BigInt(Math.floor(options.now)) > msg.expiresAtMs) {
    throw new MessageExpiredError(`Message expired at ${msg.expiresAtMs}`)
  }
  if (options.localPeer !== undefined && msg.recipient.length > 0 && !bytesEqual(msg.recipient, options.localPeer)) {
    throw new WrongRecipientError()
  }
  const whole = components.reassembler.add(origin, msg)
  if (whole === undefined) return undefined
  return { origin, message: msg, payload: decompressPayload(whole, msg.compression, { maxBytes: options.maxDecompressedBytes }) }
}
