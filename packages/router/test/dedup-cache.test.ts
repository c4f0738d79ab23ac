import { describe, it, expect } from '@jest/globals'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { DedupCache } from '../src/inbound/dedup-cache.js'
import { createRouterMetrics } from '../src/metrics.js'
import { FakeClock } from './helpers/fake-clock.js'

const alice = new Uint8Array([1, 2, 3])
const bob = new Uint8Array([1, 2, 4])

describe('DedupCache', () => {
  it('reports a repeat of (origin, nonce) inside the window and records new pairs', async () => {
    const registry = new Registry()
    const clock = new FakeClock()
    const cache = new DedupCache({ clock, metrics: createRouterMetrics(registry) }, { windowMs: 1000 })
    expect(cache.seen(alice, 1n)).toBe(false)
    expect(cache.seen(alice, 1n)).toBe(true)
    expect(cache.seen(bob, 1n)).toBe(false)
    expect(cache.seen(alice, 2)).toBe(false)
    expect(cache.seen(alice, 2n)).toBe(true) // number and bigint nonces are the same key
    const hits = await registry.getSingleMetric('cpc_router_dedup_hits_total')?.get()
    expect(hits?.values[0].value).toBe(2)
  })

  it('forgets a pair once its window ends, and a hit does not extend the window', () => {
    const clock = new FakeClock()
    const cache = new DedupCache({ clock }, { windowMs: 1000 })
    cache.seen(alice, 7n)
    clock.advance(999)
    expect(cache.seen(alice, 7n)).toBe(true)
    clock.advance(1)
    expect(cache.has(alice, 7n)).toBe(false)
    expect(cache.seen(alice, 7n)).toBe(false)
    expect(cache.size).toBe(1)
  })

  it('keeps origins apart even when their bytes contain the separator', () => {
    const cache = new DedupCache({ clock: new FakeClock() })
    const slash = new TextEncoder().encode('a/1')
    expect(cache.seen(slash, 2n)).toBe(false)
    expect(cache.seen(new TextEncoder().encode('a'), 0x1n)).toBe(false)
    expect(cache.seen(new Uint8Array(), 0n)).toBe(false)
    expect(cache.seen(new Uint8Array(), 0n)).toBe(true)
  })

  it('evicts the oldest entries past maxEntries and counts them', () => {
    const cache = new DedupCache({ clock: new FakeClock() }, { maxEntries: 3 })
    for (let n = 0; n < 5; n++) cache.seen(alice, n)
    expect(cache.size).toBe(3)
    expect(cache.evictions).toBe(2)
    expect(cache.has(alice, 0)).toBe(false)
    expect(cache.has(alice, 4)).toBe(true)
  })

  it('property: never a false negative inside the window while within capacity; size bounded', () => {
    const event = fc.record({
      origin: fc.integer({ min: 0, max: 5 }),
      nonce: fc.bigInt({ min: 0n, max: 20n }),
      advanceMs: fc.integer({ min: 0, max: 300 }),
    })
    fc.assert(
      fc.property(fc.array(event, { maxLength: 400 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2000 }), (events, maxEntries, windowMs) => {
        const clock = new FakeClock()
        const cache = new DedupCache({ clock }, { windowMs, maxEntries })
        const firstSeen = new Map<string, number>() // model: key → time of the sighting that opened its window
        let evictionsSeen = 0
        for (const e of events) {
          clock.advance(e.advanceMs)
          const now = clock.now()
          const key = `${e.origin}/${e.nonce}`
          const opened = firstSeen.get(key)
          const inWindow = opened !== undefined && now - opened < windowMs
          const result = cache.seen(Uint8Array.of(e.origin), e.nonce)
          if (inWindow && cache.evictions === evictionsSeen) expect(result).toBe(true)
          // Never a false positive: a pair outside its window or never seen is new.
          if (!inWindow) expect(result).toBe(false)
          if (!result) firstSeen.set(key, now)
          evictionsSeen = cache.evictions
          expect(cache.size).toBeLessThanOrEqual(maxEntries)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('property: with capacity for every pair, a repeat inside the window is always caught', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 })), { maxLength: 300 }), (events) => {
        const clock = new FakeClock()
        const cache = new DedupCache({ clock }, { windowMs: 10_000, maxEntries: 300 })
        const seen = new Set<string>()
        for (const [origin, advance] of events) {
          clock.advance(advance) // 300 × 50 ms < window: everything stays in the window
          const key = `${origin}`
          expect(cache.seen(Uint8Array.of(origin), 1n)).toBe(seen.has(key))
          seen.add(key)
        }
        expect(cache.evictions).toBe(0)
      }),
    )
  })
})
