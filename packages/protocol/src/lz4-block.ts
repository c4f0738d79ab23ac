/**
 * LZ4 block format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md), written here
 * rather than taken from lz4js: lz4js's block decoder does no bounds checking (hostile input can
 * make it spin for a very long time) and its encoder can place a match inside the last 12 bytes,
 * which the reference decoder rejects. This encoder follows the spec's end-of-block rules, so its
 * output decodes with any conforming LZ4 implementation (e.g. LZ4_decompress_safe).
 */
import { DecompressionError } from './errors.js'

const MIN_MATCH = 4
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5
/** The last match must start at least 12 bytes before the end of the block. */
const MF_LIMIT = 12
const MAX_OFFSET = 0xffff
const HASH_BITS = 16

function read32(src: Uint8Array, i: number): number {
  return src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)
}

function hash(seq: number): number {
  return Math.imul(seq, 2654435761) >>> (32 - HASH_BITS)
}

/** Upper bound of an LZ4 block's size for an input of n bytes. */
export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16
}

function writeLength(dst: Uint8Array, op: number, n: number): number {
  while (n >= 255) {
    dst[op++] = 255
    n -= 255
  }
  dst[op++] = n
  return op
}

/** Compresses src into one LZ4 block (greedy, 64 K hash table). */
export function lz4CompressBlock(src: Uint8Array): Uint8Array {
  const len = src.length
  const dst = new Uint8Array(lz4CompressBound(len))
  let op = 0
  let anchor = 0
  if (len >= MF_LIMIT + 1) {
    const table = new Int32Array(1 << HASH_BITS).fill(-1)
    const matchStartLimit = len - MF_LIMIT
    const matchEndLimit = len - LAST_LITERALS
    let ip = 0
    while (ip <= matchStartLimit) {
      const seq = read32(src, ip)
      const h = hash(seq)
      const ref = table[h]
      table[h] = ip
      if (ref < 0 || ip - ref > MAX_OFFSET || read32(src, ref) !== seq) {
        // Skip faster through incompressible data.
        ip += 1 + ((ip - anchor) >> 6)
        continue
      }
      let matchLength = MIN_MATCH
      while (ip + matchLength < matchEndLimit && src[ip + matchLength] === src[ref + matchLength]) matchLength++
      const literals = ip - anchor
      const ml = matchLength - MIN_MATCH
      const tokenPos = op++
      dst[tokenPos] = ((literals >= 15 ? 15 : literals) << 4) | (ml >= 15 ? 15 : ml)
      if (literals >= 15) op = writeLength(dst, op, literals - 15)
      dst.set(src.subarray(anchor, ip), op)
      op += literals
      const offset = ip - ref
      dst[op++] = offset & 0xff
      dst[op++] = offset >>> 8
      if (ml >= 15) op = writeLength(dst, op, ml - 15)
      ip += matchLength
      anchor = ip
    }
  }
  const literals = len - anchor
  dst[op++] = (literals >= 15 ? 15 : literals) << 4
  if (literals >= 15) op = writeLength(dst, op, literals - 15)
  dst.set(src.subarray(anchor), op)
  op += literals
  return dst.subarray(0, op)
}

/**
 * Decodes one LZ4 block that must expand to exactly `size` bytes. Every read and write is bounds
 * checked and every loop consumes input, so hostile input fails fast with DecompressionError.
 */
export function lz4DecompressBlock(src: Uint8Array, size: number): Uint8Array {
  const dst = new Uint8Array(size)
  const end = src.length
  let ip = 0
  let op = 0
  while (true) {
    if (ip >= end) throw new DecompressionError('LZ4 block ends before its last sequence')
    const token = src[ip++]
    let literals = token >>> 4
    if (literals === 15) {
      let b: number
      do {
        if (ip >= end) throw new DecompressionError('LZ4 literal length runs past the block')
        b = src[ip++]
        literals += b
      } while (b === 255)
    }
    if (ip + literals > end) throw new DecompressionError('LZ4 literals run past the block')
    if (op + literals > size) throw new DecompressionError('LZ4 output exceeds the declared size')
    dst.set(src.subarray(ip, ip + literals), op)
    ip += literals
    op += literals
    if (ip === end) break
    if (ip + 2 > end) throw new DecompressionError('LZ4 block truncated inside a match offset')
    const offset = src[ip] | (src[ip + 1] << 8)
    ip += 2
    if (offset === 0 || offset > op) throw new DecompressionError('LZ4 match offset out of range')
    let matchLength = token & 15
    if (matchLength === 15) {
      let b: number
      do {
        if (ip >= end) throw new DecompressionError('LZ4 match length runs past the block')
        b = src[ip++]
        matchLength += b
      } while (b === 255)
    }
    matchLength += MIN_MATCH
    if (op + matchLength > size) throw new DecompressionError('LZ4 output exceeds the declared size')
    let from = op - offset
    if (offset >= matchLength) {
      dst.copyWithin(op, from, from + matchLength)
      op += matchLength
    } else {
      // Overlapping match: byte by byte repeats the last `offset` bytes.
      const stop = op + matchLength
      while (op < stop) dst[op++] = dst[from++]
    }
  }
  if (op !== size) throw new DecompressionError(`LZ4 block expands to ${op} bytes, declared ${size}`)
  return dst
}
