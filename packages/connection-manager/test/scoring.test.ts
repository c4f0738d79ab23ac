// The real @cpc/scoring PeerScorer wired into the ConnectionManager on real libp2p nodes: what the
// manager reports moves the scores as the scoring model says, and pruning follows those scores.
import { afterEach, describe, expect, it } from '@jest/globals'
import { GoodbyeReason, PeerState } from '@cpc/protocol'
import { PeerScorer } from '@cpc/scoring'
import type { PeerStateEventDetail } from '../src/connection-manager.js'
import type { PeerScorerLike } from '../src/scorer.js'
import { ManualClock, seededRandom } from './helpers/clock.js'
import { record } from './helpers/events.js'
import { crash } from './helpers/nodes.js'
import { createStack, type Stack } from './helpers/stack.js'

const { PEER_STATE_DISCONNECTED: D, PEER_STATE_CONNECTED: C } = PeerState
const MINUTE = 60_000

describe('ConnectionManager + real PeerScorer', () => {
  const stacks: Stack[] = []
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map(async (s) => s.stop()))
  })

  it('connect, remote crash and failed dials move the score; pruning drops the lowest composite', async () => {
    let now = 1_000_000
    const scorer = new PeerScorer({ clock: () => now })
    // Compile-time check that the narrow interface matches the real class.
    const narrow: PeerScorerLike = scorer
    const clock = new ManualClock()
    const a = await createStack({ clock, scorer: narrow, random: seededRandom(3), init: { watermarks: { low: 1, high: 1 }, backoff: { baseMs: 100, capMs: 1_000, maxAttempts: 5 } } })
    stacks.push(a)
    const b = await createStack()
    const bId = b.node.peerId.toString()
    const recA = record<PeerStateEventDetail>(a.cm, 'peer:state')

    // Unknown: neutral.
    expect(scorer.composite(bId)).toBeCloseTo(0.5, 5)

    // Connect: connected + dialSucceeded → stability above neutral.
    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    const connected = scorer.score(bId)
    expect(connected.connected).toBe(true)
    expect(connected.stability).toBeGreaterThan(0.5)
    expect(connected.composite).toBeGreaterThan(0.5)

    // Remote crash: an error disconnect lowers stability; the time it stays down lowers uptime.
    await crash(b.node)
    await b.stop()
    await recA.until((e) => e.some((x) => x.to === D))
    expect(recA.events.at(-1)).toMatchObject({ from: C, to: D, reason: 'error' })
    const crashed = scorer.score(bId)
    expect(crashed.connected).toBe(false)
    expect(crashed.stability).toBeLessThan(connected.stability)
    now += 30 * MINUTE
    const down = scorer.score(bId)
    expect(down.uptime).toBeLessThan(0.2)
    expect(down.composite).toBeLessThan(connected.composite)

    // A retry while it is down fails: dialFailed lowers stability again.
    clock.runNext()
    await recA.until((e) => e.filter((x) => x.reason === 'dial-failed').length === 1)
    const failed = scorer.score(bId)
    expect(failed.stability).toBeLessThan(down.stability)

    // It comes back (same key and port) and the next retry reconnects it.
    const b2 = await createStack({ privateKey: b.privateKey, port: b.port })
    stacks.push(b2)
    const b2Events = record<PeerStateEventDetail>(b2.cm, 'peer:state')
    clock.runNext()
    await recA.until((e) => e.filter((x) => x.to === C).length === 2)
    expect(scorer.score(bId).connected).toBe(true)

    // A fresh, clean peer: above the high watermark (1), the lower composite goes, and that is b.
    const c = await createStack()
    stacks.push(c)
    const cId = c.node.peerId.toString()
    await a.cm.connect(c.node.peerId, { multiaddrs: c.node.getMultiaddrs() })
    await recA.until((e) => e.some((x) => x.reason === 'pruned'))
    expect(scorer.composite(bId)).toBeLessThan(scorer.composite(cId))
    expect(scorer.pruneCandidates([bId, cId], 1).map((s) => s.peerId)).toEqual([bId])
    expect(recA.events.filter((x) => x.reason === 'pruned').map((x) => x.peerId)).toEqual([bId])
    await b2Events.until((e) => e.some((x) => x.reason === 'remote-goodbye'))
    expect(b2Events.events.find((x) => x.reason === 'remote-goodbye')?.goodbye?.reason).toBe(GoodbyeReason.PRUNED)
    await recA.until((e) => e.some((x) => x.peerId === bId && x.reason === 'closed'))
    expect(a.cm.connectedPeers().map(String)).toEqual([cId])
    // A prune is a clean disconnect: not charged as down time, so b's uptime does not fall further.
    const afterPrune = scorer.score(bId)
    now += 30 * MINUTE
    expect(scorer.score(bId).uptime).toBeGreaterThanOrEqual(afterPrune.uptime)
    recA.stop()
    b2Events.stop()
  })
})
