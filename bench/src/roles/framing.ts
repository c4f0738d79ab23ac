// The bench's own length-prefixed framing (u32 big-endian length, then the body), used on every
// bare libp2p and raw TCP baseline. A real streaming decoder, so the baseline pays for parsing.

export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.byteLength)
  new DataView(out.buffer).setUint32(0, body.byteLength)
  out.set(body, 4)
  return out
}

/** Concatenates frames into one buffer (one send for a batch). */
export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.byteLength
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.byteLength
  }
  return out
}

export class Decoder {
  private buf: Uint8Array = new Uint8Array(0)

  /** Feeds bytes, calls `onFrame` for every complete body (a view: copy it to keep it). */
  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => void): void {
    let data = chunk
    if (this.buf.byteLength) {
      const merged = new Uint8Array(this.buf.byteLength + chunk.byteLength)
      merged.set(this.buf)
      merged.set(chunk, this.buf.byteLength)
      data = merged
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    let o = 0
    while (data.byteLength - o >= 4) {
      const len = view.getUint32(o)
      if (data.byteLength - o - 4 < len) break
      onFrame(data.subarray(o + 4, o + 4 + len))
      o += 4 + len
    }
    this.buf = o === data.byteLength ? new Uint8Array(0) : data.slice(o)
  }
}

/** Percentiles of a list of numbers (nearest rank). */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes of one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now()
}

/**
 * Runs `fn` up to `attempts` times while it fails with a timeout (a Noise handshake past libp2p's
 * 10 s inbound upgrade timeout on a machine at load 20 and more): slowness, not a broken harness.
 */
export async function retryOnTimeout<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (err) {
      const slow =
        err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError' || /timed out|timeout|aborted/i.test(err.message))
      if (!slow || i >= attempts) throw err
      await new Promise((r) => setTimeout(r, 500 * i))
    }
  }
}
