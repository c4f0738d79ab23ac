// Inbound dedup: a bounded, time-windowed set of (origin, nonce) pairs. A Map keeps insertion order,
// and every entry lives for the same window from its first sighting, so insertion order is expiry
// order: expired entries are pruned from the front, and when the set is full the oldest entry goes
// first. seen() is O(1) amortized; memory is bounded by maxEntries.
//
// Guarantee: a pair is reported as seen for the whole window after its first sighting, unless more
// than maxEntries distinct pairs arrived within that window (then the oldest were forgotten early;
// cpc_router_dedup_evictions_total counts them). Size maxEntries for the expected rate × window.
import { systemClock, type Clock } from '../clock.js'
import { DEFAULT_DEDUP_MAX_ENTRIES, DEFAULT_DEDUP_WINDOW_MS } from '../constants.js'
import { positive } from '../errors.js'
import type { RouterMetrics } from '../metrics.js'

export interface DedupCacheComponents {
  clock?: Pick<Clock, 'now'>
  metrics?: RouterMetrics
}

export interface DedupCacheInit {
  /** Default DEFAULT_DEDUP_WINDOW_MS. */
  windowMs?: number
  /** Default DEFAULT_DEDUP_MAX_ENTRIES. */
  maxEntries?: number
}

export class DedupCache {
  private readonly clock: Pick<Clock, 'now'>
  private readonly metrics?: RouterMetrics
  readonly windowMs: number
  readonly maxEntries: number
  /** key → expiry time (ms). */
  private readonly entries = new Map<string, number>()
  private evictionCount = 0

  constructor(components: DedupCacheComponents = {}, init: DedupCacheInit = {}) {
    this.clock = components.clock ?? systemClock
    this.metrics = components.metrics
    this.windowMs = positive(init.windowMs ?? DEFAULT_DEDUP_WINDOW_MS, 'windowMs')
    this.maxEntries = Math.floor(positive(init.maxEntries ?? DEFAULT_DEDUP_MAX_ENTRIES, 'maxEntries'))
  }

  get size(): number {
    return this.entries.size
  }

  /** Entries forgotten before their window ended because the set was full. */
  get evictions(): number {
    return this.evictionCount
  }

  /**
   * Whether (origin, nonce) was seen within the window; records it if not. A hit does not extend the
   * window, so a replaying peer cannot keep an entry alive forever.
   */
  seen(origin: Uint8Array, nonce: bigint | number): boolean {
    const now = this.clock.now()
    this.prune(now)
    const key = dedupKey(origin, nonce)
    const expiresAt = this.entries.get(key)
    if (expiresAt !== undefined && expiresAt > now) {
      this.metrics?.dedupHits.inc()
      return true
    }
    if (expiresAt !== undefined) this.entries.delete(key)
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
      this.evictionCount++
      this.metrics?.dedupEvictions.inc()
    }
    this.entries.set(key, now + this.windowMs)
    this.metrics?.dedupSize.set(this.entries.size)
    return false
  }

  /** Whether (origin, nonce) is in the window, without recording it. */
  has(origin: Uint8Array, nonce: bigint | number): boolean {
    const expiresAt = this.entries.get(dedupKey(origin, nonce))
    return expiresAt !== undefined && expiresAt > this.clock.now()
  }

  clear(): void {
    this.entries.clear()
    this.metrics?.dedupSize.set(0)
  }

  private prune(now: number): void {
    let pruned = false
    for (const [key, expiresAt] of this.entries) {
      // A clock step backwards can leave a later entry earlier than one before it; stopping at the
      // first live entry only delays pruning, it never forgets a live one.
      if (expiresAt > now) break
      this.entries.delete(key)
      pruned = true
    }
    if (pruned) this.metrics?.dedupSize.set(this.entries.size)
  }
}

/** origin bytes (latin1, one char per byte, no allocation per byte) + nonce. */
function dedupKey(origin: Uint8Array, nonce: bigint | number): string {
  return `${Buffer.from(origin.buffer, origin.byteOffset, origin.byteLength).toString('latin1')}/${BigInt(nonce).toString(36)}`
}
