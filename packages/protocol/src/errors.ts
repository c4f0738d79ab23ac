/**
 * Every rejection in @cpc/protocol is a ProtocolError with a stable `code`; match on `code` (or
 * `instanceof`), never on the message text.
 */
export class ProtocolError extends Error {
  static readonly code: string = 'ERR_PROTOCOL'
  readonly code: string

  constructor(message: string, code: string = ProtocolError.code, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ProtocolError'
    this.code = code
  }
}

/** A frame declares (or an encoder would produce) a body longer than maxFrameBytes. */
export class FrameTooLargeError extends ProtocolError {
  static override readonly code = 'ERR_FRAME_TOO_LARGE'
  constructor(message = 'Frame too large', options?: ErrorOptions) {
    super(message, FrameTooLargeError.code, options)
    this.name = 'FrameTooLargeError'
  }
}

/** Bytes that are not a valid frame or CpcMessage (bad varint, truncated body, bad protobuf). */
export class MalformedFrameError extends ProtocolError {
  static override readonly code = 'ERR_MALFORMED_FRAME'
  constructor(message = 'Malformed frame', options?: ErrorOptions) {
    super(message, MalformedFrameError.code, options)
    this.name = 'MalformedFrameError'
  }
}

/** The stream ended in the middle of a frame. */
export class TruncatedFrameError extends ProtocolError {
  static override readonly code = 'ERR_TRUNCATED_FRAME'
  constructor(message = 'Stream ended inside a frame', options?: ErrorOptions) {
    super(message, TruncatedFrameError.code, options)
    this.name = 'TruncatedFrameError'
  }
}

/** The message carries no signature. */
export class MissingSignatureError extends ProtocolError {
  static override readonly code = 'ERR_MISSING_SIGNATURE'
  constructor(message = 'Message is not signed', options?: ErrorOptions) {
    super(message, MissingSignatureError.code, options)
    this.name = 'MissingSignatureError'
  }
}

/** The signature does not verify against the origin's key over the signing bytes. */
export class InvalidSignatureError extends ProtocolError {
  static override readonly code = 'ERR_INVALID_SIGNATURE'
  constructor(message = 'Invalid signature', options?: ErrorOptions) {
    super(message, InvalidSignatureError.code, options)
    this.name = 'InvalidSignatureError'
  }
}

/**
 * A batch proof that cannot be folded: count outside 2..maxBatch, index >= count, a path of the
 * wrong length or with elements that are not 32 bytes. Receivers treat it as an invalid signature
 * (same drop and penalty); the distinct code says which check failed.
 */
export class InvalidBatchProofError extends ProtocolError {
  static override readonly code = 'ERR_INVALID_BATCH_PROOF'
  constructor(message = 'Invalid batch proof', options?: ErrorOptions) {
    super(message, InvalidBatchProofError.code, options)
    this.name = 'InvalidBatchProofError'
  }
}

/** The origin is missing, is not an Ed25519 peer id, or is not the expected peer. */
export class InvalidOriginError extends ProtocolError {
  static override readonly code = 'ERR_INVALID_ORIGIN'
  constructor(message = 'Invalid origin', options?: ErrorOptions) {
    super(message, InvalidOriginError.code, options)
    this.name = 'InvalidOriginError'
  }
}

/** A compressed payload is corrupt, or its compression is unknown. */
export class DecompressionError extends ProtocolError {
  static override readonly code = 'ERR_DECOMPRESSION'
  constructor(message = 'Cannot decompress payload', options?: ErrorOptions) {
    super(message, DecompressionError.code, options)
    this.name = 'DecompressionError'
  }
}

/** A compressed payload declares a decompressed size above the cap; nothing was allocated. */
export class DecompressedTooLargeError extends ProtocolError {
  static override readonly code = 'ERR_DECOMPRESSED_TOO_LARGE'
  constructor(message = 'Decompressed payload too large', options?: ErrorOptions) {
    super(message, DecompressedTooLargeError.code, options)
    this.name = 'DecompressedTooLargeError'
  }
}

/** A chunk is inconsistent (index out of range, count/total mismatch, conflicting duplicate). */
export class InvalidChunkError extends ProtocolError {
  static override readonly code = 'ERR_INVALID_CHUNK'
  constructor(message = 'Invalid chunk', options?: ErrorOptions) {
    super(message, InvalidChunkError.code, options)
    this.name = 'InvalidChunkError'
  }
}

/** A chunked message did not complete within the reassembly timeout; it was dropped whole. */
export class ReassemblyTimeoutError extends ProtocolError {
  static override readonly code = 'ERR_REASSEMBLY_TIMEOUT'
  readonly origin: Uint8Array
  readonly messageId: bigint
  readonly receivedChunks: number
  readonly count: number

  constructor(info: { origin: Uint8Array; messageId: bigint; receivedChunks: number; count: number }, options?: ErrorOptions) {
    super(`Chunked message ${info.messageId} timed out with ${info.receivedChunks}/${info.count} chunks`, ReassemblyTimeoutError.code, options)
    this.name = 'ReassemblyTimeoutError'
    this.origin = info.origin
    this.messageId = info.messageId
    this.receivedChunks = info.receivedChunks
    this.count = info.count
  }
}

/** Accepting a chunk would exceed the reassembly buffer's bounds (bytes or messages). */
export class ReassemblyLimitError extends ProtocolError {
  static override readonly code = 'ERR_REASSEMBLY_LIMIT'
  constructor(message = 'Reassembly buffer full', options?: ErrorOptions) {
    super(message, ReassemblyLimitError.code, options)
    this.name = 'ReassemblyLimitError'
  }
}

/** A payload is larger than the configured maximum (sending, or a chunked message's total_bytes). */
export class PayloadTooLargeError extends ProtocolError {
  static override readonly code = 'ERR_PAYLOAD_TOO_LARGE'
  constructor(message = 'Payload too large', options?: ErrorOptions) {
    super(message, PayloadTooLargeError.code, options)
    this.name = 'PayloadTooLargeError'
  }
}

/** The message's expires_at_ms is in the past. */
export class MessageExpiredError extends ProtocolError {
  static override readonly code = 'ERR_MESSAGE_EXPIRED'
  constructor(message = 'Message expired', options?: ErrorOptions) {
    super(message, MessageExpiredError.code, options)
    this.name = 'MessageExpiredError'
  }
}

/** The message names a recipient other than the local peer. */
export class WrongRecipientError extends ProtocolError {
  static override readonly code = 'ERR_WRONG_RECIPIENT'
  constructor(message = 'Message is addressed to another peer', options?: ErrorOptions) {
    super(message, WrongRecipientError.code, options)
    this.name = 'WrongRecipientError'
  }
}

/** A caller-supplied argument is out of range (e.g. chunkBytes < 1). */
export class InvalidArgumentError extends ProtocolError {
  static override readonly code = 'ERR_INVALID_ARGUMENT'
  constructor(message = 'Invalid argument', options?: ErrorOptions) {
    super(message, InvalidArgumentError.code, options)
    this.name = 'InvalidArgumentError'
  }
}

/** The operation was aborted through its AbortSignal. */
export class AbortError extends ProtocolError {
  static override readonly code = 'ABORT_ERR'
  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, AbortError.code, options)
    this.name = 'AbortError'
  }
}
