// One peer's outbound queues: three bounded FIFO queues of encoded frames (HIGH, MEDIUM, LOW) and the
// drain order. HIGH is always served first; MEDIUM and LOW share what is left by deficit round robin
// over bytes (weights 4:1 by default), so LOW keeps moving while it is not shed. A message is queued
// as its frames (one per chunk) and drained frame by frame, so a HIGH frame overtakes a LOW message
// between two of its chunks.
//
// Bounds (frames and bytes, all priorities of the peer together): a message that does not fit sheds
// queued LOW messages (newest first), then MEDIUM ones, but only those of lower priority than the new
// one; a LOW or MEDIUM message that still does not fit is itself shed. HIGH is never shed: a HIGH
// message that does not fit even after everything below it is shed is refused with QueueFullError.
// A message whose first frame has been written is never shed: the receiver is already reassembling
// it, and the frames it has would be wasted. Every shed is counted (metric and shedCount) and
// announced with a 'shed' event carrying the message, so nothing leaves silently.
import { TypedEventEmitter } from '@libp2p/interface'
import { Priority } from '@cpc/protocol'
import {
  DEFAULT_DRR_QUANTUM_BYTES,
  DEFAULT_LOW_WEIGHT,
  DEFAULT_MEDIUM_WEIGHT,
  DEFAULT_PEER_QUEUE_MAX_BYTES,
  DEFAULT_PEER_QUEUE_MAX_FRAMES,
} from '../constants.js'
import { EmptyMessageError, QueueFullError, positive } from '../errors.js'
import type { RouterMetrics } from '../metrics.js'
import { assertPriority, priorityLabel, type KnownPriority } from '../priority.js'
import type { DropReason, ShedPolicy } from '../shedding/shed-policy.js'
import { systemClock, type Clock } from '../clock.js'
import { signFrames, type UnsignedFrame } from '@cpc/protocol'
import { Deque } from './deque.js'
import { materialize, toFrameSource, type FrameSource, type Frames } from './frame-source.js'

export interface PeerQueuesComponents {
  clock?: Pick<Clock, 'now'>
  metrics?: RouterMetrics
  /** Consulted for every new LOW/MEDIUM message (event-loop delay, global queue pressure). */
  shedPolicy?: ShedPolicy
}

export interface PeerQueuesInit {
  /** Default DEFAULT_PEER_QUEUE_MAX_FRAMES. */
  maxFrames?: number
  /** Default DEFAULT_PEER_QUEUE_MAX_BYTES. */
  maxBytes?: number
  /** Default DEFAULT_MEDIUM_WEIGHT. */
  mediumWeight?: number
  /** Default DEFAULT_LOW_WEIGHT. */
  lowWeight?: number
  /** Default DEFAULT_DRR_QUANTUM_BYTES. */
  quantumBytes?: number
}

/** A message as the queues hold it. */
export interface QueuedMessage<M> {
  /** Its (remaining) frames; a lazy source's are built when this is read. */
  readonly frames: readonly Uint8Array[]
  readonly priority: KnownPriority
  readonly meta: M
  readonly enqueuedAtMs: number
  readonly bytes: number
}

/** One frame handed out by nextBatch. */
export interface DrainedFrame<M> {
  readonly frame: Uint8Array
  readonly priority: KnownPriority
  readonly meta: M
  readonly enqueuedAtMs: number
  /** Position of this frame among its message's frames. */
  readonly index: number
  readonly count: number
  /** True on the message's final frame: once written, the message has left this node. */
  readonly last: boolean
}

export interface ShedEvent<M> {
  readonly message: QueuedMessage<M>
  readonly reason: DropReason
}

export interface PeerQueuesEvents<M> {
  /** A message was shed (the incoming one or a queued one evicted for a more urgent one). */
  shed: CustomEvent<ShedEvent<M>>
}

export type EnqueueResult = { accepted: true; evicted: number } | { accepted: false; reason: DropReason; evicted: 0 }

interface Entry<M> {
  readonly source: FrameSource
  readonly priority: KnownPriority
  readonly meta: M
  readonly enqueuedAtMs: number
  readonly bytes: number
  next: number
}

type SharedPriority = Priority.MEDIUM | Priority.LOW

/** Placeholder of a frame signed once the batch is taken. */
const EMPTY_FRAME = new Uint8Array(0)

export class PeerQueues<M = undefined> extends TypedEventEmitter<PeerQueuesEvents<M>> {
  private readonly clock: Pick<Clock, 'now'>
  private readonly metrics?: RouterMetrics
  private readonly shedPolicy?: ShedPolicy
  readonly maxFrames: number
  readonly maxBytes: number
  private readonly weight: Record<SharedPriority, number>
  private readonly quantum: number

  private readonly queues: Record<KnownPriority, Deque<Entry<M>>> = {
    [Priority.HIGH]: new Deque(),
    [Priority.MEDIUM]: new Deque(),
    [Priority.LOW]: new Deque(),
  }
  private readonly frameCount: Record<KnownPriority, number> = { [Priority.HIGH]: 0, [Priority.MEDIUM]: 0, [Priority.LOW]: 0 }
  private readonly byteCount: Record<KnownPriority, number> = { [Priority.HIGH]: 0, [Priority.MEDIUM]: 0, [Priority.LOW]: 0 }
  private totalFrames = 0
  private totalBytes = 0
  private readonly shedCounts = new Map<DropReason, number>()

  // Deficit round robin between MEDIUM and LOW.
  private turn: SharedPriority = Priority.MEDIUM
  private granted = false
  private readonly deficit: Record<SharedPriority, number> = { [Priority.MEDIUM]: 0, [Priority.LOW]: 0 }

  constructor(components: PeerQueuesComponents = {}, init: PeerQueuesInit = {}) {
    super()
    this.clock = components.clock ?? systemClock
    this.metrics = components.metrics
    this.shedPolicy = components.shedPolicy
    this.maxFrames = positive(init.maxFrames ?? DEFAULT_PEER_QUEUE_MAX_FRAMES, 'maxFrames')
    this.maxBytes = positive(init.maxBytes ?? DEFAULT_PEER_QUEUE_MAX_BYTES, 'maxBytes')
    this.weight = {
      [Priority.MEDIUM]: positive(init.mediumWeight ?? DEFAULT_MEDIUM_WEIGHT, 'mediumWeight'),
      [Priority.LOW]: positive(init.lowWeight ?? DEFAULT_LOW_WEIGHT, 'lowWeight'),
    }
    this.quantum = positive(init.quantumBytes ?? DEFAULT_DRR_QUANTUM_BYTES, 'quantumBytes')
  }

  /** Frames queued, of one priority or of all. */
  frames(priority?: KnownPriority): number {
    return priority === undefined ? this.totalFrames : this.frameCount[priority]
  }

  /** Bytes queued, of one priority or of all. */
  bytes(priority?: KnownPriority): number {
    return priority === undefined ? this.totalBytes : this.byteCount[priority]
  }

  /** Messages queued (a partly written message counts), of one priority or of all. */
  messages(priority?: KnownPriority): number {
    if (priority !== undefined) return this.queues[priority].length
    return this.queues[Priority.HIGH].length + this.queues[Priority.MEDIUM].length + this.queues[Priority.LOW].length
  }

  get isEmpty(): boolean {
    return this.totalFrames === 0
  }

  /** Messages shed so far, by reason. */
  shedCount(reason?: DropReason): number {
    if (reason !== undefined) return this.shedCounts.get(reason) ?? 0
    let sum = 0
    for (const n of this.shedCounts.values()) sum += n
    return sum
  }

  /**
   * Queue one message: its encoded frames (one per chunk) at one priority. Returns whether it was
   * accepted and how many queued messages were shed to make room; throws QueueFullError for a HIGH
   * message that cannot fit, InvalidPriorityError for an unknown priority.
   */
  enqueue(frames: Frames, priority: Priority, meta: M): EnqueueResult {
    assertPriority(priority)
    const source = toFrameSource(frames)
    if (source.count === 0) throw new EmptyMessageError()
    let bytes = 0
    for (let i = 0; i < source.count; i++) bytes += source.size(i)
    const entry: Entry<M> = { source, priority, meta, enqueuedAtMs: this.clock.now(), bytes, next: 0 }

    if (priority !== Priority.HIGH) {
      const reason = this.shedPolicy?.shouldShed(priority)
      if (reason !== undefined && reason !== false) return this.reject(entry, reason)
    }

    const over = this.limitPassedAfterEviction(entry)
    if (over !== null) {
      if (priority === Priority.HIGH) {
        throw new QueueFullError(over, over === 'frames' ? this.maxFrames : this.maxBytes)
      }
      return this.reject(entry, 'queue_full')
    }

    let evicted = 0
    for (const victimPriority of [Priority.LOW, Priority.MEDIUM] as const) {
      if (victimPriority >= priority) break
      const queue = this.queues[victimPriority]
      while (this.overBy(entry) && queue.length > 0) {
        const tail = queue.peekTail() as Entry<M>
        if (tail.next > 0) break
        queue.pop()
        this.account(tail, -tail.source.count, -tail.bytes)
        this.recordShed(tail, 'queue_full')
        evicted++
      }
    }

    this.queues[priority].push(entry)
    this.account(entry, source.count, bytes)
    return { accepted: true, evicted }
  }

  /**
   * Take the next frames to write, in drain order, up to maxFrames and maxBytes (at least one frame
   * when any is queued, even one larger than maxBytes). Lazy frames are built now; those a source
   * hands out unsigned are signed together, at most maxSignBatch per Ed25519 signature (sizes are
   * counted as signed alone: a batch proof makes the frame up to BATCH_PROOF_RESERVE_BYTES larger).
   */
  nextBatch(maxBytes: number, maxFrames: number, maxSignBatch = 1): Array<DrainedFrame<M>> {
    const out: Array<DrainedFrame<M>> = []
    // Positions in `out` of the frames to sign, and the frames themselves, in drain order.
    const unsignedAt: number[] = []
    const unsigned: UnsignedFrame[] = []
    let bytes = 0
    while (out.length < maxFrames) {
      const priority = this.queues[Priority.HIGH].length > 0 ? Priority.HIGH : this.pickShared()
      if (priority === null) break
      const queue = this.queues[priority]
      const entry = queue.peek() as Entry<M>
      const size = entry.source.size(entry.next)
      if (out.length > 0 && bytes + size > maxBytes) break
      // A lazy source builds (signs) the frame only now, as it is taken for the wire.
      const pending = maxSignBatch > 1 ? entry.source.unsigned?.(entry.next) : undefined
      const frame = pending === undefined ? entry.source.frame(entry.next) : EMPTY_FRAME
      if (pending !== undefined) {
        unsignedAt.push(out.length)
        unsigned.push(pending)
      }
      bytes += size
      if (priority !== Priority.HIGH) this.deficit[priority] -= size
      const index = entry.next++
      const last = entry.next === entry.source.count
      if (last) queue.shift()
      this.account(entry, -1, -size)
      out.push({
        frame,
        priority,
        meta: entry.meta,
        enqueuedAtMs: entry.enqueuedAtMs,
        index,
        count: entry.source.count,
        last,
      })
    }
    if (unsigned.length > 0) {
      const frames = signFrames(unsigned, maxSignBatch)
      // One signer (the router's) per queue: signFrames makes ceil(n / maxSignBatch) signatures.
      this.metrics?.signedFrames.inc(unsigned.length)
      this.metrics?.signBatches.inc(Math.ceil(unsigned.length / maxSignBatch))
      unsignedAt.forEach((at, i) => {
        out[at] = { ...out[at], frame: frames[i] }
      })
    }
    return out
  }

  /**
   * Remove and return everything still queued, highest priority first, FIFO within a priority; a
   * partly written message comes back with its unwritten frames only. For handing the backlog to the
   * outbox when the peer goes away.
   */
  takeAll(): Array<QueuedMessage<M>> {
    const out: Array<QueuedMessage<M>> = []
    for (const priority of [Priority.HIGH, Priority.MEDIUM, Priority.LOW] as const) {
      const queue = this.queues[priority]
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
        let bytes = 0
        for (let i = entry.next; i < entry.source.count; i++) bytes += entry.source.size(i)
        this.account(entry, -(entry.source.count - entry.next), -bytes)
        out.push(queuedMessage(entry, entry.next, bytes))
      }
    }
    this.deficit[Priority.MEDIUM] = 0
    this.deficit[Priority.LOW] = 0
    this.granted = false
    return out
  }

  // Deficit round robin: the queue whose turn it is serves while its credit covers its head frame;
  // an empty queue loses its credit (classic DRR), so an idle LOW cannot bank a burst.
  private pickShared(): SharedPriority | null {
    for (;;) {
      const current = this.turn
      const other: SharedPriority = current === Priority.MEDIUM ? Priority.LOW : Priority.MEDIUM
      const queue = this.queues[current]
      if (queue.length === 0) {
        this.deficit[current] = 0
        this.granted = false
        if (this.queues[other].length === 0) return null
        this.turn = other
        continue
      }
      if (!this.granted) {
        this.deficit[current] += this.quantum * this.weight[current]
        this.granted = true
      }
      const head = queue.peek() as Entry<M>
      if (head.source.size(head.next) <= this.deficit[current]) return current
      this.granted = false
      if (this.queues[other].length > 0) this.turn = other
    }
  }

  /** Which limit the entry still passes once everything evictable below its priority is shed. */
  private limitPassedAfterEviction(entry: Entry<M>): 'frames' | 'bytes' | null {
    let frames = this.totalFrames + entry.source.count
    let bytes = this.totalBytes + entry.bytes
    for (const victimPriority of [Priority.LOW, Priority.MEDIUM] as const) {
      if (victimPriority >= entry.priority) break
      const queue = this.queues[victimPriority]
      frames -= this.frameCount[victimPriority]
      bytes -= this.byteCount[victimPriority]
      const head = queue.peek()
      if (head !== undefined && head.next > 0) {
        // The started head stays; add back what remains of it.
        for (let i = head.next; i < head.source.count; i++) {
          frames++
          bytes += head.source.size(i)
        }
      }
    }
    if (frames > this.maxFrames) return 'frames'
    return bytes > this.maxBytes ? 'bytes' : null
  }

  private overBy(entry: Entry<M>): boolean {
    return this.totalFrames + entry.source.count > this.maxFrames || this.totalBytes + entry.bytes > this.maxBytes
  }

  private reject(entry: Entry<M>, reason: DropReason): EnqueueResult {
    this.recordShed(entry, reason)
    return { accepted: false, reason, evicted: 0 }
  }

  private recordShed(entry: Entry<M>, reason: DropReason): void {
    this.shedCounts.set(reason, (this.shedCounts.get(reason) ?? 0) + 1)
    this.metrics?.dropped.inc({ reason, priority: priorityLabel(entry.priority) })
    const message = queuedMessage(entry, 0, entry.bytes)
    this.safeDispatchEvent('shed', { detail: { message, reason } })
  }

  private account(entry: Entry<M>, frames: number, bytes: number): void {
    this.frameCount[entry.priority] += frames
    this.byteCount[entry.priority] += bytes
    this.totalFrames += frames
    this.totalBytes += bytes
    if (this.metrics !== undefined) {
      const labels = { priority: priorityLabel(entry.priority) }
      this.metrics.queueDepth.inc(labels, frames)
      this.metrics.queueBytes.inc(labels, bytes)
    }
  }
}


/** The entry's frames from `from` on as a QueuedMessage; a lazy source builds them only if read. */
function queuedMessage<M>(entry: Entry<M>, from: number, bytes: number): QueuedMessage<M> {
  let frames: Uint8Array[] | undefined
  return {
    get frames(): Uint8Array[] {
      frames ??= materialize(entry.source, from)
      return frames
    },
    priority: entry.priority,
    meta: entry.meta,
    enqueuedAtMs: entry.enqueuedAtMs,
    bytes,
  }
}
