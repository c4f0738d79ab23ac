import {
  COMPRESSION_SAMPLE_BYTES,
  COMPRESSION_SAMPLE_MAX_RATIO,
  COMPRESSION_SAMPLE_MIN_BYTES,
  DEFAULT_COMPRESSION_THRESHOLD_BYTES,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
} from './constants.js'
import { DecompressedTooLargeError, DecompressionError } from './errors.js'
import { CpcMessage_Compression as Compression } from './gen/cpc/v1/wire.js'
import { lz4CompressBlock, lz4DecompressBlock } from './lz4-block.js'

/** Varint length prefixes of the decompressed size are at most this long (sizes < 2^35). */
const MAX_SIZE_PREFIX_BYTES = 5
/** One LZ4 block byte can expand to at most 255 output bytes; a larger claim is corrupt. */
const MAX_LZ4_EXPANSION = 255

export interface CompressOptions {
  /** Payloads of this many bytes or fewer are sent uncompressed (default DEFAULT_COMPRESSION_THRESHOLD_BYTES). */
  thresholdBytes?: number
}

export interface DecompressOptions {
  /** Largest decompressed size accepted (default DEFAULT_MAX_DECOMPRESSED_BYTES). */
  maxBytes?: number
}

export interface CompressedPayload {
  payload: Uint8Array
  compression: Compression
}

/**
 * LZ4-compresses payload when it is larger than the threshold and compression saves bytes.
 * Wire format of an LZ4 payload: unsigned varint of the decompressed size, then one LZ4 block.
 */
export function compressPayload(payload: Uint8Array, options: CompressOptions = {}): CompressedPayload {
  const threshold = options.thresholdBytes ?? DEFAULT_COMPRESSION_THRESHOLD_BYTES
  if (payload.length <= threshold) return { payload, compression: Compression.NONE }
  if (payload.length >= COMPRESSION_SAMPLE_MIN_BYTES && !samplesCompress(payload)) return { payload, compression: Compression.NONE }
  const block = lz4CompressBlock(payload)
  let n = payload.length
  let prefixLength = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    prefixLength++
  }
  if (prefixLength + block.length >= payload.length) return { payload, compression: Compression.NONE }
  const out = new Uint8Array(prefixLength + block.length)
  n = payload.length
  let i = 0
  while (n >= 0x80) {
    out[i++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  out[i++] = n
  out.set(block, i)
  return { payload: out, compression: Compression.LZ4 }
}

/**
 * The sampling rule (README "Compression"): three COMPRESSION_SAMPLE_BYTES slices (start, middle,
 * end) compressed alone; the whole payload is worth an attempt only if they shrink below
 * COMPRESSION_SAMPLE_MAX_RATIO of their size. Incompressible media costs 12 KiB of LZ4, not the payload.
 */
function samplesCompress(payload: Uint8Array): boolean {
  const n = COMPRESSION_SAMPLE_BYTES
  const mid = Math.floor((payload.length - n) / 2)
  let inBytes = 0
  let outBytes = 0
  for (const start of [0, mid, payload.length - n]) {
    inBytes += n
    outBytes += lz4CompressBlock(payload.subarray(start, start + n)).length
  }
  return outBytes < inBytes * COMPRESSION_SAMPLE_MAX_RATIO
}

/**
 * Reverses compressPayload. The declared size is checked against maxBytes before anything is
 * allocated; corrupt input and unknown compressions throw DecompressionError.
 */
export function decompressPayload(payload: Uint8Array, compression: Compression, options: DecompressOptions = {}): Uint8Array {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES
  if (compression === Compression.NONE) {
    if (payload.length > maxBytes) throw new DecompressedTooLargeError(`Payload of ${payload.length} bytes exceeds ${maxBytes}`)
    return payload
  }
  if (compression !== Compression.LZ4) throw new DecompressionError(`Unsupported compression ${compression}`)
  let size = 0
  let multiplier = 1
  let i = 0
  while (true) {
    if (i >= payload.length) throw new DecompressionError('LZ4 payload truncated inside its size prefix')
    if (i >= MAX_SIZE_PREFIX_BYTES) throw new DecompressionError('LZ4 size prefix too long')
    const b = payload[i++]
    size += (b & 0x7f) * multiplier
    multiplier *= 128
    if ((b & 0x80) === 0) break
  }
  if (size > maxBytes) throw new DecompressedTooLargeError(`Payload declares ${size} decompressed bytes, limit is ${maxBytes}`)
  const block = payload.subarray(i)
  if (size > block.length * MAX_LZ4_EXPANSION) {
    throw new DecompressionError(`LZ4 block of ${block.length} bytes cannot expand to ${size}`)
  }
  return lz4DecompressBlock(block, size)
}
