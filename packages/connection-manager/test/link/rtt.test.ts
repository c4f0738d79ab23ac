// RTT EWMA from ping/pong with a fake clock, answering pings, throughput from byte counters.
import { describe, it, expect } from '@jest/globals'
import { Registry } from 'prom-client'
import type { Control, Pong } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import { createLinkMetrics, LinkMonitor } from '../../src/link/index.js'
import { RttTracker } from '../../src/link/rtt.js'
import { fakePeerId, ManualTime } from './fakes.js'

function pongFor(seq: bigint, extra: Partial<Pong> = {}): Control {
  return {
    kind: {
      $case: 'pong',
      value: { seq, pingSentAtMs: 0n, sentAtMs: 0n, probePort: 0, probeKey: new Uint8Array(0), probeId: new Uint8Array(0), probesReceived: 0, probesExpected: 0, ...extra },
    },
  }
}

async function single(counters?: (peer: PeerId) => { in: number; out: number }) {
  const time = new ManualTime()
  const sent: Array<{ peer: string; control: Control }> = []
  const registry = new Registry()
  const metrics = createLinkMetrics(registry)
  const m = new LinkMonitor(
    { sendControl: async (peer, control) => void sent.push({ peer: peer.toString(), control }), bytesCounters: counters, clock: time.clock, scheduler: time, udpSocketFactory: null, metrics },
    { minIntervalMs: 1_000, maxIntervalMs: 1_000, pingTimeoutMs: 5_000, rttAlpha: 0.125 },
  )
  await m.start()
  const peer = fakePeerId('P')
  m.addPeer(peer)
  const pings = () => sent.filter((s) => s.control.kind?.$case === 'ping').map((s) => (s.control.kind as { value: { seq: bigint } }).value.seq)
  return { time, sent, m, peer, pings, metrics, registry }
}

describe('RttTracker', () => {
  it('first sample seeds the EWMA, then alpha weights new samples', () => {
    const r = new RttTracker(0.125, 4)
    expect(r.value).toBeUndefined()
    r.add(40)
    expect(r.value).toBe(40)
    r.add(80)
    expect(r.value).toBe(45)
    expect(r.jitter()).toBe(40)
    for (const v of [10, 10, 10, 10]) r.add(v)
    expect(r.jitter()).toBe(0)
  })
})

describe('LinkMonitor RTT from CONTROL ping/pong', () => {
  it('computes the EWMA from ping/pong sequences and feeds the histogram', async () => {
    const { time, m, peer, pings, metrics } = await single()
    time.advance(0)
    expect(pings()).toEqual([1n])
    time.advance(40)
    m.handleControl(peer, pongFor(1n))
    expect(m.stats(peer)?.rttMsEwma).toBe(40)
    time.advance(960) // ping 2 at t=1000
    expect(pings()).toEqual([1n, 2n])
    time.advance(80)
    m.handleControl(peer, pongFor(2n))
    expect(m.stats(peer)?.rttMsEwma).toBe(45) // 40 + 0.125 * (80 - 40)
    const h = await metrics.rtt.get()
    expect(h.values.find((v) => v.metricName === 'cpc_link_rtt_seconds_count')?.value).toBe(2)
    await m.stop()
  })

  it('ignores a pong for an unknown seq, a duplicate pong, and a pong after its timeout', async () => {
    const { time, m, peer, metrics } = await single()
    time.advance(10)
    m.handleControl(peer, pongFor(1n))
    expect(m.stats(peer)?.rttMsEwma).toBe(10)
    m.handleControl(peer, pongFor(1n)) // duplicate
    m.handleControl(peer, pongFor(999n)) // never sent
    expect(m.stats(peer)?.rttMsEwma).toBe(10)
    // ping 2 at t=1000 times out at t=6000; its pong arriving later does not count.
    time.advance(6_500 - 10)
    m.handleControl(peer, pongFor(2n))
    expect(m.stats(peer)?.rttMsEwma).toBe(10)
    const unknown = (await metrics.pings.get()).values.find((v) => v.labels.result === 'unknown_pong')?.value
    expect(unknown).toBe(3)
    // A pong from a peer we do not track is ignored too.
    m.handleControl(fakePeerId('stranger'), pongFor(3n))
    await m.stop()
  })

  it('RTT comes from our own send time, not the echoed ping_sent_at_ms', async () => {
    const { time, m, peer } = await single()
    time.advance(25)
    m.handleControl(peer, pongFor(1n, { pingSentAtMs: 123456789n }))
    expect(m.stats(peer)?.rttMsEwma).toBe(25)
    await m.stop()
  })

  it('answers a ping with a pong echoing seq and sent_at', async () => {
    const { time, m, sent } = await single()
    time.now = 5_000
    const other = fakePeerId('Q')
    m.handleControl(other, { kind: { $case: 'ping', value: { seq: 77n, sentAtMs: 4_990n, probePort: 0, probeKey: new Uint8Array(0), probeId: new Uint8Array(0) } } })
    const pong = sent.find((s) => s.control.kind?.$case === 'pong')
    expect(pong?.peer).toBe('Q')
    const v = (pong?.control.kind as { value: Pong }).value
    expect(v.seq).toBe(77n)
    expect(v.pingSentAtMs).toBe(4_990n)
    expect(v.sentAtMs).toBe(5_000n)
    await m.stop()
  })
})

describe('LinkMonitor throughput', () => {
  it('turns byte counters into bytes/s per direction and counts bytes', async () => {
    let bytesIn = 0
    let bytesOut = 0
    const { time, m, peer, registry } = await single(() => ({ in: bytesIn, out: bytesOut }))
    // 10 kB/s in, 2 kB/s out, sampled at every heartbeat (1 s).
    time.advance(0)
    for (let i = 0; i < 60; i++) {
      bytesIn += 10_000
      bytesOut += 2_000
      time.advance(1_000)
    }
    const s = m.stats(peer)
    expect(s?.bytesInPerSec).toBeCloseTo(10_000, 6)
    expect(s?.bytesOutPerSec).toBeCloseTo(2_000, 6)
    const text = await registry.metrics()
    expect(text).toMatch(/cpc_link_bytes_total\{direction="in"\} 600000/)
    expect(text).not.toMatch(/peer[_a-z]*="/)
    await m.stop()
  })
})
