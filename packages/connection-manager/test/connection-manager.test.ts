// ConnectionManager on real libp2p nodes over 127.0.0.1: the exact state sequences.
import { afterEach, describe, expect, it } from '@jest/globals'
import { Control, CpcMessage, GoodbyeReason, MessageSigner, MessageType, PeerState, encodeFrame } from '@cpc/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerStateEventDetail } from '../src/connection-manager.js'
import { ManualClock, seededRandom } from './helpers/clock.js'
import { record } from './helpers/events.js'
import { crash } from './helpers/nodes.js'
import { FakeScorer, createStack, type Stack } from './helpers/stack.js'

const { PEER_STATE_DISCONNECTED: D, PEER_STATE_CONNECTING: CI, PEER_STATE_CONNECTED: C, PEER_STATE_DISCONNECTING: DI } = PeerState

const steps = (events: PeerStateEventDetail[], peerId: string): Array<[PeerState, PeerState, string]> =>
  events.filter((e) => e.peerId === peerId).map((e) => [e.from, e.to, e.reason])

describe('ConnectionManager (real libp2p nodes)', () => {
  const stacks: Stack[] = []
  const track = (s: Stack): Stack => {
    stacks.push(s)
    return s
  }

  afterEach(async () => {
    await Promise.all(stacks.splice(0).map(async (s) => s.stop()))
  })

  it('connect: Disconnected → Connecting → Connected on both sides, and pools the connection', async () => {
    const scorer = new FakeScorer()
    const a = track(await createStack({ scorer }))
    const b = track(await createStack())
    const recA = record<PeerStateEventDetail>(a.cm, 'peer:state')
    const recB = record<PeerStateEventDetail>(b.cm, 'peer:state')
    const bId = b.node.peerId.toString()
    const aId = a.node.peerId.toString()

    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    expect(steps(recA.events, bId)).toEqual([
      [D, CI, 'dial'],
      [CI, C, 'connected'],
    ])
    await recB.until((e) => e.some((x) => x.to === C))
    expect(steps(recB.events, aId)).toEqual([
      [D, CI, 'inbound'],
      [CI, C, 'inbound'],
    ])
    expect(a.cm.state(b.node.peerId)).toBe(C)
    expect(scorer.calls).toEqual([`connected ${bId}`, `dialSucceeded ${bId}`])

    // Pooling: connecting again (from either side) opens nothing new and changes no state.
    await a.cm.connect(b.node.peerId)
    await b.cm.connect(a.node.peerId)
    expect(a.node.getConnections(b.node.peerId)).toHaveLength(1)
    expect(steps(recA.events, bId)).toHaveLength(2)
    expect(steps(recB.events, aId)).toHaveLength(2)
    const summary = a.cm.summaries().find((s) => s.peerId === bId)
    expect(summary).toMatchObject({ state: C, protected: false, relayed: false })
    expect(summary?.multiaddrs[0]).toContain('/ip4/127.0.0.1/tcp/')
    const metrics = await a.registry.getSingleMetricAsString('cpc_connection_manager_transitions_total')
    expect(metrics).toContain('cpc_connection_manager_transitions_total{from="connecting",to="connected",reason="connected"} 1')
    expect(metrics).not.toContain(bId)
    recA.stop()
    recB.stop()
  })

  it('graceful disconnect: a signed goodbye with the reason reaches the remote before the close', async () => {
    const a = track(await createStack())
    const b = track(await createStack())
    const bConnected = record<PeerStateEventDetail>(b.cm, 'peer:state')
    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    await bConnected.until((e) => e.some((x) => x.to === C))
    bConnected.stop()
    const recA = record<PeerStateEventDetail>(a.cm, 'peer:state')
    const recB = record<PeerStateEventDetail>(b.cm, 'peer:state')

    await a.cm.disconnect(b.node.peerId, GoodbyeReason.SHUTDOWN)
    await recB.until((e) => e.some((x) => x.to === D))
    expect(steps(recA.events, b.node.peerId.toString())).toEqual([
      [C, DI, 'goodbye'],
      [DI, D, 'closed'],
    ])
    expect(steps(recB.events, a.node.peerId.toString())).toEqual([
      [C, DI, 'remote-goodbye'],
      [DI, D, 'closed'],
    ])
    expect(recB.events[0].goodbye).toEqual({ direction: 'in', reason: GoodbyeReason.SHUTDOWN, detail: '' })
    expect(a.node.getConnections(b.node.peerId)).toHaveLength(0)
    expect(await b.registry.getSingleMetricAsString('cpc_connection_manager_goodbyes_total')).toContain('direction="in",reason="SHUTDOWN"} 1')
    // A goodbye means no retry storm: nothing is queued on either side.
    expect(await b.registry.getSingleMetricAsString('cpc_connection_manager_retries_total')).not.toContain('outcome="scheduled"')
    expect(await a.registry.getSingleMetricAsString('cpc_connection_manager_retries_total')).not.toContain('outcome="scheduled"')
    recA.stop()
    recB.stop()
  })

  it('remote crash: Connected → Disconnected (error), then retries until the peer comes back on the same key and port', async () => {
    const clock = new ManualClock()
    const scorer = new FakeScorer()
    const a = track(await createStack({ clock, scorer, random: seededRandom(1), init: { backoff: { baseMs: 100, capMs: 1000, maxAttempts: 5 } } }))
    const b = await createStack()
    const bKey = b.privateKey
    const bPort = b.port
    const bId = b.node.peerId.toString()
    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    const recA = record<PeerStateEventDetail>(a.cm, 'peer:state')

    // A crash says no goodbye: the node goes first, then its manager (whose stop() would say one).
    await crash(b.node)
    await b.stop()
    await recA.until((e) => e.some((x) => x.to === D))
    expect(steps(recA.events, bId)).toEqual([[C, D, 'error']])
    expect(scorer.calls).toContain(`disconnected ${bId} error`)
    expect(clock.pending).toBe(1)

    // First retry while the peer is down: fails, and the next one is scheduled.
    clock.runNext()
    await recA.until((e) => e.filter((x) => x.to === D).length === 2)
    expect(steps(recA.events, bId).slice(1)).toEqual([
      [D, CI, 'retry'],
      [CI, D, 'dial-failed'],
    ])
    expect(scorer.calls).toContain(`dialFailed ${bId}`)
    expect(clock.pending).toBe(1)

    // The peer comes back with the same identity on the same port; the next retry connects.
    const b2 = track(await createStack({ privateKey: bKey, port: bPort }))
    expect(b2.node.peerId.toString()).toBe(bId)
    clock.runNext()
    await recA.until((e) => e.some((x) => x.to === C))
    expect(steps(recA.events, bId).slice(3)).toEqual([
      [D, CI, 'retry'],
      [CI, C, 'connected'],
    ])
    expect(a.cm.info(b.node.peerId).dialAttempts).toBe(3)
    expect(await a.registry.getSingleMetricAsString('cpc_connection_manager_dials_total')).toContain('kind="retry",result="success"} 1')
    recA.stop()
  })

  it('gives up after maxAttempts and forgets the peer', async () => {
    const clock = new ManualClock()
    const a = track(await createStack({ clock, random: seededRandom(2), init: { backoff: { baseMs: 10, capMs: 20, maxAttempts: 2 } } }))
    const b = await createStack()
    const bId = b.node.peerId.toString()
    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    const recA = record<PeerStateEventDetail>(a.cm, 'peer:state')
    await crash(b.node)
    await b.stop()
    await recA.until((e) => e.some((x) => x.to === D))
    for (let i = 1; i <= 2; i++) {
      clock.runNext()
      await recA.until((e) => e.filter((x) => x.reason === 'dial-failed').length === i)
    }
    expect(clock.pending).toBe(0)
    expect(a.cm.peers()).not.toContain(bId)
    expect(await a.registry.getSingleMetricAsString('cpc_connection_manager_retries_total')).toContain('outcome="given_up"} 1')
    recA.stop()
  })

  it('rejects a CONTROL goodbye that is not signed by the sending peer', async () => {
    const a = track(await createStack())
    const b = track(await createStack())
    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    const forger = new MessageSigner(await generateKeyPair('Ed25519'))
    const forged = forger.sign(
      CpcMessage.fromPartial({
        nonce: 1n,
        messageType: MessageType.CONTROL,
        payload: Control.encode({ kind: { $case: 'goodbye', value: { reason: GoodbyeReason.BANNED, detail: '' } } }).finish(),
      }),
    )
    const rejected = new Promise<void>((resolve) => {
      b.channel.addEventListener('message', () => queueMicrotask(resolve), { once: true })
    })
    await a.channel.send(b.node.peerId, encodeFrame(forged))
    await rejected
    expect(b.cm.state(a.node.peerId)).toBe(C)
    expect(await b.registry.getSingleMetricAsString('cpc_connection_manager_control_rejected_total')).toContain('reason="ERR_INVALID_ORIGIN"} 1')
  })

  it('an aborted connect ends in Disconnected (aborted) and does not retry', async () => {
    const clock = new ManualClock()
    const a = track(await createStack({ clock }))
    const b = track(await createStack())
    const recA = record<PeerStateEventDetail>(a.cm, 'peer:state')
    const controller = new AbortController()
    const pending = a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs(), signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    // The dial may have won the race; either way the sequence is on the table and nothing is queued.
    const seq = steps(recA.events, b.node.peerId.toString())
    expect(seq[0]).toEqual([D, CI, 'dial'])
    if (seq[1]?.[1] === D) expect(seq[1]).toEqual([CI, D, 'aborted'])
    expect(clock.pending).toBe(0)
    recA.stop()
  })

  it('a caller giving up on a dial to a protected peer does not cancel its retries', async () => {
    const clock = new ManualClock()
    const a = track(await createStack({ clock }))
    const b = track(await createStack())
    a.cm.protect(b.node.peerId, 'bootstrap')
    const recA = record<PeerStateEventDetail>(a.cm, 'peer:state')
    const controller = new AbortController()
    const pending = a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs(), signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    const seq = steps(recA.events, b.node.peerId.toString())
    expect(seq.slice(0, 2)).toEqual([
      [D, CI, 'dial'],
      [CI, D, 'aborted'],
    ])
    // The manager still owes the bootstrap peer a retry: one is scheduled on the clock, and it connects.
    expect(clock.pending).toBeGreaterThan(0)
    clock.runNext()
    await recA.until((e) => e.some((x) => x.peerId === b.node.peerId.toString() && x.to === C))
    recA.stop()
  })

  it('prunes above the high watermark: lowest-scored unprotected first, down to the low watermark', async () => {
    const scores = new Map<string, number>()
    const a = track(await createStack({ scorer: new FakeScorer(scores), init: { watermarks: { low: 2, high: 3 } } }))
    const peers = [await createStack(), await createStack(), await createStack(), await createStack()].map(track)
    const [best, protectedWorst, mid, low] = peers
    scores.set(best.node.peerId.toString(), 0.9)
    scores.set(protectedWorst.node.peerId.toString(), 0.05)
    scores.set(mid.node.peerId.toString(), 0.5)
    scores.set(low.node.peerId.toString(), 0.2)
    a.cm.protect(protectedWorst.node.peerId, 'bootstrap')
    const recA = record<PeerStateEventDetail>(a.cm, 'peer:state')
    const goodbyeAtLow = record<PeerStateEventDetail>(low.cm, 'peer:state')

    for (const p of peers) await a.cm.connect(p.node.peerId, { multiaddrs: p.node.getMultiaddrs() })
    await recA.until((e) => e.filter((x) => x.reason === 'closed').length === 2)
    const pruned = recA.events.filter((e) => e.reason === 'pruned').map((e) => e.peerId)
    expect(pruned).toEqual([low.node.peerId.toString(), mid.node.peerId.toString()])
    expect(a.cm.connectedPeers().map(String).sort()).toEqual([best.node.peerId.toString(), protectedWorst.node.peerId.toString()].sort())
    await goodbyeAtLow.until((e) => e.some((x) => x.reason === 'remote-goodbye'))
    expect(goodbyeAtLow.events.find((x) => x.reason === 'remote-goodbye')?.goodbye?.reason).toBe(GoodbyeReason.PRUNED)
    expect(await a.registry.getSingleMetricAsString('cpc_connection_manager_pruned_total')).toContain('cpc_connection_manager_pruned_total 2')
    recA.stop()
    goodbyeAtLow.stop()
  })
})
