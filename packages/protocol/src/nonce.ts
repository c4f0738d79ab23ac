import { NONCE_COUNTER_BITS } from './constants.js'
import { InvalidArgumentError } from './errors.js'

export interface NonceGeneratorComponents {
  /** Milliseconds since the Unix epoch (default Date.now). */
  clock?: () => number
}

export interface NonceGeneratorInit {
  /**
   * The last nonce issued by a previous run of this identity, if persisted: the generator never
   * issues a nonce at or below it, even if the clock went back across the restart.
   */
  lastNonce?: bigint
}

const SHIFT = BigInt(NONCE_COUNTER_BITS)
const MAX_UINT64 = (1n << 64n) - 1n

/**
 * Nonces unique per origin, also across restarts: nonce = max(previous + 1, now_ms << 20).
 *
 * The high 44 bits are a millisecond timestamp and the low 20 bits a counter, so up to 2^20 nonces
 * per millisecond are issued without running ahead of the clock. If the clock steps back, or more
 * than 2^20 nonces are needed in one millisecond, the generator keeps counting from the previous
 * nonce (strictly increasing). A restarted process starts at its clock, which is past every nonce
 * issued before as long as the previous run did not run ahead of real time (it cannot, unless it
 * sustained > 10^9 nonces per second) and the clock did not go back across the restart (persist
 * the last nonce and pass it as `lastNonce` to cover that too).
 */
export class NonceGenerator {
  private readonly clock: () => number
  private last: bigint

  constructor(components: NonceGeneratorComponents = {}, init: NonceGeneratorInit = {}) {
    this.clock = components.clock ?? Date.now
    this.last = init.lastNonce ?? 0n
    if (this.last < 0n || this.last >= MAX_UINT64) throw new InvalidArgumentError('lastNonce out of range')
  }

  /** The next nonce: strictly greater than every nonce this generator issued before. */
  next(): bigint {
    const now = Math.max(0, Math.floor(this.clock()))
    const fromClock = BigInt(now) << SHIFT
    const nonce = fromClock > this.last ? fromClock : this.last + 1n
    if (nonce > MAX_UINT64) throw new InvalidArgumentError('Nonce space exhausted')
    this.last = nonce
    return nonce
  }

  /** The last nonce issued (persist it to survive a clock that goes back across restarts). */
  get lastNonce(): bigint {
    return this.last
  }
}

/** The millisecond timestamp a nonce was derived from (approximate if the generator ran ahead). */
export function nonceTimestampMs(nonce: bigint): number {
  return Number(nonce >> SHIFT)
}
