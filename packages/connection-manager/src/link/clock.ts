// Time seams: everything time-dependent in link/ takes a clock and a scheduler, so tests drive
// time by hand and never sleep.

/** Milliseconds, monotonic enough for intervals (Date.now by default). */
export type Clock = () => number

export interface TimerHandle {
  readonly __timer?: never
}

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const systemClock: Clock = () => Date.now()

export const systemScheduler: Scheduler = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms)
    // Link timers must never keep a process alive on their own.
    t.unref?.()
    return t as unknown as TimerHandle
  },
  clearTimeout(handle) {
    clearTimeout(handle as unknown as ReturnType<typeof setTimeout>)
  },
}
