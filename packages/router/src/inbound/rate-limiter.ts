// Per-peer inbound rate limits, checked before any expensive work (decoding aside: type and priority
// are two varints at the front of the frame). GCRA per (peer, message type, priority): the whole
// state of one limit is a single number, the theoretical arrival time (TAT), so a peer costs nine
// floats. A limit is `ratePerSec` with bursts of up to `burst` messages.
//
// The peer table is bounded (maxPeers) and kept in least-recently-seen order; the peer forgotten when
// it is full loses nothing but its history, and a peer that is idle long enough is back to a full
// burst anyway.
import { MessageType, Priority } from '@cpc/protocol'
import { systemClock, type Clock } from '../clock.js'
import { DEFAULT_RATE_LIMIT_MAX_PEERS } from '../constants.js'
import { InvalidConfigError, positive } from '../errors.js'
import type { RouterMetrics } from '../metrics.js'
import { assertPriority, messageTypeLabel, priorityLabel, type KnownPriority } from '../priority.js'

export interface RateLimit {
  /** Sustained messages per second. */
  ratePerSec: number
  /** Messages allowed back to back from a rested peer (>= 1). */
  burst: number
}

type KnownType = MessageType.EVENT | MessageType.DISCOVERY | MessageType.CONTROL
export type RateLimits = Record<KnownType, Record<KnownPriority, RateLimit>>
export type RateLimitsInit = Partial<Record<KnownType, Partial<Record<KnownPriority, RateLimit>>>>

/**
 * Defaults. HIGH jumps every queue, so it gets the smallest budget and a peer marking everything
 * HIGH is throttled first. DISCOVERY and CONTROL are protocol chatter (peer exchange, pings, acks):
 * a healthy peer sends a few per second at most.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  [MessageType.EVENT]: {
    [Priority.HIGH]: { ratePerSec: 20, burst: 40 },
    [Priority.MEDIUM]: { ratePerSec: 100, burst: 200 },
    [Priority.LOW]: { ratePerSec: 200, burst: 400 },
  },
  [MessageType.DISCOVERY]: {
    [Priority.HIGH]: { ratePerSec: 2, burst: 5 },
    [Priority.MEDIUM]: { ratePerSec: 5, burst: 20 },
    [Priority.LOW]: { ratePerSec: 10, burst: 50 },
  },
  [MessageType.CONTROL]: {
    [Priority.HIGH]: { ratePerSec: 20, burst: 50 },
    [Priority.MEDIUM]: { ratePerSec: 20, burst: 50 },
    [Priority.LOW]: { ratePerSec: 20, burst: 50 },
  },
}

export interface RateLimiterComponents {
  clock?: Pick<Clock, 'now'>
  metrics?: RouterMetrics
}

export interface RateLimiterInit {
  /** Overrides of DEFAULT_RATE_LIMITS, per type and priority. */
  limits?: RateLimitsInit
  /** Default DEFAULT_RATE_LIMIT_MAX_PEERS. */
  maxPeers?: number
}

export type RateLimitResult = { allowed: true } | { allowed: false; retryAfterMs: number }

const TYPES: readonly KnownType[] = [MessageType.EVENT, MessageType.DISCOVERY, MessageType.CONTROL]
const SLOTS = 9

export class RateLimiter {
  private readonly clock: Pick<Clock, 'now'>
  private readonly metrics?: RouterMetrics
  readonly maxPeers: number
  /** Per slot (type * 3 + priority): emission interval T = 1000 / rate, and tolerance T * burst. */
  private readonly interval = new Float64Array(SLOTS)
  private readonly tolerance = new Float64Array(SLOTS)
  /** peer → TAT per slot; Map order is least recently seen first. */
  private readonly peers = new Map<string, Float64Array>()
  private evictionCount = 0

  constructor(components: RateLimiterComponents = {}, init: RateLimiterInit = {}) {
    this.clock = components.clock ?? systemClock
    this.metrics = components.metrics
    this.maxPeers = Math.floor(positive(init.maxPeers ?? DEFAULT_RATE_LIMIT_MAX_PEERS, 'maxPeers'))
    for (const type of TYPES) {
      for (const priority of [Priority.LOW, Priority.MEDIUM, Priority.HIGH] as const) {
        const limit = init.limits?.[type]?.[priority] ?? DEFAULT_RATE_LIMITS[type][priority]
        const option = `limits.${messageTypeLabel(type)}.${priorityLabel(priority)}`
        positive(limit.ratePerSec, `${option}.ratePerSec`)
        if (!Number.isFinite(limit.burst) || limit.burst < 1) throw new InvalidConfigError(`${option}.burst`, limit.burst, '>= 1')
        const slot = type * 3 + priority
        this.interval[slot] = 1000 / limit.ratePerSec
        this.tolerance[slot] = this.interval[slot] * limit.burst
      }
    }
  }

  /** Peers whose state is kept. */
  get size(): number {
    return this.peers.size
  }

  get evictions(): number {
    return this.evictionCount
  }

  /**
   * Account one message (or `cost` messages) from `peer` and say whether it is within its limit. A
   * rejected message costs nothing, so a throttled peer regains budget at the configured rate.
   * Unknown message types are refused outright (retryAfterMs Infinity).
   */
  check(peer: string, type: MessageType, priority: Priority, cost = 1): RateLimitResult {
    assertPriority(priority)
    if (type !== MessageType.EVENT && type !== MessageType.DISCOVERY && type !== MessageType.CONTROL) {
      this.metrics?.rateLimited.inc({ type: 'unknown', priority: priorityLabel(priority) })
      return { allowed: false, retryAfterMs: Infinity }
    }
    const now = this.clock.now()
    const slot = type * 3 + priority
    const tats = this.touch(peer, now)
    const tat = Math.max(tats[slot], now)
    const next = tat + this.interval[slot] * cost
    const over = next - now - this.tolerance[slot]
    if (over > 0) {
      this.metrics?.rateLimited.inc({ type: messageTypeLabel(type), priority: priorityLabel(priority) })
      return { allowed: false, retryAfterMs: Math.ceil(over) }
    }
    tats[slot] = next
    return { allowed: true }
  }

  /** Forget a peer (e.g. on disconnect, when its budget should not outlive the connection). */
  delete(peer: string): void {
    if (this.peers.delete(peer)) this.metrics?.rateLimiterPeers.set(this.peers.size)
  }

  clear(): void {
    this.peers.clear()
    this.metrics?.rateLimiterPeers.set(0)
  }

  private touch(peer: string, now: number): Float64Array {
    let tats = this.peers.get(peer)
    if (tats !== undefined) {
      // Move to the most recently seen end.
      this.peers.delete(peer)
      this.peers.set(peer, tats)
      return tats
    }
    while (this.peers.size >= this.maxPeers) {
      this.peers.delete(this.peers.keys().next().value as string)
      this.evictionCount++
      this.metrics?.rateLimiterEvictions.inc()
    }
    tats = new Float64Array(SLOTS).fill(now)
    this.peers.set(peer, tats)
    this.metrics?.rateLimiterPeers.set(this.peers.size)
    return tats
  }
}
