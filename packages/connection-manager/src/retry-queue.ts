// Peers waiting for a retry dial. Bounded; one entry per peer. Among the entries that are due, HIGH
// traffic peers go first, then higher scores, then the longest overdue. When full, a new entry
// replaces the lowest-ranked one, or is refused if it ranks lowest itself.
import { DEFAULT_RETRY_QUEUE_CAPACITY } from './constants.js'
import { InvalidConfigError, RetryQueueFullError } from './errors.js'

export interface RetryEntry {
  peerId: string
  /** Clock time at which the retry may start, ms. */
  dueAt: number
  /** 0-based retry number (the backoff attempt that produced dueAt). */
  attempt: number
  /** Peers with HIGH-priority traffic waiting for them. */
  highTraffic: boolean
  /** Composite score in 0..1 at the time of the last rescore. */
  score: number
}

/** Negative when `a` should be retried before `b`. Due time breaks ties, then peer id. */
export function compareRetryEntries(a: RetryEntry, b: RetryEntry): number {
  if (a.highTraffic !== b.highTraffic) return a.highTraffic ? -1 : 1
  if (a.score !== b.score) return b.score - a.score
  if (a.dueAt !== b.dueAt) return a.dueAt - b.dueAt
  return a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0
}

export class RetryQueue {
  readonly capacity: number
  readonly #entries = new Map<string, RetryEntry>()

  constructor(init: { capacity?: number } = {}) {
    this.capacity = init.capacity ?? DEFAULT_RETRY_QUEUE_CAPACITY
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new InvalidConfigError(`invalid retry queue capacity ${this.capacity}`)
  }

  get size(): number {
    return this.#entries.size
  }

  has(peerId: string): boolean {
    return this.#entries.has(peerId)
  }

  get(peerId: string): RetryEntry | undefined {
    return this.#entries.get(peerId)
  }

  /**
   * Adds or replaces the entry of `entry.peerId`. Returns the entry evicted to make room, if any.
   * Throws RetryQueueFullError when the queue is full and the new entry would rank last.
   */
  push(entry: RetryEntry): RetryEntry | undefined {
    if (this.#entries.has(entry.peerId) || this.#entries.size < this.capacity) {
      this.#entries.set(entry.peerId, { ...entry })
      return undefined
    }
    const worst = this.#worst()
    if (worst == null || compareRetryEntries(entry, worst) >= 0) throw new RetryQueueFullError(this.capacity)
    this.#entries.delete(worst.peerId)
    this.#entries.set(entry.peerId, { ...entry })
    return worst
  }

  remove(peerId: string): boolean {
    return this.#entries.delete(peerId)
  }

  /** Updates the ranking fields of a queued peer (no-op when it is not queued). */
  update(peerId: string, patch: Partial<Pick<RetryEntry, 'highTraffic' | 'score'>>): void {
    const entry = this.#entries.get(peerId)
    if (entry != null) Object.assign(entry, patch)
  }

  /** Refreshes every entry's score, e.g. before taking the due ones. */
  rescore(score: (peerId: string) => number): void {
    for (const entry of this.#entries.values()) entry.score = score(entry.peerId)
  }

  /** Earliest due time, or undefined when empty. */
  nextDueAt(): number | undefined {
    let next: number | undefined
    for (const entry of this.#entries.values()) if (next == null || entry.dueAt < next) next = entry.dueAt
    return next
  }

  /** Removes and returns up to `max` due entries (dueAt <= now), best first. */
  takeDue(now: number, max = Infinity): RetryEntry[] {
    const due = [...this.#entries.values()].filter((e) => e.dueAt <= now).sort(compareRetryEntries)
    const taken = due.slice(0, Math.max(0, max))
    for (const entry of taken) this.#entries.delete(entry.peerId)
    return taken
  }

  clear(): void {
    this.#entries.clear()
  }

  #worst(): RetryEntry | undefined {
    let worst: RetryEntry | undefined
    for (const entry of this.#entries.values()) if (worst == null || compareRetryEntries(entry, worst) > 0) worst = entry
    return worst
  }
}
