// Time, injectable: the manager schedules retries and timeouts only through a Clock so tests can
// drive them by hand instead of sleeping.

export type TimerHandle = unknown

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number
