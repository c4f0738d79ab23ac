// stop() leaves nothing running: after two connected handlers exchanged messages and stopped, the
// process holds no more sockets or servers than before they were created, and no timer created
// meanwhile still holds the event loop (libp2p's AbortSignal.timeout timers are unref'd and may
// linger until they fire; they cannot keep a process alive).
//
// One exception, upstream: libp2p 3.3.11's address manager debounces a peer-store update (1 s,
// referenced) on every 'transport:close', and its TCP listeners emit that while libp2p.stop() closes
// them, after the address manager has stopped. So each stopped node leaves one such timer that fires
// within 1 s and does nothing harmful (the failed peer-store write is caught and logged). It is
// allowed here by its stack, at most one per node, and reported upstream-side in README.md.
import { createHook } from 'node:async_hooks'
import { afterAll, describe, expect, it } from '@jest/globals'
import { PeerState, Priority } from '@cpc/protocol'
import { waitForEvent } from './helpers/events.js'
import { Handlers, addressOf } from './helpers/handlers.js'
import { TempDirs } from './helpers/tmp.js'

const dirs = new TempDirs()
afterAll(async () => dirs.cleanup())

function resources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1
  return counts
}

const HANDLES = ['TCPServerWrap', 'TCPSocketWrap', 'UDPWrap', 'PipeWrap']

describe('NetworkHandler.stop()', () => {
  it('leaves no socket, server or referenced timer behind', async () => {
    const before = resources()
    const timers = new Map<number, { timer: { hasRef(): boolean }; stack: string }>()
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (type === 'Timeout') timers.set(id, { timer: resource as { hasRef(): boolean }, stack: new Error().stack ?? '' })
      },
      destroy(id) {
        timers.delete(id)
      },
    })
    hook.enable()
    try {
      const handlers = new Handlers()
      const a = await handlers.started({ dataDir: await dirs.make(), groups: ['g'] })
      const b = await handlers.create({ dataDir: await dirs.make(), bootstrap: [addressOf(a)] })
      const connected = waitForEvent(b, 'peer:state', (d: { peerId: string; to: PeerState }) => d.peerId === a.peerId.toString() && d.to === PeerState.PEER_STATE_CONNECTED)
      await b.start()
      await connected
      const got = waitForEvent(b, 'message')
      await a.sendMessage(b.peerId, new Uint8Array([1, 2, 3]), Priority.HIGH)
      await got
      const sub = a.events()
      await handlers.stopAll()
      expect((await sub.next()).done).toBe(true)
      // Closed sockets are released on the next turns of the event loop.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    } finally {
      hook.disable()
    }
    const after = resources()
    for (const kind of HANDLES) expect({ kind, count: after[kind] ?? 0 }).toEqual({ kind, count: before[kind] ?? 0 })
    const referenced = [...timers.values()].filter((t) => t.timer.hasRef()).map((t) => t.stack)
    const libp2pDebounce = referenced.filter((stack) => stack.includes('_updatePeerStoreAddresses') && stack.includes('emitCloseNT'))
    expect(libp2pDebounce.length).toBeLessThanOrEqual(2)
    expect(referenced.filter((stack) => !libp2pDebounce.includes(stack))).toEqual([])
  })
})
