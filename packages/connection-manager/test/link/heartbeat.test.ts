// Adaptive heartbeat, driven by a manual clock and scheduler: no sleeps anywhere.
import { describe, it, expect } from '@jest/globals'
import { Registry } from 'prom-client'
import { createLinkMetrics, HeartbeatPolicy, LinkMonitor } from '../../src/link/index.js'
import type { LinkMonitorInit } from '../../src/link/index.js'
import { ControlLink, fakePeerId, ManualTime } from './fakes.js'

const init: LinkMonitorInit = { minIntervalMs: 1_000, maxIntervalMs: 30_000, pingTimeoutMs: 3_000, healthyPingsToGrow: 3, growthFactor: 1.5, jitterThresholdMs: 50 }

async function pair(extra: LinkMonitorInit = {}) {
  const time = new ManualTime()
  const link = new ControlLink(time, fakePeerId('A'), fakePeerId('B'))
  const metrics = createLinkMetrics(new Registry())
  const a = new LinkMonitor({ sendControl: link.sendControl('a'), clock: time.clock, scheduler: time, udpSocketFactory: null, metrics }, { ...init, ...extra })
  // B only answers: its own heartbeat to A is irrelevant here, so give it the longest interval.
  const b = new LinkMonitor({ sendControl: link.sendControl('b'), clock: time.clock, scheduler: time, udpSocketFactory: null }, { ...init, initialIntervalMs: 30_000, minIntervalMs: 30_000 })
  link.a = a
  link.b = b
  await a.start()
  await b.start()
  a.addPeer(link.idB)
  b.addPeer(link.idA)
  const pingsFromA = () => link.sent.a.filter((c) => c.kind?.$case === 'ping').length
  return { time, link, a, b, metrics, pingsFromA }
}

describe('HeartbeatPolicy', () => {
  it('grows by the factor after K healthy rounds, up to max; jitter halves; loss goes to min', () => {
    const p = new HeartbeatPolicy({ minIntervalMs: 1000, maxIntervalMs: 30000, initialIntervalMs: 1000, growthFactor: 1.5, shrinkFactor: 2, healthyPingsToGrow: 3 })
    const seen: number[] = []
    for (let i = 0; i < 30; i++) seen.push(p.observe('healthy'))
    expect(seen.slice(0, 3)).toEqual([1000, 1000, 1500])
    expect(seen.at(-1)).toBe(30000)
    expect(Math.max(...seen)).toBe(30000)
    expect(p.observe('jitter')).toBe(15000)
    expect(p.observe('jitter')).toBe(7500)
    expect(p.observe('loss')).toBe(1000)
    expect(p.observe('loss')).toBe(1000)
  })

  it('rejects min > max', () => {
    expect(() => new HeartbeatPolicy({ minIntervalMs: 5, maxIntervalMs: 1, initialIntervalMs: 1, growthFactor: 2, shrinkFactor: 2, healthyPingsToGrow: 1 })).toThrow(RangeError)
  })
})

describe('LinkMonitor adaptive heartbeat (injected clock)', () => {
  it('grows to max on a quiet healthy link, and pings less often there', async () => {
    const { time, a, b, link, pingsFromA } = await pair()
    expect(a.stats(link.idB)?.heartbeatIntervalMs).toBe(1000)
    time.advance(5 * 60_000)
    expect(a.stats(link.idB)?.heartbeatIntervalMs).toBe(30_000)
    // At max, one ping per 30 s: 10 minutes more cost exactly 20 pings.
    const before = pingsFromA()
    time.advance(10 * 60_000)
    expect(pingsFromA() - before).toBe(20)
    expect(a.stats(link.idB)?.rttMsEwma).toBeCloseTo(10, 6)
    expect(a.stats(link.idB)?.lossRatio).toBe(0)
    expect(a.stats(link.idB)?.lossSource).toBe('ping')
    await a.stop()
    await b.stop()
    // Let the fake link deliver what was in flight; the monitors must have nothing left.
    time.advance(1_000)
    expect(time.pending()).toBe(0)
  })

  it('shrinks to min at once when pongs stop (loss), and grows back after', async () => {
    const { time, a, b, link, metrics } = await pair()
    time.advance(5 * 60_000)
    expect(a.stats(link.idB)?.heartbeatIntervalMs).toBe(30_000)
    // Pongs are lost from now on.
    link.latencyMs = (c) => (c.kind?.$case === 'pong' ? undefined : 5)
    // Worst case: next ping in 30 s, its timeout 3 s later.
    time.advance(30_000 + 3_000)
    expect(a.stats(link.idB)?.heartbeatIntervalMs).toBe(1_000)
    expect(a.stats(link.idB)?.lossRatio).toBeGreaterThan(0)
    const timedOut = (await metrics.pings.get()).values.find((v) => v.labels.result === 'timed_out')?.value
    expect(timedOut).toBeGreaterThanOrEqual(1)
    // Stays at min while lossy.
    time.advance(60_000)
    expect(a.stats(link.idB)?.heartbeatIntervalMs).toBe(1_000)
    // Healthy again: grows back to max.
    link.latencyMs = () => 5
    time.advance(10 * 60_000)
    expect(a.stats(link.idB)?.heartbeatIntervalMs).toBe(30_000)
    await a.stop()
    await b.stop()
    // Let the fake link deliver what was in flight; the monitors must have nothing left.
    time.advance(1_000)
    expect(time.pending()).toBe(0)
  })

  it('shrinks on RTT jitter down to min', async () => {
    const { time, a, b, link } = await pair()
    time.advance(5 * 60_000)
    expect(a.stats(link.idB)?.heartbeatIntervalMs).toBe(30_000)
    // Pongs alternate 5 ms and 150 ms one way: RTT jitter ~145 ms, far above 50 ms.
    let n = 0
    link.latencyMs = (c, from) => (c.kind?.$case === 'pong' && from === 'b' ? (n++ % 2 === 0 ? 150 : 5) : 5)
    const seen: number[] = []
    a.addEventListener('link:stats', (e) => seen.push(e.detail.stats.heartbeatIntervalMs))
    time.advance(3 * 60_000)
    expect(a.stats(link.idB)?.heartbeatIntervalMs).toBe(1_000)
    // It went down by halving (15 s, 7.5 s, ...), not by a jump to min.
    expect(seen).toContain(15_000)
    expect(a.stats(link.idB)?.jitterMs).toBeGreaterThan(50)
    await a.stop()
    await b.stop()
  })

  it('feeds the scorer: rtt and answered on pong, timed out on a lost ping', async () => {
    const time = new ManualTime()
    const link = new ControlLink(time, fakePeerId('A'), fakePeerId('B'))
    const calls: string[] = []
    const scorer = {
      rtt: (p: string, ms: number) => calls.push(`rtt ${p} ${ms}`),
      requestAnswered: (p: string) => calls.push(`answered ${p}`),
      requestTimedOut: (p: string) => calls.push(`timeout ${p}`),
    }
    const a = new LinkMonitor({ sendControl: link.sendControl('a'), clock: time.clock, scheduler: time, udpSocketFactory: null, scorer }, init)
    const b = new LinkMonitor({ sendControl: link.sendControl('b'), clock: time.clock, scheduler: time, udpSocketFactory: null }, init)
    link.a = a
    link.b = b
    await a.start()
    await b.start()
    a.addPeer(link.idB)
    b.addPeer(link.idA)
    time.advance(100)
    expect(calls).toEqual(['rtt B 10', 'answered B'])
    link.latencyMs = () => undefined
    time.advance(1_000 + 3_000)
    expect(calls).toContain('timeout B')
    await a.stop()
    await b.stop()
    // Let the fake link deliver what was in flight; the monitors must have nothing left.
    time.advance(1_000)
    expect(time.pending()).toBe(0)
  })

  it('removePeer and stop clear every timer', async () => {
    const { time, a, b, link } = await pair()
    time.advance(10_500)
    a.removePeer(link.idB)
    expect(a.stats(link.idB)).toBeUndefined()
    b.removePeer(link.idA)
    expect(time.pending()).toBe(0)
    await a.stop()
    await b.stop()
  })
})
