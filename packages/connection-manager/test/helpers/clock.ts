// A manual clock: timers fire only when a test advances time.
import type { Clock, TimerHandle } from '../../src/clock.js'

interface Timer {
  id: number
  at: number
  fn: () => void
}

export class ManualClock implements Clock {
  #now: number
  #nextId = 1
  #timers = new Map<number, Timer>()

  constructor(start = 1_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn })
    return id
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number)
  }

  get pending(): number {
    return this.#timers.size
  }

  /** Time of the earliest pending timer. */
  nextAt(): number | undefined {
    let next: number | undefined
    for (const t of this.#timers.values()) if (next == null || t.at < next) next = t.at
    return next
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms
    while (true) {
      const due = [...this.#timers.values()].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (due == null) break
      this.#timers.delete(due.id)
      this.#now = Math.max(this.#now, due.at)
      due.fn()
    }
    this.#now = target
  }

  /** Jumps to the earliest pending timer and fires it (and any due at the same time). */
  runNext(): void {
    const at = this.nextAt()
    if (at != null) this.advance(Math.max(0, at - this.#now))
  }
}

/** Deterministic uniform [0,1) source (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
