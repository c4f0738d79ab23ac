// Bytes/s from monotonic byte counters, sampled at irregular times (each heartbeat), smoothed by a
// time-constant EWMA: weight of a new rate = 1 - exp(-dt / tau), so a 1 s and a 30 s heartbeat
// period give the same time behaviour.

export class ThroughputMeter {
  private last?: { at: number; value: number }
  private rate = 0
  private seeded = false

  constructor(private readonly tauMs: number) {}

  /** Feeds the counter's value at time `at`; returns the bytes added since the last sample. */
  sample(at: number, value: number): number {
    const last = this.last
    this.last = { at, value }
    if (last == null) return 0
    // A counter that went backwards (stream reopened, counter reset) restarts the measurement.
    const delta = value >= last.value ? value - last.value : value
    const dt = at - last.at
    if (dt <= 0) return delta
    const instant = (delta * 1000) / dt
    // The first measured rate seeds the average instead of ramping up from 0.
    const w = this.seeded ? 1 - Math.exp(-dt / this.tauMs) : 1
    this.seeded = true
    this.rate = this.rate + w * (instant - this.rate)
    return delta
  }

  get bytesPerSec(): number {
    return this.rate
  }
}
