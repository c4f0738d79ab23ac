import type { Clock, TimerHandle } from '../../src/clock.js'

/** A manual clock: time moves only through advance(), which runs due timers in order. */
export class FakeClock implements Clock {
  private nowMs: number
  private nextId = 1
  private readonly timers = new Map<number, { at: number; fn: () => void }>()

  constructor(startMs = 1_700_000_000_000) {
    this.nowMs = startMs
  }

  now(): number {
    return this.nowMs
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++
    this.timers.set(id, { at: this.nowMs + ms, fn })
    return id
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number)
  }

  get pendingTimers(): number {
    return this.timers.size
  }

  advance(ms: number): void {
    const until = this.nowMs + ms
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined
      for (const t of this.timers) if (t[1].at <= until && (next === undefined || t[1].at < next[1].at)) next = t
      if (next === undefined) break
      this.timers.delete(next[0])
      this.nowMs = next[1].at
      next[1].fn()
    }
    this.nowMs = until
  }
}
