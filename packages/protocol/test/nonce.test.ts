import { describe, it, expect } from '@jest/globals'
import { NonceGenerator, nonceTimestampMs, NONCE_COUNTER_BITS } from '../src/index.js'

describe('NonceGenerator', () => {
  it('puts the millisecond clock in the high bits and a counter in the low bits', () => {
    let now = 1_700_000_000_000
    const nonces = new NonceGenerator({ clock: () => now })
    const a = nonces.next()
    const b = nonces.next()
    expect(a).toBe(BigInt(now) << BigInt(NONCE_COUNTER_BITS))
    expect(b).toBe(a + 1n)
    now += 1
    expect(nonces.next()).toBe(BigInt(now) << BigInt(NONCE_COUNTER_BITS))
    expect(nonceTimestampMs(b)).toBe(now - 1)
  })

  it('stays strictly increasing when the clock steps back', () => {
    let now = 2_000_000
    const nonces = new NonceGenerator({ clock: () => now })
    const seen: bigint[] = []
    for (let i = 0; i < 100; i++) {
      seen.push(nonces.next())
      now += i % 3 === 0 ? -500 : 1
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1])
  })

  it('is unique across a restart of the same identity', () => {
    let now = 5_000
    const first = new NonceGenerator({ clock: () => now })
    const before = Array.from({ length: 1000 }, () => first.next())
    now += 1
    const second = new NonceGenerator({ clock: () => now })
    expect(second.next()).toBeGreaterThan(before[before.length - 1])
    // With a clock that went back across the restart, the persisted last nonce keeps them apart.
    const third = new NonceGenerator({ clock: () => 10 }, { lastNonce: first.lastNonce })
    expect(third.next()).toBe(first.lastNonce + 1n)
  })

  it('issues 2^20 nonces per millisecond before running ahead of the clock', () => {
    const nonces = new NonceGenerator({ clock: () => 1 })
    let last = 0n
    for (let i = 0; i < 1 << NONCE_COUNTER_BITS; i++) last = nonces.next()
    expect(nonceTimestampMs(last)).toBe(1)
    expect(nonceTimestampMs(nonces.next())).toBe(2)
  })
})
