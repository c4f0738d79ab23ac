// Unsigned varints (protobuf / multiformats) for non-negative safe integers: frame length prefixes
// and the hand-written field headers of the canonical encoding.

/** Bytes the varint of `value` takes. */
export function varintLength(value: number): number {
  let n = 1
  while (value >= 0x80) {
    value = Math.floor(value / 128)
    n++
  }
  return n
}

/** Writes the varint of `value` at `offset`; returns the offset after it. */
export function writeVarint(value: number, buf: Uint8Array, offset: number): number {
  while (value >= 0x80) {
    buf[offset++] = (value & 0x7f) | 0x80
    value = Math.floor(value / 128)
  }
  buf[offset++] = value
  return offset
}
