import { describe, expect, it } from '@jest/globals'
import { RetryQueueFullError } from '../src/errors.js'
import { RetryQueue, type RetryEntry } from '../src/retry-queue.js'

const entry = (peerId: string, patch: Partial<RetryEntry> = {}): RetryEntry => ({ peerId, dueAt: 100, attempt: 0, highTraffic: false, score: 0.5, ...patch })

describe('RetryQueue', () => {
  it('takes only due entries: HIGH traffic first, then by score, then by due time', () => {
    const q = new RetryQueue({ capacity: 10 })
    q.push(entry('low-score', { score: 0.1, dueAt: 10 }))
    q.push(entry('high-score', { score: 0.9, dueAt: 50 }))
    q.push(entry('high-traffic-low-score', { score: 0.05, highTraffic: true, dueAt: 90 }))
    q.push(entry('mid-early', { score: 0.5, dueAt: 20 }))
    q.push(entry('mid-late', { score: 0.5, dueAt: 80 }))
    q.push(entry('not-due', { score: 1, highTraffic: true, dueAt: 1000 }))
    expect(q.nextDueAt()).toBe(10)
    expect(q.takeDue(100).map((e) => e.peerId)).toEqual(['high-traffic-low-score', 'high-score', 'mid-early', 'mid-late', 'low-score'])
    expect(q.size).toBe(1)
    expect(q.takeDue(999)).toEqual([])
    expect(q.takeDue(1000).map((e) => e.peerId)).toEqual(['not-due'])
  })

  it('takes at most `max`, best first, leaving the rest queued', () => {
    const q = new RetryQueue()
    for (let i = 0; i < 5; i++) q.push(entry(`p${i}`, { score: i / 10 }))
    expect(q.takeDue(100, 2).map((e) => e.peerId)).toEqual(['p4', 'p3'])
    expect(q.size).toBe(3)
  })

  it('keeps one entry per peer and reorders after update/rescore', () => {
    const q = new RetryQueue()
    q.push(entry('a', { score: 0.9 }))
    q.push(entry('b', { score: 0.1 }))
    q.push(entry('b', { score: 0.2, attempt: 1 }))
    expect(q.size).toBe(2)
    q.update('b', { highTraffic: true })
    expect(q.takeDue(100, 1)[0]).toMatchObject({ peerId: 'b', attempt: 1 })
    q.push(entry('c', { score: 0.5 }))
    q.rescore((id) => (id === 'c' ? 1 : 0))
    expect(q.takeDue(100).map((e) => e.peerId)).toEqual(['c', 'a'])
  })

  it('is bounded: a better entry evicts the worst, a worse one is refused', () => {
    const q = new RetryQueue({ capacity: 2 })
    q.push(entry('a', { score: 0.5 }))
    q.push(entry('b', { score: 0.3 }))
    expect(q.push(entry('c', { score: 0.9 }))?.peerId).toBe('b')
    expect(() => q.push(entry('d', { score: 0.1 }))).toThrow(RetryQueueFullError)
    expect(q.push(entry('e', { score: 0, highTraffic: true }))?.peerId).toBe('a')
    expect(q.size).toBe(2)
    expect(q.has('c') && q.has('e')).toBe(true)
  })

  it('remove and clear', () => {
    const q = new RetryQueue()
    q.push(entry('a'))
    expect(q.remove('a')).toBe(true)
    expect(q.remove('a')).toBe(false)
    q.push(entry('b'))
    q.clear()
    expect(q.size).toBe(0)
    expect(q.nextDueAt()).toBeUndefined()
  })
})
