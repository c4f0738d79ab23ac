// Drains one peer's PeerQueues through a narrow write function (the channel's send, which handles the
// stream's backpressure). One write in flight per peer: the next batch is taken only once the previous
// write resolved, so a HIGH frame queued during a slow write goes out in the very next batch, ahead of
// any LOW backlog. Small frames queued together go out in one write (up to maxBatchBytes/Frames).
//
// Failures: the frames of a failed (or aborted) write are reported in a 'batch:failed' event, so the
// caller can move them to the outbox, and the writer pauses until the next kick() (every enqueue()
// through the writer kicks), rather than spinning on a dead stream.
import { TypedEventEmitter, type AbortOptions } from '@libp2p/interface'
import { MessageType, Priority } from '@cpc/protocol'
import { systemClock, type Clock } from '../clock.js'
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_FRAMES, DEFAULT_MAX_SIGN_BATCH, DEFAULT_WRITE_TIMEOUT_MS } from '../constants.js'
import { DEFAULT_MAX_VERIFY_BATCH } from '@cpc/protocol'
import { AbortedError, InvalidConfigError, positive } from '../errors.js'
import { noopLogger, type Logger } from '../logger.js'
import type { RouterMetrics } from '../metrics.js'
import { messageTypeLabel, priorityLabel } from '../priority.js'
import type { Frames } from './frame-source.js'
import type { DrainedFrame, EnqueueResult, PeerQueues } from './peer-queues.js'

/** Writes frames to the peer in one send; resolves once the stream accepted them (after 'drain'). */
export type WriteFn = (frames: Uint8Array[], options: AbortOptions) => Promise<void>

/** What the writer reads from a message's meta, when there is one. */
export interface FrameMeta {
  type?: MessageType
}

export interface PeerWriterComponents<M extends FrameMeta | undefined> {
  queues: PeerQueues<M>
  write: WriteFn
  clock?: Pick<Clock, 'now'>
  logger?: Logger
  metrics?: RouterMetrics
}

export interface PeerWriterInit {
  /** Default DEFAULT_MAX_BATCH_BYTES. */
  maxBatchBytes?: number
  /** Default DEFAULT_MAX_BATCH_FRAMES. */
  maxBatchFrames?: number
  /** Frames of a batch signed under one Merkle root, at most (default DEFAULT_MAX_SIGN_BATCH; 1 signs each alone). */
  maxSignBatch?: number
  /** One write may take this long (backpressure included) before it is aborted. */
  writeTimeoutMs?: number
  /** For logs only. */
  peer?: string
}

export interface BatchEvent<M> {
  readonly frames: ReadonlyArray<DrainedFrame<M>>
}

export interface BatchFailedEvent<M> extends BatchEvent<M> {
  readonly error: unknown
}

export interface PeerWriterEvents<M> {
  /** A write resolved: these frames left the node (a frame with `last` completes its message). */
  'batch:sent': CustomEvent<BatchEvent<M>>
  /** A write failed or was aborted: these frames were taken from the queues and not written. */
  'batch:failed': CustomEvent<BatchFailedEvent<M>>
}

export class PeerWriter<M extends FrameMeta | undefined = undefined> extends TypedEventEmitter<PeerWriterEvents<M>> {
  private readonly queues: PeerQueues<M>
  private readonly write: WriteFn
  private readonly clock: Pick<Clock, 'now'>
  private readonly log: Logger
  private readonly metrics?: RouterMetrics
  private readonly maxBatchBytes: number
  private readonly maxBatchFrames: number
  private readonly maxSignBatch: number
  /** Set while the drain loop gives producers a turn (see run()); ends that turn early. */
  private wake: (() => void) | undefined
  private readonly writeTimeoutMs: number
  private readonly peer?: string

  private running = false
  private scheduled = false
  private writing = false
  private loop?: Promise<void>
  private controller?: AbortController

  constructor(components: PeerWriterComponents<M>, init: PeerWriterInit = {}) {
    super()
    this.queues = components.queues
    this.write = components.write
    this.clock = components.clock ?? systemClock
    this.log = components.logger ?? noopLogger
    this.metrics = components.metrics
    this.maxBatchBytes = positive(init.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES, 'maxBatchBytes')
    this.maxBatchFrames = positive(init.maxBatchFrames ?? DEFAULT_MAX_BATCH_FRAMES, 'maxBatchFrames')
    this.maxSignBatch = init.maxSignBatch ?? DEFAULT_MAX_SIGN_BATCH
    // Receivers reject larger batches (DEFAULT_MAX_VERIFY_BATCH): refuse the config, not every message.
    if (!Number.isInteger(this.maxSignBatch) || this.maxSignBatch < 1 || this.maxSignBatch > DEFAULT_MAX_VERIFY_BATCH) {
      throw new InvalidConfigError('maxSignBatch', this.maxSignBatch, `an integer in 1..${DEFAULT_MAX_VERIFY_BATCH}`)
    }
    this.writeTimeoutMs = positive(init.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS, 'writeTimeoutMs')
    this.peer = init.peer
  }

  get isStarted(): boolean {
    return this.running
  }

  /** True while a write is in flight or scheduled. */
  get isBusy(): boolean {
    return this.writing || this.scheduled
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.controller = new AbortController()
    this.kick()
  }

  /**
   * Aborts the write in flight (its frames are reported in 'batch:failed') and waits for the drain
   * loop to end. Queued frames stay in the queues: take them with queues.takeAll().
   */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.controller?.abort(new AbortedError('peer writer stopped'))
    await this.loop
    this.controller = undefined
  }

  /** Queue a message and make sure the writer will drain it. */
  enqueue(frames: Frames, priority: Priority, meta: M): EnqueueResult {
    const result = this.queues.enqueue(frames, priority, meta)
    if (result.accepted) {
      this.kick()
      // A HIGH message, or enough frames to fill a signature, ends the producer turn at once.
      if (this.wake !== undefined && (priority === Priority.HIGH || this.queues.frames() >= this.maxSignBatch)) this.wake()
    }
    return result
  }

  /**
   * Schedule a drain. Deferred by a microtask so frames queued in the same tick share one write.
   * Does nothing while a drain is running: the loop takes new frames itself.
   */
  kick(): void {
    if (!this.running || this.scheduled || this.writing) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      if (!this.running || this.writing || this.queues.isEmpty) return
      this.writing = true
      this.loop = this.run()
    })
  }

  /** Resolves once nothing is in flight or scheduled (the queues may still hold frames if paused). */
  async whenIdle(): Promise<void> {
    while (this.scheduled || this.writing) {
      if (this.loop !== undefined) await this.loop
      else await Promise.resolve()
    }
  }

  private async run(): Promise<void> {
    try {
      let small = false
      while (this.running) {
        // After a batch too small to share a signature that emptied the queues, give producers one
        // turn of the event loop before taking the next: a caller awaiting each send() queues one
        // message per few microtasks, and without this each write would carry (and sign) about one
        // frame. Never while frames wait: a batch cut short by maxBatchBytes (a LOW flood of 16 KiB
        // frames) must not pay a turn per write, which put HIGH p99 under a flood at ~100 ms instead
        // of ~40 (bench P3, 2026-11-24). A HIGH enqueue ends the turn early (enqueue() calls wake).
        if (small) await this.producerTurn()
        if (!this.running) return
        const batch = this.queues.nextBatch(this.maxBatchBytes, this.maxBatchFrames, this.maxSignBatch)
        if (batch.length === 0) return
        small = batch.length < this.maxSignBatch && this.queues.isEmpty
        const ok = await this.writeBatch(batch)
        if (!ok) return
      }
    } finally {
      // Runs in the same tick as the empty nextBatch(): a kick() after it starts a new loop.
      this.writing = false
    }
  }

  /** One setImmediate, cut short by wake() (a HIGH enqueue or a full signing batch). */
  private async producerTurn(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setImmediate(() => {
        this.wake = undefined
        resolve()
      })
      this.wake = () => {
        clearImmediate(timer)
        this.wake = undefined
        resolve()
      }
    })
  }

  private async writeBatch(batch: Array<DrainedFrame<M>>): Promise<boolean> {
    const controller = this.controller as AbortController
    // One controller and one plain timer per write: AbortSignal.any + AbortSignal.timeout per write
    // were ~7% of a P2 sender's profile (dependent-signal bookkeeping and timer objects).
    const write = new AbortController()
    const onStop = (): void => write.abort(controller.signal.reason)
    if (controller.signal.aborted) onStop()
    else controller.signal.addEventListener('abort', onStop, { once: true })
    const timer = setTimeout(() => write.abort(new DOMException(`write took more than ${this.writeTimeoutMs} ms`, 'TimeoutError')), this.writeTimeoutMs)
    // Like AbortSignal.timeout: the timer alone never keeps the process alive.
    timer.unref?.()
    const startedAt = this.clock.now()
    try {
      await this.write(
        batch.map((f) => f.frame),
        { signal: write.signal },
      )
    } catch (error) {
      const aborted = controller.signal.aborted
      this.metrics?.writes.inc({ result: aborted ? 'aborted' : 'error' })
      this.log.warn({ peer: this.peer, frames: batch.length, err: error }, aborted ? 'write aborted' : 'write failed')
      this.safeDispatchEvent('batch:failed', { detail: { frames: batch, error } })
      return false
    } finally {
      clearTimeout(timer)
      controller.signal.removeEventListener('abort', onStop)
    }
    const now = this.clock.now()
    if (this.metrics !== undefined) {
      this.metrics.writes.inc({ result: 'ok' })
      this.metrics.batchFrames.observe(batch.length)
      this.metrics.writeDuration.observe((now - startedAt) / 1000)
      for (const f of batch) {
        const labels = { type: messageTypeLabel(typeOf(f.meta)), priority: priorityLabel(f.priority) }
        this.metrics.bytesOut.inc(labels, f.frame.byteLength)
        if (f.last) {
          this.metrics.messagesOut.inc(labels)
          this.metrics.queueLatency.observe({ priority: labels.priority }, Math.max(0, now - f.enqueuedAtMs) / 1000)
        }
      }
    }
    this.safeDispatchEvent('batch:sent', { detail: { frames: batch } })
    return true
  }
}

function typeOf(meta: FrameMeta | undefined): MessageType {
  // EVENT is what the router carries; frames without meta are counted as such.
  return meta?.type ?? MessageType.EVENT
}
