// The channel's inbound frame splitter: the same wire format and errors as @cpc/protocol's
// FrameDecoder (unsigned-varint body length, then a CpcMessage), without its per-frame costs on the
// hot path. FrameDecoder appends every chunk to a Uint8ArrayList, reads the prefix a byte at a time
// through list lookups and slices each body out of the list; here a frame that lies whole inside
// one chunk is decoded from a view of that chunk (no copy), the length prefix is parsed as a running
// varint that may span chunks, and only a frame split across chunks is copied, once, into a buffer of
// its exact size (so a 1 MiB frame arriving in 64 KiB pieces costs one copy, not a growing concat).
// Bodies go through fastDecode first (fast-decode.ts), the generated decoder when it declines.
import {
  FrameTooLargeError,
  MAX_LENGTH_PREFIX_BYTES,
  MalformedFrameError,
  ProtocolError,
  TruncatedFrameError,
  decodeMessage,
  type CpcMessage,
} from '@cpc/protocol'
import { fastDecode } from './fast-decode.js'

/** Called once per decoded frame, in order; `bytes` is the frame's wire size (prefix included). */
export type FrameSink = (message: CpcMessage, bytes: number) => void

export class FrameReader {
  readonly #maxFrameBytes: number
  // Running state of a length prefix (possibly begun in an earlier chunk).
  #prefixValue = 0
  #prefixMul = 1
  #prefixBytes = 0
  // A body split across chunks: filled as chunks arrive.
  #body: Uint8Array | undefined
  #filled = 0
  #failure: ProtocolError | undefined

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes
  }

  /** True while part of a frame is held (a prefix or a body begun and not finished). */
  get partial(): boolean {
    return this.#prefixBytes > 0 || this.#body !== undefined
  }

  /**
   * Decodes every frame `chunk` completes and hands each to `sink` before reading the next, so the
   * frames before a bad one are delivered. Throws the ProtocolError of the first bad frame; the
   * reader is then poisoned (the stream must be dropped). An error thrown by `sink` propagates as it
   * is. Returns the number of frames decoded.
   */
  push(chunk: Uint8Array, sink: FrameSink): number {
    if (this.#failure !== undefined) throw this.#failure
    // A Buffer's subarray goes through Buffer's own (slower) species path; payload views of a plain
    // Uint8Array are cheap and behave the same to every consumer.
    const buf =
      Object.getPrototypeOf(chunk) === Uint8Array.prototype ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const end = buf.byteLength
    let pos = 0
    let frames = 0
    while (pos < end) {
      if (this.#body !== undefined) {
        const body = this.#body
        const n = Math.min(body.byteLength - this.#filled, end - pos)
        body.set(buf.subarray(pos, pos + n), this.#filled)
        this.#filled += n
        pos += n
        if (this.#filled < body.byteLength) return frames
        const bytes = this.#prefixBytes + body.byteLength
        this.#body = undefined
        this.#resetPrefix()
        frames++
        sink(fastDecode(body, 0, body.byteLength) ?? this.#decode(body), bytes)
        continue
      }
      // Length prefix, a byte at a time; it may have begun in the previous chunk.
      const byte = buf[pos++]
      this.#prefixValue += (byte & 0x7f) * this.#prefixMul
      this.#prefixMul *= 128
      this.#prefixBytes++
      // Reject as early as the bits read so far prove the length too large.
      if (this.#prefixValue > this.#maxFrameBytes) {
        throw this.#fail(
          new FrameTooLargeError(`Frame declares at least ${this.#prefixValue} bytes, maxFrameBytes is ${this.#maxFrameBytes}`),
        )
      }
      if ((byte & 0x80) !== 0) {
        if (this.#prefixBytes >= MAX_LENGTH_PREFIX_BYTES)
          throw this.#fail(new MalformedFrameError(`Length prefix longer than ${MAX_LENGTH_PREFIX_BYTES} bytes`))
        continue
      }
      const length = this.#prefixValue
      if (end - pos >= length) {
        // The whole body is in this chunk: decode it in place.
        const bytes = this.#prefixBytes + length
        this.#resetPrefix()
        const at = pos
        pos += length
        frames++
        sink(fastDecode(buf, at, pos) ?? this.#decode(buf.subarray(at, pos)), bytes)
      } else {
        this.#body = new Uint8Array(length)
        this.#filled = 0
      }
    }
    return frames
  }

  /** Call at the end of the stream: throws TruncatedFrameError if a partial frame is held. */
  end(): void {
    if (this.#failure !== undefined) throw this.#failure
    if (this.partial) {
      const held = this.#body === undefined ? this.#prefixBytes : this.#prefixBytes + this.#filled
      throw new TruncatedFrameError(`Stream ended with ${held} bytes of an incomplete frame`)
    }
  }

  #decode(body: Uint8Array): CpcMessage {
    try {
      return decodeMessage(body)
    } catch (err) {
      throw this.#fail(err instanceof ProtocolError ? err : new MalformedFrameError(String(err), { cause: err }))
    }
  }

  /** Poisons the reader: every later push or end throws the same error. */
  #fail(err: ProtocolError): ProtocolError {
    this.#failure = err
    this.#body = undefined
    return err
  }

  #resetPrefix(): void {
    this.#prefixValue = 0
    this.#prefixMul = 1
    this.#prefixBytes = 0
  }
}
