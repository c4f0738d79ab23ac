// Per-peer token buckets for answering peer-exchange requests, in a bounded LRU map.

export interface RateLimiterInit {
  /** Tokens a bucket holds (the burst). */
  burst: number
  /** One token comes back every intervalMs. */
  intervalMs: number
  /** Buckets remembered; the least recently used is forgotten first. */
  maxPeers: number
}

interface Bucket {
  tokens: number
  atMs: number
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    private readonly init: RateLimiterInit,
    private readonly clock: () => number,
  ) {}

  /** Takes a token for `key`; false when the bucket is empty. */
  tryTake(key: string): boolean {
    const now = this.clock()
    const bucket = this.buckets.get(key) ?? { tokens: this.init.burst, atMs: now }
    this.buckets.delete(key)
    const refill = this.init.intervalMs > 0 ? (now - bucket.atMs) / this.init.intervalMs : Infinity
    bucket.tokens = Math.min(this.init.burst, bucket.tokens + Math.max(0, refill))
    bucket.atMs = now
    const ok = bucket.tokens >= 1
    if (ok) bucket.tokens -= 1
    if (this.buckets.size >= this.init.maxPeers) {
      const oldest = this.buckets.keys().next()
      if (oldest.done !== true) this.buckets.delete(oldest.value)
    }
    this.buckets.set(key, bucket)
    return ok
  }

  get size(): number {
    return this.buckets.size
  }

  clear(): void {
    this.buckets.clear()
  }
}
