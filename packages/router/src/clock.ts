// Time, injectable: every time-dependent piece of the router reads the clock through this interface
// so tests drive it by hand instead of sleeping.

export type TimerHandle = unknown

export interface Clock {
  /** Milliseconds; only differences matter except for the outbox, which stores wall-clock expiries. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}
