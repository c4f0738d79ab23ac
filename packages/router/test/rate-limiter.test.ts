import { describe, it, expect } from '@jest/globals'
import { Registry } from 'prom-client'
import { MessageType, Priority } from '@cpc/protocol'
import { RateLimiter } from '../src/inbound/rate-limiter.js'
import { createRouterMetrics } from '../src/metrics.js'
import { InvalidConfigError } from '../src/errors.js'
import { FakeClock } from './helpers/fake-clock.js'

const { EVENT, CONTROL } = MessageType
const { HIGH, LOW } = Priority

describe('RateLimiter', () => {
  it('throttles a flooding peer while another peer keeps its whole budget', async () => {
    const registry = new Registry()
    const clock = new FakeClock()
    const limiter = new RateLimiter(
      { clock, metrics: createRouterMetrics(registry) },
      { limits: { [EVENT]: { [LOW]: { ratePerSec: 10, burst: 5 } } } },
    )
    let allowed = 0
    for (let i = 0; i < 100; i++) if (limiter.check('flooder', EVENT, LOW).allowed) allowed++
    expect(allowed).toBe(5)
    const rejected = limiter.check('flooder', EVENT, LOW)
    expect(rejected).toEqual({ allowed: false, retryAfterMs: 100 })

    for (let i = 0; i < 5; i++) expect(limiter.check('quiet', EVENT, LOW).allowed).toBe(true)
    expect(limiter.check('quiet', EVENT, LOW).allowed).toBe(false)

    const metric = await registry.getSingleMetric('cpc_router_rate_limited_total')?.get()
    expect(metric?.values.find((v) => v.labels.type === 'event' && v.labels.priority === 'low')?.value).toBe(95 + 1 + 1)
  })

  it('refills at the configured rate (GCRA), and rejected messages cost nothing', () => {
    const clock = new FakeClock()
    const limiter = new RateLimiter({ clock }, { limits: { [EVENT]: { [LOW]: { ratePerSec: 10, burst: 2 } } } })
    expect(limiter.check('p', EVENT, LOW).allowed).toBe(true)
    expect(limiter.check('p', EVENT, LOW).allowed).toBe(true)
    for (let i = 0; i < 50; i++) expect(limiter.check('p', EVENT, LOW).allowed).toBe(false)
    clock.advance(99)
    expect(limiter.check('p', EVENT, LOW)).toEqual({ allowed: false, retryAfterMs: 1 })
    clock.advance(1)
    expect(limiter.check('p', EVENT, LOW).allowed).toBe(true)
    expect(limiter.check('p', EVENT, LOW).allowed).toBe(false)
    // Sustained: exactly one message per 100 ms over 10 s.
    let allowed = 0
    for (let t = 0; t < 10_000; t += 10) {
      clock.advance(10)
      if (limiter.check('p', EVENT, LOW).allowed) allowed++
    }
    expect(allowed).toBe(100)
  })

  it('keeps separate budgets per message type and priority', () => {
    const clock = new FakeClock()
    const limiter = new RateLimiter({ clock })
    for (let i = 0; i < 40; i++) expect(limiter.check('p', EVENT, HIGH).allowed).toBe(true)
    expect(limiter.check('p', EVENT, HIGH).allowed).toBe(false)
    expect(limiter.check('p', EVENT, LOW).allowed).toBe(true)
    expect(limiter.check('p', CONTROL, HIGH).allowed).toBe(true)
    expect(limiter.check('p', 7 as MessageType, LOW)).toEqual({ allowed: false, retryAfterMs: Infinity })
  })

  it('bounds its peer table, forgetting the least recently seen peer', () => {
    const limiter = new RateLimiter({ clock: new FakeClock() }, { maxPeers: 3, limits: { [EVENT]: { [LOW]: { ratePerSec: 1, burst: 1 } } } })
    limiter.check('a', EVENT, LOW)
    limiter.check('b', EVENT, LOW)
    limiter.check('c', EVENT, LOW)
    limiter.check('a', EVENT, LOW) // a is now the most recent
    limiter.check('d', EVENT, LOW) // evicts b
    expect(limiter.size).toBe(3)
    expect(limiter.evictions).toBe(1)
    expect(limiter.check('a', EVENT, LOW).allowed).toBe(false) // still remembered
    expect(limiter.check('b', EVENT, LOW).allowed).toBe(true) // forgotten, fresh budget (evicts c)
  })

  it('rejects invalid limits with InvalidConfigError', () => {
    expect(() => new RateLimiter({}, { limits: { [EVENT]: { [LOW]: { ratePerSec: 0, burst: 1 } } } })).toThrow(InvalidConfigError)
    expect(() => new RateLimiter({}, { limits: { [EVENT]: { [LOW]: { ratePerSec: 1, burst: 0.5 } } } })).toThrow(InvalidConfigError)
  })
})
