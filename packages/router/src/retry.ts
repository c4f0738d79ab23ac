// Retry through the persistent outbox, at least once: a message that cannot go now is put in the
// outbox; when the connection manager reports its peer Connected the entries are listed (HIGH first)
// and queued, and each is removed only once its last frame was written (listFor → deliver → remove).
// A crash between the write and the remove sends it again; receivers drop the copy by (origin, nonce).
// Entries expire on a timer on the injected clock, each reported as 'message:expired'.
import type { PeerId } from '@libp2p/interface'
import { Priority } from '@cpc/protocol'
import type { Clock, TimerHandle } from './clock.js'
import { OutboxFullError, QueueFullError } from './errors.js'
import type { Logger } from './logger.js'
import type { RouterMetrics } from './metrics.js'
import type { Outbound, OutboundJob } from './outbound.js'
import { materialize } from './outbound/frame-source.js'
import type { Outbox, OutboxEntry } from './outbox/outbox.js'
import { priorityLabel } from './priority.js'
import type { MessageExpiredDetail, RouterConnections } from './types.js'

export interface RetryComponents {
  outbox: Outbox
  outbound: Outbound
  connectionManager: Pick<RouterConnections, 'state' | 'markHighTraffic'>
  clock: Clock
  logger: Logger
  metrics?: RouterMetrics
  /** Resolves a peer id string back to a PeerId (the outbox keys peers by string). */
  peerFromString(peer: string): PeerId
  /** Reports a message that will not be delivered. */
  expired(detail: MessageExpiredDetail): void
  /** Whether the peer is connected (so its outbox can be flushed now). */
  isConnected(peer: PeerId): boolean
}

export interface RetryInit {
  expireIntervalMs: number
  flushBatch: number
  retryDelayMs: number
}

export class Retry {
  private readonly c: RetryComponents
  private readonly init: RetryInit
  /** Outbox ids queued in memory right now (so a second flush does not queue them twice). */
  private readonly inFlight = new Map<string, string>()
  private readonly flushing = new Map<string, Promise<void>>()
  private readonly again = new Set<string>()
  private readonly retryTimers = new Map<string, TimerHandle>()
  private expireTimer?: TimerHandle
  private expiring?: Promise<void>
  private running = false
  private readonly pending = new Set<Promise<unknown>>()
  private readonly persisted = new WeakSet<OutboundJob>()

  constructor(components: RetryComponents, init: RetryInit) {
    this.c = components
    this.init = init
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.scheduleExpire()
    // Entries left by a previous run: flush those whose peer is connected already; the rest wait for
    // their peer's Connected.
    for (const peer of this.c.outbox.peers()) this.flushIfConnected(peer)
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.expireTimer !== undefined) this.c.clock.clearTimeout(this.expireTimer)
    this.expireTimer = undefined
    for (const t of this.retryTimers.values()) this.c.clock.clearTimeout(t)
    this.retryTimers.clear()
    await this.expiring
    await Promise.all([...this.flushing.values()])
    await Promise.all([...this.pending])
    this.inFlight.clear()
  }

  /**
   * Stores a message for later; false (and a 'message:expired') when the outbox refuses it, or with
   * throwOnFull the OutboxFullError (send() tells its caller instead). A job is stored at most once.
   */
  async persist(job: OutboundJob, options: { throwOnFull?: boolean } = {}): Promise<boolean> {
    if (this.persisted.has(job)) return true
    this.persisted.add(job)
    const peer = job.peer.toString()
    try {
      await this.c.outbox.put(peer, { frames: materialize(job.frames), priority: job.priority, expiresAtMs: job.expiresAtMs, nonce: job.nonce, type: job.type })
    } catch (err) {
      this.persisted.delete(job)
      if (!(err instanceof OutboxFullError) || options.throwOnFull === true) throw err
      this.c.metrics?.dropped.inc({ reason: 'queue_full', priority: priorityLabel(job.priority) })
      this.c.expired({ peer, nonce: job.nonce, reason: 'outbox_full' })
      return false
    }
    if (job.priority === Priority.HIGH) this.c.connectionManager.markHighTraffic(job.peer, true)
    return true
  }

  /** Jobs that did not leave (write failed, peer gone, router stopping): owned ones go to the outbox. */
  async requeue(peer: PeerId, jobs: OutboundJob[]): Promise<void> {
    const work = (async () => {
      for (const job of jobs) {
        if (job.outboxId !== undefined) this.inFlight.delete(job.outboxId)
        else if (job.owned) await this.persist(job)
        else this.c.metrics?.dropped.inc({ reason: 'write_failed', priority: priorityLabel(job.priority) })
      }
    })()
    await this.track(work)
    if (this.running && this.c.isConnected(peer)) this.scheduleRetry(peer.toString())
  }

  /** A queued job was written: an outbox job leaves the outbox now. */
  sent(job: OutboundJob): void {
    if (job.outboxId === undefined) return
    const id = job.outboxId
    const peer = job.peer.toString()
    void this.track(
      (async () => {
        await this.c.outbox.remove(id).catch((err: unknown) => this.c.logger.warn({ err, peer }, 'outbox remove failed'))
        this.inFlight.delete(id)
        if (this.c.outbox.size(peer) === 0) this.c.connectionManager.markHighTraffic(job.peer, false)
        else if (this.inFlightFor(peer) === 0) this.flushIfConnected(peer)
      })(),
    )
  }

  /** A queued outbox job was shed: it leaves the outbox and is reported (the caller reports the event). */
  async dropped(job: OutboundJob): Promise<void> {
    if (job.outboxId === undefined) return
    this.inFlight.delete(job.outboxId)
    await this.track(this.c.outbox.remove(job.outboxId).catch(() => false))
  }

  /** The peer is Connected: queue its outbox entries (in batches of flushBatch). */
  flushIfConnected(peer: string): void {
    if (!this.running || this.c.outbox.size(peer) === 0) return
    const id = this.c.peerFromString(peer)
    if (!this.c.isConnected(id)) return
    if (this.flushing.has(peer)) {
      this.again.add(peer)
      return
    }
    const run = this.flush(id, peer).finally(() => {
      this.flushing.delete(peer)
      if (this.again.delete(peer)) this.flushIfConnected(peer)
    })
    this.flushing.set(peer, run)
  }

  private async flush(id: PeerId, peer: string): Promise<void> {
    let entries: OutboxEntry[]
    try {
      entries = await this.c.outbox.listFor(peer, { limit: this.init.flushBatch + this.inFlightFor(peer) })
    } catch (err) {
      this.c.logger.warn({ err, peer }, 'outbox list failed')
      return
    }
    for (const entry of entries) {
      if (!this.running) return
      if (this.inFlight.has(entry.id)) continue
      this.inFlight.set(entry.id, peer)
      const job: OutboundJob = {
        peer: id,
        nonce: entry.nonce,
        frames: entry.frames,
        priority: entry.priority,
        type: entry.type,
        expiresAtMs: entry.expiresAtMs,
        owned: true,
        outboxId: entry.id,
      }
      try {
        this.c.outbound.enqueue(job)
      } catch (err) {
        // HIGH that does not fit now: it stays in the outbox for the next flush.
        this.inFlight.delete(entry.id)
        if (!(err instanceof QueueFullError)) throw err
        this.scheduleRetry(peer)
        return
      }
    }
  }

  private inFlightFor(peer: string): number {
    let n = 0
    for (const p of this.inFlight.values()) if (p === peer) n++
    return n
  }

  private scheduleRetry(peer: string): void {
    if (!this.running || this.retryTimers.has(peer)) return
    this.retryTimers.set(
      peer,
      this.c.clock.setTimeout(() => {
        this.retryTimers.delete(peer)
        this.flushIfConnected(peer)
      }, this.init.retryDelayMs),
    )
  }

  private scheduleExpire(): void {
    if (!this.running) return
    this.expireTimer = this.c.clock.setTimeout(() => {
      this.expireTimer = undefined
      this.expiring = this.expireNow().then(
        () => undefined,
        () => undefined,
      )
      void this.expiring.finally(() => {
        this.expiring = undefined
        this.scheduleExpire()
      })
    }, this.init.expireIntervalMs)
  }

  /** Removes and reports every expired outbox entry. */
  async expireNow(): Promise<number> {
    if (!this.c.outbox.isOpen) return 0
    let entries: OutboxEntry[]
    try {
      entries = await this.c.outbox.expire(this.c.clock.now())
    } catch (err) {
      this.c.logger.warn({ err }, 'outbox expire failed')
      return 0
    }
    for (const e of entries) {
      this.inFlight.delete(e.id)
      this.c.metrics?.dropped.inc({ reason: 'expired', priority: priorityLabel(e.priority) })
      this.c.expired({ peer: e.peer, nonce: e.nonce, reason: 'expired' })
    }
    return entries.length
  }

  private async track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p)
    try {
      return await p
    } finally {
      this.pending.delete(p)
    }
  }
}
