// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and Jitter"):
// delay = random(0, min(cap, base * 2^attempt)). Full jitter spreads a crowd of peers that lost the
// same node, so they do not all come back in the same instant.
import { DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_CAP_MS, DEFAULT_BACKOFF_MAX_ATTEMPTS } from './constants.js'
import { InvalidConfigError } from './errors.js'
import type { RandomSource } from './clock.js'

export interface BackoffInit {
  /** Ceiling of the first delay, ms (default DEFAULT_BACKOFF_BASE_MS). */
  baseMs?: number
  /** No delay exceeds this, ms (default DEFAULT_BACKOFF_CAP_MS). */
  capMs?: number
  /** Attempts 0..maxAttempts-1 get a delay; after that, give up (default DEFAULT_BACKOFF_MAX_ATTEMPTS). */
  maxAttempts?: number
}

/** The upper bound of the delay of `attempt` (0-based): min(cap, base * 2^attempt). */
export function backoffCeiling(attempt: number, baseMs: number, capMs: number): number {
  // 2^attempt overflows to Infinity for large attempts; min() still gives the cap.
  return Math.min(capMs, baseMs * 2 ** attempt)
}

export function fullJitterDelay(attempt: number, baseMs: number, capMs: number, random: RandomSource): number {
  return Math.floor(random() * backoffCeiling(attempt, baseMs, capMs))
}

export class Backoff {
  readonly baseMs: number
  readonly capMs: number
  readonly maxAttempts: number
  readonly #random: RandomSource

  constructor(init: BackoffInit = {}, random: RandomSource = Math.random) {
    this.baseMs = init.baseMs ?? DEFAULT_BACKOFF_BASE_MS
    this.capMs = init.capMs ?? DEFAULT_BACKOFF_CAP_MS
    this.maxAttempts = init.maxAttempts ?? DEFAULT_BACKOFF_MAX_ATTEMPTS
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs) || !Number.isInteger(this.maxAttempts) || this.maxAttempts < 0) {
      throw new InvalidConfigError(`invalid backoff: base ${this.baseMs}, cap ${this.capMs}, maxAttempts ${this.maxAttempts}`)
    }
    this.#random = random
  }

  ceiling(attempt: number): number {
    return backoffCeiling(attempt, this.baseMs, this.capMs)
  }

  /** The delay before retry number `attempt` (0-based), or undefined once attempts are exhausted. */
  delay(attempt: number): number | undefined {
    if (attempt >= this.maxAttempts) return undefined
    return fullJitterDelay(attempt, this.baseMs, this.capMs, this.#random)
  }
}
