// The lab's topology on real namespaces: reachability on the public segment, NAT out of a private
// one, no way in from the public side, statistic loss and tbf rate limits as configured, and a
// destroy() that leaves nothing behind. Needs root, ip, iptables and tc; skipped (with the reason
// printed) without them.
import { describe, it, expect, afterAll, beforeAll } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import { Lab, labAvailable, listLabNamespaces, tcpEcho, tcpThroughput, udpLoss } from '../src/index.js'

const reason = labAvailable()
if (reason != null) console.log(`lab topology test skipped: ${reason}`)
const maybe = reason == null ? it : it.skip

const hostLinks = (): string[] =>
  spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1].trim())

describe('lab topology', () => {
  let lab: Lab | undefined
  let linksBefore: string[] = []

  beforeAll(() => {
    if (reason != null) return
    linksBefore = hostLinks()
    lab = Lab.create({
      segments: {
        pub: { subnet: '10.201.0.0/24' },
        lan1: { subnet: '192.168.1.0/24' },
        wire: { subnet: '10.201.9.0/30', kind: 'p2p' },
      },
      routers: { nat1: { wan: 'pub', lan: 'lan1', nat: 'masquerade' } },
      hosts: {
        s1: { segment: 'pub' },
        s2: { segment: 'pub' },
        p1: { segment: 'lan1' },
        x: { segment: 'wire' },
        y: { segment: 'wire' },
      },
    })
  })

  afterAll(async () => {
    await lab?.destroy()
  })

  maybe('hosts on the public segment reach each other', async () => {
    const r = await tcpEcho(lab!, 's1', 's2')
    expect(r).toMatchObject({ ok: true, seenFrom: lab!.node('s1').ip })
  })

  maybe('a private host reaches the public segment through its NAT (source rewritten to the WAN address)', async () => {
    const r = await tcpEcho(lab!, 'p1', 's1')
    expect(r.ok).toBe(true)
    expect(r.seenFrom).toBe(lab!.node('nat1').ip)
  })

  maybe('the public side cannot reach the private host, even with a route to it', async () => {
    const p1 = lab!.node('p1')
    const noRoute = await tcpEcho(lab!, 's1', 'p1', { timeoutMs: 1_000 })
    expect(noRoute.ok).toBe(false)
    expect(noRoute.error).toBe('ENETUNREACH')
    // An attacker on the public segment adds a route via the router's WAN: the router's filter drops it.
    lab!.execSync('s2', ['ip', 'route', 'add', '192.168.1.0/24', 'via', lab!.node('nat1').ip])
    const dropped = await tcpEcho(lab!, 's2', 'p1', { timeoutMs: 1_500, toIp: p1.ip })
    expect(dropped).toMatchObject({ ok: false, error: 'timeout' })
  })

  maybe('a 10% statistic drop on a link is observed within 3 binomial standard deviations', async () => {
    lab!.setLoss('y', { inbound: 0.1 })
    try {
      const r = await udpLoss(lab!, 'x', 'y', 5_000, 0.1)
      console.log(`udp loss at 10%: measured ${(r.loss * 100).toFixed(2)}% over ${r.sent} datagrams (σ ${(r.sigma * 100).toFixed(2)} pp)`)
      expect(Math.abs(r.loss - 0.1)).toBeLessThanOrEqual(3 * r.sigma)
    } finally {
      lab!.clearLoss('y')
    }
    const clean = await udpLoss(lab!, 'x', 'y', 2_000, 0)
    expect(clean.loss).toBeLessThanOrEqual(0.001)
  })

  maybe('tbf caps TCP throughput within 10% of the set rate', async () => {
    lab!.setRate('x', { rate: '20mbit', burst: '32kb', latency: '50ms' })
    try {
      const r = await tcpThroughput(lab!, 'x', 'y', 3_000)
      console.log(`tbf 20mbit: steady goodput ${(r.bitsPerSec / 1e6).toFixed(2)} Mbit/s (${r.bytes} bytes)`)
      expect(Math.abs(r.bitsPerSec / 20e6 - 1)).toBeLessThanOrEqual(0.1)
    } finally {
      lab!.clearRate('x')
    }
  })

  maybe('destroy() leaves no namespace and no host-side link behind', async () => {
    const names = lab!.namespaceNames
    expect(names.length).toBe(8) // 5 hosts, 1 router, 2 bridge namespaces (the p2p wire needs none)
    await lab!.destroy()
    const left = listLabNamespaces().filter((n) => names.includes(n.ns))
    expect(left).toEqual([])
    expect(hostLinks()).toEqual(linksBefore)
  })
})
