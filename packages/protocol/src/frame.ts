import { BinaryReader } from '@bufbuild/protobuf/wire'
import { Uint8ArrayList } from 'uint8arraylist'
import { DEFAULT_MAX_FRAME_BYTES, MAX_LENGTH_PREFIX_BYTES } from './constants.js'
import { AbortError, FrameTooLargeError, InvalidArgumentError, MalformedFrameError, ProtocolError, TruncatedFrameError } from './errors.js'
import { CpcMessage } from './gen/cpc/v1/wire.js'
import { varintLength, writeVarint } from './varint.js'

export interface FrameOptions {
  /** Largest frame body accepted or produced (default DEFAULT_MAX_FRAME_BYTES). */
  maxFrameBytes?: number
}

export interface ReadFramesOptions extends FrameOptions {
  signal?: AbortSignal
}

/** The protobuf encoding of a message (no length prefix). */
export function encodeMessage(msg: CpcMessage): Uint8Array {
  try {
    return CpcMessage.encode(msg).finish()
  } catch (err) {
    // ts-proto throws a bare Error for out-of-range uint64 values.
    throw new InvalidArgumentError(`Cannot encode message: ${(err as Error).message}`, { cause: err })
  }
}

function checkBodySize(length: number, maxFrameBytes: number | undefined): void {
  if (maxFrameBytes !== undefined && length > maxFrameBytes) {
    throw new FrameTooLargeError(`Frame body of ${length} bytes exceeds maxFrameBytes ${maxFrameBytes}`)
  }
}

/** One frame: unsigned-varint body length, then the protobuf body. */
export function encodeFrame(msg: CpcMessage, options: FrameOptions = {}): Uint8Array {
  const body = encodeMessage(msg)
  checkBodySize(body.length, options.maxFrameBytes)
  const out = new Uint8Array(varintLength(body.length) + body.length)
  out.set(body, writeVarint(body.length, out, 0))
  return out
}

/** Several frames concatenated into one buffer, so a batch costs one stream write. */
export function encodeFrames(msgs: CpcMessage[], options: FrameOptions = {}): Uint8Array {
  const bodies = msgs.map((m) => encodeMessage(m))
  let total = 0
  for (const body of bodies) {
    checkBodySize(body.length, options.maxFrameBytes)
    total += varintLength(body.length) + body.length
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const body of bodies) {
    offset = writeVarint(body.length, out, offset)
    out.set(body, offset)
    offset += body.length
  }
  return out
}

/**
 * Decodes one frame body (no length prefix). Every failure is a MalformedFrameError; trailing bytes
 * after a zero tag (which the protobuf decoder would silently ignore) are rejected too.
 */
export function decodeMessage(bytes: Uint8Array): CpcMessage {
  let reader: BinaryReader
  let msg: CpcMessage
  try {
    reader = new BinaryReader(bytes)
    msg = CpcMessage.decode(reader)
  } catch (err) {
    throw new MalformedFrameError(`Invalid CpcMessage: ${(err as Error).message}`, { cause: err })
  }
  if (reader.pos !== reader.len) {
    throw new MalformedFrameError(`Invalid CpcMessage: ${reader.len - reader.pos} trailing bytes`)
  }
  return msg
}

/**
 * Streaming frame decoder. Feed it bytes as they arrive; it returns every complete message. A
 * declared length over maxFrameBytes is rejected as soon as the prefix is read, before the body is
 * buffered. After any error the decoder is poisoned: the stream must be dropped.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number
  private readonly buffer = new Uint8ArrayList()
  private bodyLength = -1
  private failure: ProtocolError | undefined

  constructor(init: FrameOptions = {}) {
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  }

  /** Bytes held that do not yet form a complete frame. */
  get bufferedBytes(): number {
    return this.buffer.length
  }

  /** Appends bytes and returns every message they complete. */
  push(chunk: Uint8Array | Uint8ArrayList): CpcMessage[] {
    return [...this.decode(chunk)]
  }

  /** Like push, but yields messages one at a time, so those before a bad frame are delivered. */
  *decode(chunk: Uint8Array | Uint8ArrayList): Generator<CpcMessage, void, undefined> {
    if (this.failure !== undefined) throw this.failure
    this.buffer.append(chunk)
    try {
      while (true) {
        if (this.bodyLength < 0 && !this.readPrefix()) return
        if (this.buffer.length < this.bodyLength) return
        const body = this.buffer.subarray(0, this.bodyLength)
        this.buffer.consume(this.bodyLength)
        this.bodyLength = -1
        yield decodeMessage(body)
      }
    } catch (err) {
      this.failure = err instanceof ProtocolError ? err : new MalformedFrameError(String(err), { cause: err })
      this.buffer.consume(this.buffer.length)
      throw this.failure
    }
  }

  /** Call at the end of the stream: throws TruncatedFrameError if a partial frame is buffered. */
  end(): void {
    if (this.failure !== undefined) throw this.failure
    if (this.buffer.length > 0 || this.bodyLength >= 0) {
      throw new TruncatedFrameError(`Stream ended with ${this.buffer.length} bytes of an incomplete frame`)
    }
  }

  private readPrefix(): boolean {
    let value = 0
    let multiplier = 1
    const available = Math.min(this.buffer.length, MAX_LENGTH_PREFIX_BYTES)
    for (let i = 0; i < available; i++) {
      const byte = this.buffer.get(i)
      value += (byte & 0x7f) * multiplier
      multiplier *= 128
      // Reject as early as the bits read so far prove the length too large.
      if (value > this.maxFrameBytes) {
        throw new FrameTooLargeError(`Frame declares at least ${value} bytes, maxFrameBytes is ${this.maxFrameBytes}`)
      }
      if ((byte & 0x80) === 0) {
        this.buffer.consume(i + 1)
        this.bodyLength = value
        return true
      }
    }
    if (this.buffer.length >= MAX_LENGTH_PREFIX_BYTES) {
      throw new MalformedFrameError(`Length prefix longer than ${MAX_LENGTH_PREFIX_BYTES} bytes`)
    }
    return false
  }
}

/**
 * Decodes frames from a byte stream (e.g. a libp2p v3 Stream). Ends cleanly only on a frame
 * boundary; throws TruncatedFrameError otherwise, and AbortError if the signal fires.
 */
export async function* readFrames(
  source: AsyncIterable<Uint8Array | Uint8ArrayList>,
  options: ReadFramesOptions = {},
): AsyncGenerator<CpcMessage, void, undefined> {
  const { signal } = options
  const decoder = new FrameDecoder(options)
  const iterator = source[Symbol.asyncIterator]()
  let onAbort: (() => void) | undefined
  const aborted =
    signal === undefined
      ? undefined
      : new Promise<never>((_resolve, reject) => {
          onAbort = () => reject(new AbortError())
          signal.addEventListener('abort', onAbort, { once: true })
        })
  // Never let the abort promise surface as an unhandled rejection.
  aborted?.catch(() => {})
  let sourceDone = false
  try {
    while (true) {
      if (signal?.aborted === true) throw new AbortError()
      const next = aborted === undefined ? await iterator.next() : await Promise.race([iterator.next(), aborted])
      if (next.done === true) {
        sourceDone = true
        break
      }
      yield* decoder.decode(next.value)
    }
    decoder.end()
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    // Release the source on error, abort or early exit by the consumer; never wait on it, since a
    // pending next() of an async generator would make return() wait too.
    if (!sourceDone) iterator.return?.()?.catch(() => {})
  }
}
