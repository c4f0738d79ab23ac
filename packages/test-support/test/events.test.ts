import { describe, expect, it } from '@jest/globals'
import { record, waitForEvent } from '../src/index.js'

describe('waitForEvent', () => {
  it('resolves with the first matching detail and stops listening', async () => {
    const target = new EventTarget()
    const waiting = waitForEvent<number>(target, 'n', (n) => n > 1, 5_000)
    target.dispatchEvent(new CustomEvent('n', { detail: 1 }))
    target.dispatchEvent(new CustomEvent('n', { detail: 2 }))
    await expect(waiting).resolves.toBe(2)
  })

  it('rejects with the event type when the bound elapses', async () => {
    await expect(waitForEvent(new EventTarget(), 'never', () => true, 20)).rejects.toThrow('timed out after 20 ms waiting for never')
  })
})

describe('record', () => {
  it('collects details and waits until a predicate over them holds', async () => {
    const target = new EventTarget()
    const rec = record<string>(target, 's')
    const done = rec.until((events) => events.length === 2, 5_000)
    target.dispatchEvent(new CustomEvent('s', { detail: 'a' }))
    target.dispatchEvent(new CustomEvent('s', { detail: 'b' }))
    await expect(done).resolves.toEqual(['a', 'b'])
    rec.stop()
    target.dispatchEvent(new CustomEvent('s', { detail: 'c' }))
    expect(rec.events).toEqual(['a', 'b'])
  })

  it('reports what it recorded when it times out', async () => {
    const target = new EventTarget()
    const rec = record<number>(target, 'x')
    target.dispatchEvent(new CustomEvent('x', { detail: 7 }))
    await expect(rec.until((events) => events.length > 1, 20)).rejects.toThrow('recorded 1 x events: [7]')
    rec.stop()
  })
})
