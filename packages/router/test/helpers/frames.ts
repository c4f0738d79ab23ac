/** A frame of `size` bytes (>= 4) carrying `id` in its first 4 bytes. */
export function frame(id: number, size = 16): Uint8Array {
  const f = new Uint8Array(Math.max(4, size))
  new DataView(f.buffer).setUint32(0, id)
  return f
}

export function idOf(f: Uint8Array): number {
  return new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0)
}
