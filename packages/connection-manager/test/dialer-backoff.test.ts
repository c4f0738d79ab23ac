// Backoff exponent on real libp2p nodes over 127.0.0.1: only the manager's own retries raise it. A
// caller's dials (the router dials a kept peer on every send while it is away) used to count too, so a
// partition with a few sends in it pushed the next retry to the cap and the heal waited for it.
import { afterEach, describe, expect, it } from '@jest/globals'
import { PeerState } from '@cpc/protocol'
import type { PeerStateEventDetail } from '../src/connection-manager.js'
import { ManualClock } from './helpers/clock.js'
import { record } from './helpers/events.js'
import { crash } from './helpers/nodes.js'
import { createStack, type Stack } from './helpers/stack.js'

const { PEER_STATE_DISCONNECTED: D } = PeerState
// random() ≈ 1: every delay sits just under its ceiling, min(cap, base * 2^attempt).
const NEAR_ONE = (): number => 0.999
const BASE = 100

describe('backoff exponent (real libp2p nodes)', () => {
  const stacks: Stack[] = []
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map(async (s) => s.stop()))
  })

  it("a caller's failed dials keep the exponent; the manager's own failed retry raises it", async () => {
    const clock = new ManualClock()
    const a = await createStack({ clock, random: NEAR_ONE, init: { backoff: { baseMs: BASE, capMs: 100_000, maxAttempts: 10 } } })
    stacks.push(a)
    const b = await createStack()
    const bId = b.node.peerId.toString()
    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    a.cm.protect(b.node.peerId, 'bootstrap')
    const rec = record<PeerStateEventDetail>(a.cm, 'peer:state')
    await crash(b.node)
    await b.stop()
    await rec.until((e) => e.some((x) => x.peerId === bId && x.to === D))
    const nextDelay = (): number => (clock.nextAt() ?? Number.NaN) - clock.now()
    // The loss schedules retry 0 (delay < BASE).
    expect(nextDelay()).toBeLessThan(BASE)

    // Six sends' worth of caller dials, each refused at once (nothing listens on b's port any more).
    for (let i = 0; i < 6; i++) await expect(a.cm.connect(b.node.peerId)).rejects.toMatchObject({ code: 'ERR_DIAL_FAILED' })
    // Each rescheduled the retry, at exponent 1 (the loss counted once): delay < 2 * BASE, not 2^7 * BASE.
    expect(clock.pending).toBe(1)
    expect(nextDelay()).toBeGreaterThanOrEqual(BASE)
    expect(nextDelay()).toBeLessThan(2 * BASE)

    // The manager's own retries count: the first runs at exponent 1 (delay < 2 * BASE), and its
    // failure moves the next one to exponent 2 (2 * BASE ≤ delay < 4 * BASE).
    const failed = (): number => rec.events.filter((x) => x.reason === 'dial-failed').length
    for (const [low, high] of [[BASE, 2 * BASE], [2 * BASE, 4 * BASE]]) {
      const before = failed()
      clock.runNext()
      await rec.until(() => failed() === before + 1)
      expect(nextDelay()).toBeGreaterThanOrEqual(low!)
      expect(nextDelay()).toBeLessThan(high!)
    }
    expect(a.cm.info(b.node.peerId).dialAttempts).toBe(1 + 6 + 2)
    rec.stop()
  })
})
