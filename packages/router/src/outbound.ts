// Outbound: one PeerQueues + PeerWriter per peer, writing through the channel's send (which waits for
// the stream's 'drain'). Turns the writers' frame-level events into message-level ones the router
// acts on: a message fully written, messages whose write failed (for the outbox), messages shed.
import { TypedEventEmitter, type PeerId } from '@libp2p/interface'
import { Priority, type MessageType } from '@cpc/protocol'
import type { Clock } from './clock.js'
import type { Logger } from './logger.js'
import type { RouterMetrics } from './metrics.js'
import type { Frames } from './outbound/frame-source.js'
import { PeerQueues, type EnqueueResult, type PeerQueuesInit } from './outbound/peer-queues.js'
import { PeerWriter, type PeerWriterInit } from './outbound/peer-writer.js'
import type { KnownPriority } from './priority.js'
import { forwardAwarePolicy } from './shedding/forward-policy.js'
import type { DropReason, ShedPolicy } from './shedding/shed-policy.js'
import type { RouterChannel } from './types.js'

/** One message on its way out: its encoded frames and what the router must do if it does not leave. */
export interface OutboundJob {
  readonly peer: PeerId
  readonly nonce: bigint
  /** Built frames, or a source that signs each as the writer takes it (a direct send's chunks). */
  readonly frames: Frames
  readonly priority: KnownPriority
  readonly type: MessageType
  /** ms since the epoch, 0 = never. */
  readonly expiresAtMs: number
  /** Accepted by send(): persisted on failure, reported when shed (broadcast copies are not). */
  readonly owned: boolean
  /**
   * A copy of another node's broadcast All passed on (Broadcaster.forward): never shed for
   * event-loop delay (shedding/forward-policy.ts); counted and announced when dropped.
   */
  readonly forward?: boolean
  /** Set when the job came from the outbox: remove it there once written. */
  readonly outboxId?: string
}

interface Meta {
  type: MessageType
  job: OutboundJob
}

export interface OutboundEvents {
  /** The job's last frame was written. */
  'job:sent': CustomEvent<OutboundJob>
  /** A write to the peer failed: these jobs (the failed ones and everything queued behind) left the queues unsent. */
  'job:failed': CustomEvent<{ peer: PeerId; jobs: OutboundJob[]; error: unknown }>
  /** A queued job was shed to make room (or, with incoming, the job being enqueued was). */
  'job:shed': CustomEvent<{ job: OutboundJob; reason: DropReason; incoming: boolean }>
  /** A broadcast forward did not go out to `peer` (shed, or refused as its queue was full). */
  'forward:dropped': CustomEvent<ForwardDroppedDetail>
}

export interface ForwardDroppedDetail {
  peer: PeerId
  nonce: bigint
  priority: KnownPriority
  reason: DropReason
}

export interface OutboundComponents {
  channel: Pick<RouterChannel, 'send'>
  clock: Clock
  logger: Logger
  metrics?: RouterMetrics
  shedPolicy?: ShedPolicy
}

export interface OutboundInit {
  queues?: PeerQueuesInit
  writer?: Omit<PeerWriterInit, 'peer'>
}

interface PeerOut {
  peer: PeerId
  queues: PeerQueues<Meta>
  writer: PeerWriter<Meta>
}

export class Outbound extends TypedEventEmitter<OutboundEvents> {
  private readonly c: OutboundComponents
  private readonly init: OutboundInit
  private readonly peers = new Map<string, PeerOut>()
  private readonly stopping = new Set<Promise<void>>()
  private readonly sheds = new Counts()
  private readonly forwardDrops = new Counts()
  private readonly shedPolicy?: ShedPolicy
  private incoming?: OutboundJob
  private running = false

  constructor(components: OutboundComponents, init: OutboundInit = {}) {
    super()
    this.c = components
    this.init = init
    // The queues ask the policy only while enqueue() queues `incoming`, so that is the job it is about.
    const base = components.shedPolicy
    this.shedPolicy = base === undefined ? undefined : forwardAwarePolicy(base, () => this.incoming?.forward === true)
  }

  start(): void {
    this.running = true
  }

  /** Stops every writer (aborting writes in flight) and returns every job not yet written. */
  async stop(): Promise<OutboundJob[]> {
    this.running = false
    const jobs: OutboundJob[] = []
    for (const key of [...this.peers.keys()]) jobs.push(...this.release(key))
    await Promise.all([...this.stopping])
    return jobs
  }

  /**
   * Queues a job on its peer's queues. Returns the queues' answer (a LOW/MEDIUM job may be shed);
   * throws QueueFullError for a HIGH job that cannot fit.
   */
  enqueue(job: OutboundJob): EnqueueResult {
    const out = this.peerOut(job.peer)
    this.incoming = job
    try {
      return out.writer.enqueue(job.frames, job.priority, { type: job.type, job })
    } finally {
      this.incoming = undefined
    }
  }

  /** Takes the peer's queued jobs out (e.g. it disconnected) and stops its writer. */
  release(peerKey: string): OutboundJob[] {
    const out = this.peers.get(peerKey)
    if (out === undefined) return []
    this.peers.delete(peerKey)
    const jobs = unique(out.queues.takeAll().map((m) => m.meta.job))
    const stopping = out.writer.stop().catch(() => {})
    this.stopping.add(stopping)
    void stopping.finally(() => this.stopping.delete(stopping))
    return jobs
  }

  /** Messages queued (all peers), by priority. */
  depth(): { high: number; medium: number; low: number } {
    let high = 0
    let medium = 0
    let low = 0
    for (const { queues } of this.peers.values()) {
      high += queues.messages(Priority.HIGH)
      medium += queues.messages(Priority.MEDIUM)
      low += queues.messages(Priority.LOW)
    }
    return { high, medium, low }
  }

  /** Bytes queued, all peers together. */
  bytes(): number {
    let n = 0
    for (const { queues } of this.peers.values()) n += queues.bytes()
    return n
  }

  /** Shed counts of every peer's queues, by reason. */
  shedCount(reason?: DropReason): number {
    return this.sheds.get(reason ?? '*')
  }

  /** Broadcast forwards dropped (all peers), by reason ('*' or none = all). */
  forwardDropCount(reason?: DropReason): number {
    return this.forwardDrops.get(reason ?? '*')
  }

  /** Records a forward that did not go out (the queues' sheds come here too); emits 'forward:dropped'. */
  forwardDropped(job: OutboundJob, reason: DropReason): void {
    this.forwardDrops.add(reason)
    this.c.metrics?.forwardDropped.inc({ reason })
    this.safeDispatchEvent('forward:dropped', { detail: { peer: job.peer, nonce: job.nonce, priority: job.priority, reason } })
  }

  async whenIdle(): Promise<void> {
    await Promise.all([...this.peers.values()].map(async ({ writer }) => writer.whenIdle()))
  }

  private peerOut(peer: PeerId): PeerOut {
    const key = peer.toString()
    let out = this.peers.get(key)
    if (out !== undefined) return out
    const queues = new PeerQueues<Meta>({ clock: this.c.clock, metrics: this.c.metrics, shedPolicy: this.shedPolicy }, this.init.queues)
    const writer = new PeerWriter<Meta>(
      {
        queues,
        write: async (frames, options) => this.c.channel.send(peer, frames, options),
        clock: this.c.clock,
        logger: this.c.logger,
        metrics: this.c.metrics,
      },
      { ...this.init.writer, peer: key },
    )
    queues.addEventListener('shed', (evt) => {
      const { message, reason } = evt.detail
      this.sheds.add(reason)
      const job = message.meta.job
      if (job.forward === true) this.forwardDropped(job, reason)
      this.safeDispatchEvent('job:shed', { detail: { job, reason, incoming: job === this.incoming } })
    })
    writer.addEventListener('batch:sent', (evt) => {
      for (const f of evt.detail.frames) if (f.last) this.safeDispatchEvent('job:sent', { detail: f.meta.job })
    })
    writer.addEventListener('batch:failed', (evt) => {
      // The writer has paused; everything still queued for this peer goes back to the router with
      // the failed frames' messages (each once, whole: receivers dedup chunks they already have).
      const failed = unique(evt.detail.frames.map((f) => f.meta.job))
      if (this.peers.get(key) === out) this.peers.delete(key)
      const rest = queues.takeAll().map((m) => m.meta.job)
      const jobs = unique([...failed, ...rest])
      for (const job of jobs) if (job.forward === true) this.forwardDropped(job, 'write_failed')
      const stopping = writer.stop().catch(() => {})
      this.stopping.add(stopping)
      void stopping.finally(() => this.stopping.delete(stopping))
      this.safeDispatchEvent('job:failed', { detail: { peer, jobs, error: evt.detail.error } })
    })
    out = { peer, queues, writer }
    this.peers.set(key, out)
    if (this.running) writer.start()
    return out
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}

/** Shed counts, by reason ('*' = all), outliving any one peer's queues. */
class Counts {
  private readonly m = new Map<string, number>()
  add(reason: string): void {
    this.m.set(reason, (this.m.get(reason) ?? 0) + 1)
    this.m.set('*', (this.m.get('*') ?? 0) + 1)
  }
  get(reason: string): number {
    return this.m.get(reason) ?? 0
  }
}
