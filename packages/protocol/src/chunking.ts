import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_REASSEMBLY_MAX_BYTES,
  DEFAULT_REASSEMBLY_MAX_MESSAGE_BYTES,
  DEFAULT_REASSEMBLY_MAX_MESSAGES,
  DEFAULT_REASSEMBLY_MAX_MESSAGES_PER_ORIGIN,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
} from './constants.js'
import { InvalidArgumentError, InvalidChunkError, PayloadTooLargeError, ReassemblyLimitError, ReassemblyTimeoutError } from './errors.js'
import type { Chunk, CpcMessage } from './gen/cpc/v1/wire.js'
import { bytesEqual, toHex } from './peer.js'

export interface SplitOptions {
  /** Largest chunk (default DEFAULT_CHUNK_BYTES). */
  chunkBytes?: number
  /** chunk.message_id: by convention the nonce of the first chunk's message. */
  messageId: bigint
}

export interface PayloadChunk {
  chunk: Chunk
  payload: Uint8Array
}

/**
 * Splits payload into ceil(length / chunkBytes) chunks (one chunk for an empty payload). Every chunk
 * but the last holds exactly chunkBytes bytes. The chunk payloads are views of payload, not copies.
 */
export function splitPayload(payload: Uint8Array, options: SplitOptions): PayloadChunk[] {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new InvalidArgumentError(`chunkBytes must be a positive integer, got ${chunkBytes}`)
  const count = Math.max(1, Math.ceil(payload.length / chunkBytes))
  const totalBytes = BigInt(payload.length)
  const out: PayloadChunk[] = []
  for (let index = 0; index < count; index++) {
    out.push({
      chunk: { messageId: options.messageId, index, count, totalBytes },
      payload: payload.subarray(index * chunkBytes, Math.min(payload.length, (index + 1) * chunkBytes)),
    })
  }
  return out
}

export interface ReassemblerComponents {
  /** Milliseconds, monotonic enough for timeouts (default Date.now). */
  clock?: () => number
}

export interface ReassemblerInit {
  /** PartialMessage messages held at once (default DEFAULT_REASSEMBLY_MAX_MESSAGES). */
  maxMessages?: number
  /** PartialMessage messages held at once per origin (default DEFAULT_REASSEMBLY_MAX_MESSAGES_PER_ORIGIN). */
  maxMessagesPerOrigin?: number
  /** Chunk bytes buffered at once (default DEFAULT_REASSEMBLY_MAX_BYTES). */
  maxBytes?: number
  /** Largest chunk.total_bytes accepted (default DEFAULT_REASSEMBLY_MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number
  /** Time from a message's first chunk to its last (default DEFAULT_REASSEMBLY_TIMEOUT_MS). */
  timeoutMs?: number
}

interface PartialMessage {
  origin: Uint8Array
  originKey: string
  messageId: bigint
  count: number
  totalBytes: number
  compression: number
  deadline: number
  received: number
  bytes: number
  parts: Map<number, Uint8Array>
}

/**
 * Reassembles chunked payloads, keyed by (origin, message_id). Bounded in messages, bytes and time;
 * owns no timer: call expire() periodically (e.g. every few seconds) to drop timed-out messages.
 */
export class Reassembler {
  private readonly clock: () => number
  private readonly maxMessages: number
  private readonly maxMessagesPerOrigin: number
  private readonly maxBytes: number
  private readonly maxMessageBytes: number
  private readonly timeoutMs: number
  private readonly partials = new Map<string, PartialMessage>()
  private readonly perOrigin = new Map<string, number>()
  private buffered = 0

  constructor(components: ReassemblerComponents = {}, init: ReassemblerInit = {}) {
    this.clock = components.clock ?? Date.now
    this.maxMessages = init.maxMessages ?? DEFAULT_REASSEMBLY_MAX_MESSAGES
    this.maxMessagesPerOrigin = init.maxMessagesPerOrigin ?? DEFAULT_REASSEMBLY_MAX_MESSAGES_PER_ORIGIN
    this.maxBytes = init.maxBytes ?? DEFAULT_REASSEMBLY_MAX_BYTES
    this.maxMessageBytes = init.maxMessageBytes ?? DEFAULT_REASSEMBLY_MAX_MESSAGE_BYTES
    this.timeoutMs = init.timeoutMs ?? DEFAULT_REASSEMBLY_TIMEOUT_MS
  }

  /** Chunk payload bytes currently held. */
  get bufferedBytes(): number {
    return this.buffered
  }

  /** Chunked messages partially received. */
  get pendingMessages(): number {
    return this.partials.size
  }

  /**
   * Adds one (already verified) message. Returns the whole payload when this completes it (or at
   * once for an unchunked message), undefined while chunks are missing or for a duplicate chunk.
   * Throws InvalidChunkError, PayloadTooLargeError, ReassemblyLimitError or ReassemblyTimeoutError;
   * a rejected chunk leaves the other chunks of its message in place (until they time out).
   */
  add(origin: Uint8Array, msg: CpcMessage): Uint8Array | undefined {
    const chunk = msg.chunk
    if (chunk === undefined) return msg.payload
    const { count, index } = chunk
    if (count < 1) throw new InvalidChunkError('Chunk count must be at least 1')
    if (index >= count) throw new InvalidChunkError(`Chunk index ${index} out of range for count ${count}`)
    if (chunk.totalBytes > BigInt(this.maxMessageBytes)) {
      throw new PayloadTooLargeError(`Chunked message declares ${chunk.totalBytes} bytes, limit is ${this.maxMessageBytes}`)
    }
    const totalBytes = Number(chunk.totalBytes)
    // Every chunk carries at least one byte, except the single chunk of an empty payload.
    if (count > Math.max(1, totalBytes)) throw new InvalidChunkError(`Chunk count ${count} exceeds total_bytes ${totalBytes}`)
    const size = msg.payload.length
    if (size > totalBytes) throw new InvalidChunkError(`Chunk of ${size} bytes exceeds total_bytes ${totalBytes}`)
    if (size === 0 && totalBytes > 0) throw new InvalidChunkError('Empty chunk')

    const originKey = toHex(origin)
    const key = `${originKey}/${chunk.messageId}`
    const now = this.clock()
    let partial = this.partials.get(key)
    if (partial !== undefined && now > partial.deadline) {
      this.drop(key, partial)
      throw new ReassemblyTimeoutError({ origin, messageId: chunk.messageId, receivedChunks: partial.received, count: partial.count })
    }
    if (partial !== undefined) {
      if (partial.count !== count || partial.totalBytes !== totalBytes) {
        throw new InvalidChunkError(`Chunk of message ${chunk.messageId} disagrees on count or total_bytes`)
      }
      if (partial.compression !== msg.compression) throw new InvalidChunkError(`Chunk of message ${chunk.messageId} disagrees on compression`)
      const existing = partial.parts.get(index)
      if (existing !== undefined) {
        if (!bytesEqual(existing, msg.payload)) throw new InvalidChunkError(`Conflicting duplicate of chunk ${index}`)
        return undefined
      }
      if (partial.bytes + size > totalBytes) throw new InvalidChunkError(`Chunks of message ${chunk.messageId} exceed total_bytes`)
    } else if (count > 1) {
      if (this.partials.size >= this.maxMessages) throw new ReassemblyLimitError(`${this.partials.size} chunked messages pending`)
      if ((this.perOrigin.get(originKey) ?? 0) >= this.maxMessagesPerOrigin) {
        throw new ReassemblyLimitError(`Origin has ${this.maxMessagesPerOrigin} chunked messages pending`)
      }
    }
    if (count === 1) {
      if (size !== totalBytes) throw new InvalidChunkError(`Single chunk of ${size} bytes, total_bytes ${totalBytes}`)
      return msg.payload
    }
    if (this.buffered + size > this.maxBytes) throw new ReassemblyLimitError(`Reassembly buffer holds ${this.buffered} bytes`)

    if (partial === undefined) {
      partial = {
        origin: origin.slice(),
        originKey,
        messageId: chunk.messageId,
        count,
        totalBytes,
        compression: msg.compression,
        deadline: now + this.timeoutMs,
        received: 0,
        bytes: 0,
        parts: new Map(),
      }
      this.partials.set(key, partial)
      this.perOrigin.set(originKey, (this.perOrigin.get(originKey) ?? 0) + 1)
    }
    partial.parts.set(index, msg.payload)
    partial.received++
    partial.bytes += size
    this.buffered += size
    if (partial.received < count) return undefined

    this.drop(key, partial)
    if (partial.bytes !== totalBytes) {
      throw new InvalidChunkError(`Chunks of message ${chunk.messageId} hold ${partial.bytes} bytes, total_bytes is ${totalBytes}`)
    }
    const out = new Uint8Array(totalBytes)
    let offset = 0
    for (let i = 0; i < count; i++) {
      const part = partial.parts.get(i) as Uint8Array
      out.set(part, offset)
      offset += part.length
    }
    return out
  }

  /** Drops every partial message past its deadline and returns one error describing each. */
  expire(): ReassemblyTimeoutError[] {
    const now = this.clock()
    const expired: ReassemblyTimeoutError[] = []
    for (const [key, partial] of this.partials) {
      if (now > partial.deadline) {
        this.drop(key, partial)
        expired.push(new ReassemblyTimeoutError({ origin: partial.origin, messageId: partial.messageId, receivedChunks: partial.received, count: partial.count }))
      }
    }
    return expired
  }

  /** Drops everything. */
  clear(): void {
    this.partials.clear()
    this.perOrigin.clear()
    this.buffered = 0
  }

  private drop(key: string, partial: PartialMessage): void {
    this.partials.delete(key)
    this.buffered -= partial.bytes
    const n = (this.perOrigin.get(partial.originKey) ?? 1) - 1
    if (n <= 0) this.perOrigin.delete(partial.originKey)
    else this.perOrigin.set(partial.originKey, n)
  }
}
