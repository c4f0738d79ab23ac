// The adaptive heartbeat policy (pure, no timers): the battery optimization of the seed.
// A quiet, healthy link is pinged less and less often (×growthFactor after healthyPingsToGrow
// consecutive healthy pongs, up to max); RTT jitter halves the interval (÷shrinkFactor) and loss
// (a timed-out ping, or probe loss above the threshold) drops it straight to min, so a degrading link
// is watched closely and its metrics converge quickly.

export interface HeartbeatPolicyInit {
  minIntervalMs: number
  maxIntervalMs: number
  initialIntervalMs: number
  growthFactor: number
  shrinkFactor: number
  healthyPingsToGrow: number
}

export type HeartbeatVerdict = 'healthy' | 'jitter' | 'loss'

export class HeartbeatPolicy {
  private current: number
  private healthyStreak = 0

  constructor(private readonly init: HeartbeatPolicyInit) {
    if (init.minIntervalMs <= 0 || init.maxIntervalMs < init.minIntervalMs) throw new RangeError('heartbeat: need 0 < minIntervalMs <= maxIntervalMs')
    this.current = clamp(init.initialIntervalMs, init.minIntervalMs, init.maxIntervalMs)
  }

  get intervalMs(): number {
    return this.current
  }

  /** Applies the outcome of one ping round; returns the new interval. */
  observe(verdict: HeartbeatVerdict): number {
    const { minIntervalMs: min, maxIntervalMs: max } = this.init
    if (verdict === 'loss') {
      this.healthyStreak = 0
      this.current = min
    } else if (verdict === 'jitter') {
      this.healthyStreak = 0
      this.current = clamp(Math.round(this.current / this.init.shrinkFactor), min, max)
    } else if (++this.healthyStreak >= this.init.healthyPingsToGrow) {
      this.healthyStreak = 0
      this.current = clamp(Math.round(this.current * this.init.growthFactor), min, max)
    }
    return this.current
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v))
}
