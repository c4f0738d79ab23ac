// The LinkMonitor (src/link) driven by the ConnectionManager: pings and pongs travel as signed
// CONTROL messages over CpcChannel, stats show up in summaries, and a disconnect removes the peer.
import { afterEach, describe, expect, it } from '@jest/globals'
import { GoodbyeReason, PeerState } from '@cpc/protocol'
import { waitForEvent } from './helpers/events.js'
import { createStack, type Stack } from './helpers/stack.js'

describe('ConnectionManager + LinkMonitor', () => {
  const stacks: Stack[] = []
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map(async (s) => s.stop()))
  })

  it('measures RTT over CONTROL ping/pong and reports it in summaries and info', async () => {
    const a = await createStack({ link: true })
    const b = await createStack({ link: true })
    stacks.push(a, b)
    const statsEvent = waitForEvent<{ peer: { toString(): string }; stats: { rttMsEwma: number } }>(
      a.link!,
      'link:stats',
      (d) => d.peer.toString() === b.node.peerId.toString() && d.stats.rttMsEwma > 0,
    )
    await a.cm.connect(b.node.peerId, { multiaddrs: b.node.getMultiaddrs() })
    await statsEvent
    const summary = a.cm.summaries().find((s) => s.peerId === b.node.peerId.toString())
    expect(summary?.link?.rttMsEwma).toBeGreaterThan(0)
    expect(summary?.link?.heartbeatIntervalMs).toBeGreaterThan(0)
    expect(Object.keys(summary!.link!).sort()).toEqual(['bytesInPerSec', 'bytesOutPerSec', 'heartbeatIntervalMs', 'lossRatio', 'rttMsEwma'])
    expect(a.cm.info(b.node.peerId).link?.rttMsEwma).toBeGreaterThan(0)
    // Pings are signed CONTROL messages: nothing was rejected on either side.
    expect(await b.registry.getSingleMetricAsString('cpc_connection_manager_control_rejected_total')).not.toContain('reason=')

    await a.cm.disconnect(b.node.peerId, GoodbyeReason.USER_REQUESTED)
    expect(a.cm.state(b.node.peerId)).toBe(PeerState.PEER_STATE_DISCONNECTED)
    expect(a.link!.stats(b.node.peerId)).toBeUndefined()
  })
})
