// events(): filtering by kind, bounded buffer with drop-oldest, ending on abort and on close.
import { describe, expect, it } from '@jest/globals'
import { PeerState } from '@cpc/protocol'
import { EventSubscription, type EventSource } from '../src/event-stream.js'
import type { NetworkEvent } from '../src/events.js'

function source(): EventSource & { emit(e: NetworkEvent): void; close(): void; listeners: number } {
  const subs = new Set<(e: NetworkEvent) => void>()
  const closers = new Set<() => void>()
  return {
    subscribe: (fn) => (subs.add(fn), () => subs.delete(fn)),
    onClose: (fn) => (closers.add(fn), () => closers.delete(fn)),
    emit: (e) => subs.forEach((fn) => fn(e)),
    close: () => closers.forEach((fn) => fn()),
    get listeners() {
      return subs.size + closers.size
    },
  }
}

const state = (i: number): NetworkEvent => ({ kind: 'peer:state', detail: { peerId: `p${i}`, from: PeerState.PEER_STATE_DISCONNECTED, to: PeerState.PEER_STATE_CONNECTING, reason: 'dial', atMs: i } })
const expired = (i: number): NetworkEvent => ({ kind: 'message:expired', detail: { peerId: `p${i}`, nonce: BigInt(i), reason: 'expired', atMs: i } })

describe('EventSubscription', () => {
  it('delivers events in order, filtered by kind', async () => {
    const src = source()
    const sub = new EventSubscription(src, { kinds: ['message:expired'] })
    src.emit(state(1))
    src.emit(expired(2))
    src.emit(expired(3))
    expect((await sub.next()).value).toEqual(expired(2))
    expect((await sub.next()).value).toEqual(expired(3))
    sub.close()
    expect((await sub.next()).done).toBe(true)
    expect(src.listeners).toBe(0)
  })

  it('drops the oldest events when the consumer falls behind, and counts them', async () => {
    const src = source()
    const sub = new EventSubscription(src, { bufferSize: 3 })
    for (let i = 0; i < 10; i++) src.emit(state(i))
    expect(sub.dropped).toBe(7)
    expect(sub.buffered).toBe(3)
    const got: number[] = []
    for (let i = 0; i < 3; i++) got.push(((await sub.next()).value as NetworkEvent).detail.atMs)
    expect(got).toEqual([7, 8, 9])
    sub.close()
  })

  it('ends a waiting consumer when the signal aborts or the source closes', async () => {
    const src = source()
    const controller = new AbortController()
    const a = new EventSubscription(src, { signal: controller.signal })
    const waiting = a.next()
    controller.abort()
    expect((await waiting).done).toBe(true)

    const b = new EventSubscription(src)
    const items: NetworkEvent[] = []
    const consumer = (async () => {
      for await (const e of b) items.push(e)
    })()
    src.emit(state(1))
    await new Promise((r) => setImmediate(r))
    src.close()
    await consumer
    expect(items).toHaveLength(1)
    expect(src.listeners).toBe(0)
  })

  it('is done at once for an already aborted signal', async () => {
    const src = source()
    const sub = new EventSubscription(src, { signal: AbortSignal.abort() })
    expect((await sub.next()).done).toBe(true)
    expect(src.listeners).toBe(0)
  })
})
