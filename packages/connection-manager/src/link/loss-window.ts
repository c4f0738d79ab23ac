// Receiver-side one-way loss from sequence gaps: which of the last `size` sequence numbers arrived.
// Loss = 1 - received / expected, where expected counts every sequence number from the first one
// seen (or the window start) to the highest one seen. Late (reordered) probes still count if they
// land inside the window; duplicates (replays) count once. Probes lost after the highest seen are
// not counted until a later one arrives, which biases nothing in steady state.

export interface WindowCounts {
  received: number
  expected: number
}

export interface LossCounts extends WindowCounts {
  /** Since the first probe: distinct probes received and sequence numbers spanned. */
  totalReceived: number
  totalExpected: number
}

export class LossWindow {
  private readonly bits: Uint8Array
  private highest = -1
  private first = -1
  private count = 0
  private total = 0

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError('loss window size must be a positive integer')
    this.bits = new Uint8Array(size)
  }

  /** Records sequence number `seq`; returns false for a duplicate or one older than the window. */
  record(seq: number): boolean {
    if (this.highest < 0) {
      this.highest = seq
      this.first = seq
      this.bits[seq % this.size] = 1
      this.count = 1
      this.total = 1
      return true
    }
    if (seq > this.highest) {
      // Slide: every slot between the old and the new highest leaves the window.
      const advance = seq - this.highest
      if (advance >= this.size) {
        this.bits.fill(0)
        this.count = 0
      } else {
        for (let s = this.highest + 1; s <= seq; s++) {
          const slot = s % this.size
          this.count -= this.bits[slot]
          this.bits[slot] = 0
        }
      }
      this.highest = seq
      this.bits[seq % this.size] = 1
      this.count++
      this.total++
      return true
    }
    if (seq <= this.highest - this.size || seq < this.first) return false
    const slot = seq % this.size
    if (this.bits[slot] === 1) return false
    this.bits[slot] = 1
    this.count++
    this.total++
    return true
  }

  counts(): LossCounts {
    if (this.highest < 0) return { received: 0, expected: 0, totalReceived: 0, totalExpected: 0 }
    const span = this.highest - this.first + 1
    return { received: this.count, expected: Math.min(this.size, span), totalReceived: this.total, totalExpected: span }
  }

  /** 1 - received/expected over the window; undefined before `minSamples` expected probes. */
  loss(minSamples = 1): number | undefined {
    const { received, expected } = this.counts()
    if (expected < minSamples || expected === 0) return undefined
    return Math.max(0, 1 - received / expected)
  }
}
