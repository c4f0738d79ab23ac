// When lost peers are dialled again: a backoff delay per attempt, the bounded retry queue to order
// due retries, one timer (on the injected clock) for the earliest due entry, and a cap on retry
// dials in flight.
import { PeerState, Priority } from '@cpc/protocol'
import { Backoff, type BackoffInit } from './backoff.js'
import type { Clock, RandomSource, TimerHandle } from './clock.js'
import { DEFAULT_MAX_CONCURRENT_RETRIES } from './constants.js'
import { RetryQueueFullError } from './errors.js'
import type { Logger } from './logger.js'
import type { ConnectionManagerMetrics } from './metrics.js'
import type { PeerRecord } from './peer-record.js'
import { RetryQueue } from './retry-queue.js'

/** What the scheduler needs from the manager. */
export interface RetryHost {
  /** The peer's record, if it is still tracked. */
  peer(id: string): PeerRecord | undefined
  score(id: string): number
  /** Starts a retry dial of a Disconnected peer; settles when the dial does. */
  dial(rec: PeerRecord): Promise<void>
  /** A peer whose queued retry was evicted by a higher-ranked one (the manager may forget it). */
  evicted(rec: PeerRecord): void
}

export interface RetrySchedulerComponents {
  clock: Clock
  metrics: ConnectionManagerMetrics
  logger: Logger
  random?: RandomSource
}

export interface RetrySchedulerInit {
  backoff?: BackoffInit
  retryQueueCapacity?: number
  maxConcurrentRetries?: number
}

export class RetryScheduler {
  readonly #host: RetryHost
  readonly #clock: Clock
  readonly #metrics: ConnectionManagerMetrics
  readonly #log: Logger
  readonly #backoff: Backoff
  readonly #queue: RetryQueue
  readonly #maxConcurrentRetries: number
  #timer: TimerHandle | undefined
  #inFlight = 0
  #running = false

  constructor(host: RetryHost, components: RetrySchedulerComponents, init: RetrySchedulerInit = {}) {
    this.#host = host
    this.#clock = components.clock
    this.#metrics = components.metrics
    this.#log = components.logger
    this.#backoff = new Backoff(init.backoff, components.random)
    this.#queue = new RetryQueue({ capacity: init.retryQueueCapacity })
    this.#maxConcurrentRetries = init.maxConcurrentRetries ?? DEFAULT_MAX_CONCURRENT_RETRIES
  }

  start(): void {
    this.#running = true
  }

  /** Clears the timer and the queue; dials in flight are the manager's to abort. */
  stop(): void {
    this.#running = false
    if (this.#timer != null) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#queue.clear()
    this.#metrics.retryQueueSize.set(0)
  }

  has(id: string): boolean {
    return this.#queue.has(id)
  }

  /** Drops the peer's queued retry, if any. */
  remove(id: string): void {
    if (this.#queue.remove(id)) this.#metrics.retryQueueSize.set(this.#queue.size)
  }

  setHighTraffic(id: string, highTraffic: boolean): void {
    this.#queue.update(id, { highTraffic })
  }

  /** Queues the peer's next retry after a backoff delay, or gives up once the attempts run out. */
  schedule(rec: PeerRecord): void {
    const attempt = rec.retryAttempt
    const delay = this.#backoff.delay(attempt)
    if (delay == null) {
      this.#log.info({ peer: rec.id, attempts: attempt }, 'giving up retries')
      this.#metrics.retries.inc({ outcome: 'given_up' })
      rec.keep = false
      rec.retryAttempt = 0
      return
    }
    rec.retryAttempt = attempt + 1
    try {
      const evicted = this.#queue.push({ peerId: rec.id, dueAt: this.#clock.now() + delay, attempt, highTraffic: rec.highTraffic || rec.priority === Priority.HIGH, score: this.#host.score(rec.id) })
      if (evicted != null) {
        this.#metrics.retries.inc({ outcome: 'evicted' })
        const other = this.#host.peer(evicted.peerId)
        if (other != null) this.#host.evicted(other)
      }
    } catch (err) {
      if (!(err instanceof RetryQueueFullError)) throw err
      this.#metrics.retries.inc({ outcome: 'dropped' })
      this.#log.warn({ peer: rec.id }, 'retry queue full, retry dropped')
      return
    }
    this.#metrics.retries.inc({ outcome: 'scheduled' })
    this.#metrics.backoffDelay.observe(delay / 1000)
    this.#metrics.retryQueueSize.set(this.#queue.size)
    this.#arm()
  }

  #arm(): void {
    if (this.#timer != null) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    const next = this.#queue.nextDueAt()
    // With every retry slot busy, the next finishing dial re-arms the timer.
    if (!this.#running || next == null || this.#inFlight >= this.#maxConcurrentRetries) return
    this.#timer = this.#clock.setTimeout(() => this.#runDue(), Math.max(0, next - this.#clock.now()))
  }

  #runDue(): void {
    this.#timer = undefined
    this.#queue.rescore((id) => this.#host.score(id))
    const due = this.#queue.takeDue(this.#clock.now(), this.#maxConcurrentRetries - this.#inFlight)
    this.#metrics.retryQueueSize.set(this.#queue.size)
    for (const entry of due) {
      const rec = this.#host.peer(entry.peerId)
      if (rec == null || rec.state !== PeerState.PEER_STATE_DISCONNECTED) continue
      this.#inFlight++
      this.#host
        .dial(rec)
        .catch(() => {})
        .finally(() => {
          this.#inFlight--
          this.#arm()
        })
    }
    this.#arm()
  }
}
