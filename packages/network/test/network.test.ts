// NetworkHandler lifecycle on 127.0.0.1: identity and state persisted across a restart, bootstrap
// connection with peer:state and peer:discovered on both sides, score:changed on a penalty, and stop()
// leaving nothing running.
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from '@jest/globals'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { MessageType, PROTOCOL_ID, PeerState, Priority, encodeFrame } from '@cpc/protocol'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError } from '../src/errors.js'
import { NetworkHandler } from '../src/network-handler.js'
import type { PeerDiscoveredEventDetail, PeerStateEventDetail, ScoreChangedEventDetail } from '../src/events.js'
import { record, waitForEvent } from './helpers/events.js'
import { Handlers, addressOf } from './helpers/handlers.js'
import { TempDirs } from './helpers/tmp.js'

const dirs = new TempDirs()
const handlers = new Handlers()
afterEach(async () => handlers.stopAll())
afterAll(async () => dirs.cleanup())

const CONNECTED = PeerState.PEER_STATE_CONNECTED

describe('NetworkHandler', () => {
  it('create() rejects a bad config with a ConfigError naming the field', async () => {
    await expect(NetworkHandler.create({ listen: ['127.0.0.1:4001'] })).rejects.toBeInstanceOf(ConfigError)
    await expect(NetworkHandler.create({ bootstrap: ['/ip4/127.0.0.1/tcp/1'] })).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      field: 'config.bootstrap[0]',
    })
  })

  it('keeps its peer id, scores and nonce state across a restart from the same data dir', async () => {
    const dataDir = await dirs.make()
    const first = await handlers.started({ dataDir })
    const id = first.peerId.toString()
    await first.stop()
    const files = await readdir(dataDir)
    expect(files.sort()).toEqual(expect.arrayContaining(['datastore', 'identity.key', 'nonce.json', 'outbox', 'scores.json']))
    const { lastNonce } = JSON.parse(await readFile(path.join(dataDir, 'nonce.json'), 'utf8')) as { lastNonce: string }
    expect(BigInt(lastNonce)).toBeGreaterThanOrEqual(0n)

    const second = await handlers.started({ dataDir })
    expect(second.peerId.toString()).toBe(id)
    expect(second.status().peerId).toBe(id)
  })

  it('stop() is idempotent, and a stopped handler refuses to restart or send', async () => {
    const h = await handlers.started()
    await Promise.all([h.stop(), h.stop()])
    await h.stop()
    expect(h.libp2p.status).toBe('stopped')
    await expect(h.start()).rejects.toMatchObject({ code: 'ERR_STOPPED' })
    await expect(h.sendMessage(h.peerId, new Uint8Array([1]), Priority.HIGH)).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
  })

  it('connects to a bootstrap peer: both sides see peer:state Connected and peer:discovered', async () => {
    const a = await handlers.started()
    const aStates = record<PeerStateEventDetail>(a, 'peer:state')
    const aFound = record<PeerDiscoveredEventDetail>(a, 'peer:discovered')
    const b = await handlers.create({ bootstrap: [addressOf(a)] })
    const bId = b.peerId.toString()
    const bFound = waitForEvent<PeerDiscoveredEventDetail>(b, 'peer:discovered', (d) => d.peerId === a.peerId.toString())
    const bConnected = waitForEvent<PeerStateEventDetail>(b, 'peer:state', (d) => d.peerId === a.peerId.toString() && d.to === CONNECTED)
    await b.start()

    expect((await bFound).source).toBe('bootstrap')
    await bConnected
    await aStates.until((events) => events.some((e) => e.peerId === bId && e.to === CONNECTED))
    const found = await aFound.until((events) => events.some((e) => e.peerId === bId))
    expect(found.find((e) => e.peerId === bId)?.source).toBe('connection')
    expect(found.find((e) => e.peerId === bId)?.multiaddrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\//)
    expect(a.connectionState(bId)).toBe(CONNECTED)
    expect(b.connectionState(a.peerId)).toBe(CONNECTED)
    expect(a.peers().find((p) => p.peerId === bId)?.state).toBe(CONNECTED)
    const status = b.status()
    expect(status).toMatchObject({ connectedPeers: 1, reachability: 'unknown', relayReservations: 0, outboxDepth: 0 })
    expect(status.knownPeers).toBeGreaterThanOrEqual(1)
    aStates.stop()
    aFound.stop()
  })

  it('measures the link by default (RTT from CONTROL ping/pong in peers()), and not when link.enabled is false', async () => {
    const a = await handlers.started()
    const b = await handlers.create({ bootstrap: [addressOf(a)] })
    const monitor = a.parts.linkMonitor as unknown as EventTarget
    expect(monitor).toBeDefined()
    const bId = b.peerId.toString()
    const measured = waitForEvent<{ peer: { toString(): string }; stats: { rttMsEwma: number; lossSamples: { inbound: number } } }>(
      monitor,
      'link:stats',
      (d) => d.peer.toString() === bId && d.stats.rttMsEwma > 0,
    )
    await b.start()
    const { stats } = await measured
    expect(stats.rttMsEwma).toBeGreaterThan(0)
    const summary = a.peers().find((p) => p.peerId === bId)
    expect(summary?.link?.rttMsEwma).toBeGreaterThan(0)
    // Switched off by config: no monitor at all.
    const c = await handlers.create({ link: { enabled: false } })
    expect(c.parts.linkMonitor).toBeUndefined()
  })

  it('emits score:changed when a peer is penalized for an invalid signature', async () => {
    const a = await handlers.started()
    const rogue = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
    })
    try {
      const changed = waitForEvent<ScoreChangedEventDetail>(a, 'score:changed', (d) => d.peerId === rogue.peerId.toString() && d.score.penalty > 0)
      const stream = await rogue.dialProtocol(multiaddr(addressOf(a)), PROTOCOL_ID)
      const forged = {
        nonce: 1n,
        priority: Priority.HIGH,
        messageType: MessageType.EVENT,
        payload: new Uint8Array([1, 2, 3]),
        signature: new Uint8Array(64).fill(7),
        origin: rogue.peerId.toMultihash().bytes,
        timestampMs: BigInt(Date.now()),
        ttl: 0,
        compression: 0,
        chunk: undefined,
        group: '',
        expiresAtMs: 0n,
        recipient: new Uint8Array(),
        batch: undefined,
      }
      stream.send(encodeFrame(forged))
      const detail = await changed
      expect(detail.score.composite).toBeLessThan(0.5)
      expect(a.score(rogue.peerId).penalty).toBeGreaterThan(0)
      const received = record(a, 'message')
      expect(received.events).toHaveLength(0)
      received.stop()
    } finally {
      await rogue.stop()
    }
  })
})
