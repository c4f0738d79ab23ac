// What a queued message holds: its frames, or a source that builds them as they are taken (a direct
// send's frames are signed just in time, @cpc/protocol prepareMessage). Sizes are known up front,
// so the queue bounds, deficit round robin and shedding work on them before any frame is built.
import type { UnsignedFrame } from '@cpc/protocol'

export interface FrameSource {
  /** Frames of the message. */
  readonly count: number
  /** Wire size of frame i, without building it. */
  size(i: number): number
  /** Frame i (built on demand for a lazy source, signed alone). */
  frame(i: number): Uint8Array
  /**
   * Frame i unsigned, for a lazy source whose frames the writer may sign in a batch with others
   * (signFrames): one Ed25519 signature per batch instead of one per frame. size(i) is the size
   * signed alone; a batch proof adds at most BATCH_PROOF_RESERVE_BYTES.
   */
  unsigned?(i: number): UnsignedFrame
}

/** One frame, several built ones, or a lazy source (a PreparedMessage). */
export type Frames = Uint8Array | readonly Uint8Array[] | FrameSource

class ArraySource implements FrameSource {
  constructor(private readonly frames: readonly Uint8Array[]) {}
  get count(): number {
    return this.frames.length
  }
  size(i: number): number {
    return this.frames[i].byteLength
  }
  frame(i: number): Uint8Array {
    return this.frames[i]
  }
}

export function isFrameSource(frames: Frames): frames is FrameSource {
  return !(frames instanceof Uint8Array) && !Array.isArray(frames)
}

export function toFrameSource(frames: Frames): FrameSource {
  if (frames instanceof Uint8Array) return new ArraySource([frames])
  if (Array.isArray(frames)) return new ArraySource(frames as readonly Uint8Array[])
  return frames as FrameSource
}

/** The frames from `from` on, as an array (builds the unbuilt ones of a lazy source). */
export function materialize(frames: Frames, from = 0): Uint8Array[] {
  if (frames instanceof Uint8Array) return from === 0 ? [frames] : []
  if (Array.isArray(frames)) return (frames as readonly Uint8Array[]).slice(from)
  const source = frames as FrameSource
  const out: Uint8Array[] = []
  for (let i = from; i < source.count; i++) out.push(source.frame(i))
  return out
}
