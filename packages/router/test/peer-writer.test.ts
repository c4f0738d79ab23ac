import { describe, it, expect } from '@jest/globals'
import { Registry } from 'prom-client'
import type { AbortOptions } from '@libp2p/interface'
import { MessageType, Priority } from '@cpc/protocol'
import { PeerQueues } from '../src/outbound/peer-queues.js'
import { PeerWriter, type FrameMeta } from '../src/outbound/peer-writer.js'
import { createRouterMetrics } from '../src/metrics.js'
import { frame, idOf } from './helpers/frames.js'

const { HIGH, MEDIUM, LOW } = Priority

/**
 * A fake channel send with backpressure: each write stays pending until release() is called, like a
 * stream whose buffer is full until 'drain'.
 */
class BackpressuredWrites {
  readonly writes: number[][] = []
  private pending: Array<{ resolve: () => void; reject: (err: unknown) => void }> = []
  private waiters: Array<() => void> = []
  /** When set, every write resolves on a later macrotask (asynchronous, but without a hand). */
  auto = false

  readonly write = (frames: Uint8Array[], options: AbortOptions): Promise<void> => {
    this.writes.push(frames.map(idOf))
    return new Promise<void>((resolve, reject) => {
      if (this.auto) {
        setImmediate(resolve)
        return
      }
      const entry = { resolve, reject }
      this.pending.push(entry)
      options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true })
      for (const w of this.waiters.splice(0)) w()
    })
  }

  get inFlight(): number {
    return this.pending.length
  }

  /** Resolves once a write is pending. */
  async nextWrite(): Promise<void> {
    if (this.pending.length > 0) return
    await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  release(): void {
    this.pending.shift()?.resolve()
  }

  fail(err: unknown): void {
    this.pending.shift()?.reject(err)
  }
}

describe('PeerWriter', () => {
  it('writes a HIGH message queued behind a large LOW backlog in the very next write', async () => {
    const queues = new PeerQueues<FrameMeta>({}, { maxFrames: 100_000, maxBytes: 1 << 30 })
    const fake = new BackpressuredWrites()
    const writer = new PeerWriter({ queues, write: fake.write }, { maxBatchFrames: 8 })
    writer.start()
    for (let i = 0; i < 1000; i++) writer.enqueue(frame(i, 1000), LOW, {})
    await fake.nextWrite()
    expect(fake.writes).toEqual([[0, 1, 2, 3, 4, 5, 6, 7]])

    // The LOW write is stuck on backpressure; a HIGH message arrives.
    writer.enqueue([frame(90_000), frame(90_001)], HIGH, {})
    expect(fake.inFlight).toBe(1) // one write in flight per peer, never two
    fake.release()
    await fake.nextWrite()
    expect(fake.writes[1].slice(0, 2)).toEqual([90_000, 90_001])
    expect(fake.writes[1].slice(2)).toEqual([8, 9, 10, 11, 12, 13])

    // Drain the rest: everything once, in order.
    fake.auto = true
    fake.release()
    await writer.whenIdle()
    expect(queues.isEmpty).toBe(true)
    const all = fake.writes.flat()
    expect(all.filter((id) => id < 90_000)).toEqual([...Array(1000).keys()])
    expect(all).toHaveLength(1002)
    await writer.stop()
  })

  it('batches frames queued in the same tick into one write, within maxBatchBytes', async () => {
    const queues = new PeerQueues()
    const writes: number[][] = []
    const writer = new PeerWriter(
      {
        queues,
        write: async (frames) => {
          writes.push(frames.map(idOf))
        },
      },
      { maxBatchBytes: 1000 },
    )
    writer.start()
    for (let i = 0; i < 25; i++) writer.enqueue(frame(i, 100), MEDIUM, undefined)
    await writer.whenIdle()
    expect(writes.map((w) => w.length)).toEqual([10, 10, 5])
    expect(writes.flat()).toEqual([...Array(25).keys()])
    await writer.stop()
  })

  it('counts messages, bytes and queue latency (enqueue to written) by type and priority', async () => {
    const registry = new Registry()
    const metrics = createRouterMetrics(registry)
    const queues = new PeerQueues<FrameMeta>({ metrics })
    const writer = new PeerWriter({ queues, metrics, write: async () => {} })
    writer.start()
    writer.enqueue([frame(1, 100), frame(2, 100)], HIGH, { type: MessageType.EVENT })
    writer.enqueue(frame(3, 50), LOW, { type: MessageType.DISCOVERY })
    await writer.whenIdle()
    const sent = await registry.getSingleMetric('cpc_router_messages_sent_total')?.get()
    expect(sent?.values.map((v) => [v.labels.type, v.labels.priority, v.value]).sort()).toEqual([
      ['discovery', 'low', 1],
      ['event', 'high', 1],
    ])
    const bytes = await registry.getSingleMetric('cpc_router_bytes_sent_total')?.get()
    expect(bytes?.values.find((v) => v.labels.priority === 'high')?.value).toBe(200)
    const latency = await registry.getSingleMetric('cpc_router_queue_latency_seconds')?.get()
    expect((latency?.values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }> | undefined)?.find((v) => v.metricName?.endsWith('_count') === true && v.labels.priority === 'high')?.value).toBe(1)
    await writer.stop()
  })

  it('reports a failed write with its frames and pauses until the next kick', async () => {
    const queues = new PeerQueues()
    const fake = new BackpressuredWrites()
    const writer = new PeerWriter({ queues, write: fake.write })
    const failed: number[][] = []
    writer.addEventListener('batch:failed', (e) => failed.push(e.detail.frames.map((f) => idOf(f.frame))))
    writer.start()
    writer.enqueue(frame(1), MEDIUM, undefined)
    await fake.nextWrite()
    writer.enqueue(frame(2), MEDIUM, undefined)
    fake.fail(new Error('stream reset'))
    await writer.whenIdle()
    expect(failed).toEqual([[1]])
    expect(queues.frames()).toBe(1) // frame 2 waits for the next kick
    writer.kick()
    await fake.nextWrite()
    expect(fake.writes).toEqual([[1], [2]])
    fake.release()
    await writer.whenIdle()
    await writer.stop()
  })

  it('stop() aborts the write in flight, reports it, and leaves the rest queued', async () => {
    const queues = new PeerQueues()
    const fake = new BackpressuredWrites()
    const writer = new PeerWriter({ queues, write: fake.write }, { maxBatchFrames: 1 })
    const failed: unknown[] = []
    writer.addEventListener('batch:failed', (e) => failed.push((e.detail.error as { code?: string }).code))
    writer.start()
    for (let i = 0; i < 5; i++) writer.enqueue(frame(i), LOW, undefined)
    await fake.nextWrite()
    await writer.stop()
    expect(failed).toEqual(['ERR_ABORTED'])
    expect(queues.frames()).toBe(4)
    expect(writer.isStarted).toBe(false)
    expect(writer.isBusy).toBe(false)
    // No write after stop.
    writer.kick()
    await Promise.resolve()
    expect(fake.writes).toHaveLength(1)
  })
})
