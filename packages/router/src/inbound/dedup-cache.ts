// Inbound dedup: a bounded, time-windowed set of (origin, nonce) pairs. Every entry lives for the same
// window from its first sighting, so insertion order is expiry order: a ring of (key, expiry) in
// insertion order beside the Map lets expired entries be pruned from the front, and the oldest go
// first when the set is full. seen() is O(1); memory is bounded by maxEntries.
//
// Why a ring and not the Map's own order: V8 leaves deleted Map entries as holes until a rehash, and
// every new iterator walks the holes at the front, so "delete the first key" in a loop is quadratic
// (measured here: ~8k seen()/s at 100k entries, against millions with the ring).
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
  /** Insertion-order ring of keys and their expiries; holds at least every key of `entries`. */
  private readonly ringKeys: Array<string | undefined>
  private readonly ringExpiry: Float64Array
  private ringHead = 0
  private ringSize = 0
  private evictionCount = 0

  constructor(components: DedupCacheComponents = {}, init: DedupCacheInit = {}) {
    this.clock = components.clock ?? systemClock
    this.metrics = components.metrics
    this.windowMs = positive(init.windowMs ?? DEFAULT_DEDUP_WINDOW_MS, 'windowMs')
    this.maxEntries = Math.floor(positive(init.maxEntries ?? DEFAULT_DEDUP_MAX_ENTRIES, 'maxEntries'))
    this.ringKeys = new Array<string | undefined>(this.maxEntries)
    this.ringExpiry = new Float64Array(this.maxEntries)
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
    if (this.ringSize === this.maxEntries) {
      // Full: the oldest entry goes before its window ends.
      if (this.shiftRing(now)) {
        this.evictionCount++
        this.metrics?.dedupEvictions.inc()
      }
    }
    const expiry = now + this.windowMs
    const slot = (this.ringHead + this.ringSize) % this.maxEntries
    this.ringKeys[slot] = key
    this.ringExpiry[slot] = expiry
    this.ringSize++
    this.entries.set(key, expiry)
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
    this.ringKeys.fill(undefined)
    this.ringHead = 0
    this.ringSize = 0
    this.metrics?.dedupSize.set(0)
  }

  private prune(now: number): void {
    let pruned = false
    // A clock step backwards can leave a later entry earlier than one before it; stopping at the
    // first live entry only delays pruning, it never forgets a live one.
    while (this.ringSize > 0 && this.ringExpiry[this.ringHead] <= now) {
      this.shiftRing(now)
      pruned = true
    }
    if (pruned) this.metrics?.dedupSize.set(this.entries.size)
  }

  /**
   * Drop the ring's oldest slot, and its Map entry if the slot is still that entry's (a key seen
   * again after its window has a newer slot). Returns whether a live entry (expiry > now) was dropped.
   */
  private shiftRing(now: number): boolean {
    const key = this.ringKeys[this.ringHead] as string
    const expiry = this.ringExpiry[this.ringHead]
    this.ringKeys[this.ringHead] = undefined
    this.ringHead = (this.ringHead + 1) % this.maxEntries
    this.ringSize--
    if (this.entries.get(key) !== expiry) return false
    this.entries.delete(key)
    return expiry > now
  }
}

/** origin bytes (latin1, one char per byte, no allocation per byte) + nonce. */
function dedupKey(origin: Uint8Array, nonce: bigint | number): string {
  return `${Buffer.from(origin.buffer, origin.byteOffset, origin.byteLength).toString('latin1')}/${BigInt(nonce).toString(36)}`
}
