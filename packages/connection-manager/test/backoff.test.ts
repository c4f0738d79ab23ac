import { describe, expect, it } from '@jest/globals'
import { Backoff, backoffCeiling } from '../src/backoff.js'
import { InvalidConfigError } from '../src/errors.js'
import { seededRandom } from './helpers/clock.js'

describe('Backoff (full jitter)', () => {
  const base = 100
  const cap = 10_000

  it('ceiling is min(cap, base·2^n), also for huge n', () => {
    expect(backoffCeiling(0, base, cap)).toBe(100)
    expect(backoffCeiling(3, base, cap)).toBe(800)
    expect(backoffCeiling(7, base, cap)).toBe(10_000)
    expect(backoffCeiling(5000, base, cap)).toBe(10_000)
  })

  it('every delay lies in [0, min(cap, base·2^n)] and the cap is never exceeded', () => {
    const b = new Backoff({ baseMs: base, capMs: cap, maxAttempts: 64 }, seededRandom(1))
    let checked = 0
    for (let n = 0; n < 64; n++) {
      const ceiling = Math.min(cap, base * 2 ** n)
      const out = Array.from({ length: 500 }, () => b.delay(n)!).filter((d) => !(Number.isInteger(d) && d >= 0 && d <= ceiling && d <= cap))
      expect(out).toEqual([])
      checked += 500
    }
    expect(checked).toBe(64 * 500)
  })

  it('the extreme random values map to the bounds', () => {
    expect(new Backoff({ baseMs: base, capMs: cap }, () => 0).delay(4)).toBe(0)
    expect(new Backoff({ baseMs: base, capMs: cap }, () => 0.999999999).delay(4)).toBe(1599)
    expect(new Backoff({ baseMs: base, capMs: cap }, () => 0.999999999).delay(9)).toBe(cap - 1)
  })

  it('is uniform: mean near ceiling/2 and spread over the whole range (statistical)', () => {
    const samples = 20_000
    for (const n of [0, 3, 12]) {
      const b = new Backoff({ baseMs: base, capMs: cap, maxAttempts: 20 }, seededRandom(42 + n))
      const ceiling = Math.min(cap, base * 2 ** n)
      const values = Array.from({ length: samples }, () => b.delay(n)!)
      const mean = values.reduce((a, v) => a + v, 0) / samples
      // Uniform on [0, c): sd = c/√12, so the sd of the mean is c/√(12·N); allow 5 of those.
      const tolerance = (5 * ceiling) / Math.sqrt(12 * samples)
      expect(Math.abs(mean - ceiling / 2)).toBeLessThan(tolerance)
      // Each quarter of the range gets about a quarter of the samples (full jitter, not "equal jitter").
      const quarters = [0, 0, 0, 0]
      for (const v of values) quarters[Math.min(3, Math.floor((v / ceiling) * 4))]++
      for (const q of quarters) expect(Math.abs(q / samples - 0.25)).toBeLessThan(0.02)
      expect(Math.min(...values)).toBeLessThan(ceiling * 0.01)
      expect(Math.max(...values)).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.99))
    }
  })

  it('gives up after maxAttempts', () => {
    const b = new Backoff({ baseMs: base, capMs: cap, maxAttempts: 3 }, seededRandom(3))
    expect(b.delay(0)).toBeDefined()
    expect(b.delay(2)).toBeDefined()
    expect(b.delay(3)).toBeUndefined()
    expect(b.delay(100)).toBeUndefined()
    expect(new Backoff({ maxAttempts: 0 }).delay(0)).toBeUndefined()
  })

  it('rejects nonsense configuration', () => {
    expect(() => new Backoff({ baseMs: 0 })).toThrow(InvalidConfigError)
    expect(() => new Backoff({ baseMs: 100, capMs: 50 })).toThrow(InvalidConfigError)
    expect(() => new Backoff({ maxAttempts: -1 })).toThrow(InvalidConfigError)
  })
})
