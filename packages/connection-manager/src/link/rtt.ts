// RTT of one peer: an EWMA (RFC 6298 style, alpha = weight of the new sample) and a small bounded
// sample for jitter, defined as the mean absolute difference of successive samples (RFC 3550's
// idea without its 1/16 smoothing, so one burst of jitter is seen at once).

export class RttTracker {
  private ewma?: number
  private readonly samples: number[] = []

  constructor(
    private readonly alpha: number,
    private readonly maxSamples: number,
  ) {}

  add(ms: number): void {
    this.ewma = this.ewma == null ? ms : this.ewma + this.alpha * (ms - this.ewma)
    this.samples.push(ms)
    if (this.samples.length > this.maxSamples) this.samples.shift()
  }

  /** The EWMA in ms, or undefined before the first sample. */
  get value(): number | undefined {
    return this.ewma
  }

  /** Jitter in ms over the last `n` samples (at least two), else 0. */
  jitter(n = this.maxSamples): number {
    const s = this.samples.slice(-Math.max(2, n))
    if (s.length < 2) return 0
    let sum = 0
    for (let i = 1; i < s.length; i++) sum += Math.abs(s[i] - s[i - 1])
    return sum / (s.length - 1)
  }
}
