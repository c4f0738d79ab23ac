// Messages between NetworkHandlers on 127.0.0.1: every priority delivered and verified, a message to
// an offline peer delivered once it starts, the outbox surviving a sender restart, message:expired for
// a peer that never comes, and broadcast to neighbors.
import { afterAll, afterEach, describe, expect, it } from '@jest/globals'
import { PeerState, Priority, Route } from '@cpc/protocol'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { NetworkHandler } from '../src/network-handler.js'
import type { MessageEventDetail, MessageExpiredEventDetail } from '../src/events.js'
import { record, waitForEvent } from './helpers/events.js'
import { Handlers, addressOf } from './helpers/handlers.js'
import { TempDirs } from './helpers/tmp.js'

const dirs = new TempDirs()
const handlers = new Handlers()
afterEach(async () => handlers.stopAll())
afterAll(async () => dirs.cleanup())

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (b: Uint8Array): string => new TextDecoder().decode(b)

async function connectedPair(): Promise<[NetworkHandler, NetworkHandler]> {
  const a = await handlers.started()
  const b = await handlers.create({ bootstrap: [addressOf(a)] })
  const connected = waitForEvent(b, 'peer:state', (d: { peerId: string; to: PeerState }) => d.peerId === a.peerId.toString() && d.to === PeerState.PEER_STATE_CONNECTED)
  await b.start()
  await connected
  return [a, b]
}

describe('NetworkHandler messaging', () => {
  it('delivers a message at each priority, verified, with its origin', async () => {
    const [a, b] = await connectedPair()
    const got = record<MessageEventDetail>(b, 'message')
    for (const priority of [Priority.LOW, Priority.MEDIUM, Priority.HIGH]) {
      const result = await a.sendMessage(b.peerId.toString(), text(`p${priority}`), priority)
      expect(result.route).toBe(Route.ROUTE_DIRECT)
      expect(typeof result.nonce).toBe('bigint')
    }
    const events = await got.until((e) => e.length >= 3)
    got.stop()
    const byPriority = new Map(events.map((e) => [e.priority, e]))
    for (const priority of [Priority.LOW, Priority.MEDIUM, Priority.HIGH]) {
      const e = byPriority.get(priority)!
      expect(str(e.payload)).toBe(`p${priority}`)
      expect(e.origin).toBe(a.peerId.toString())
      expect(e.peerId).toBe(a.peerId.toString())
      expect(e.route).toBe(Route.ROUTE_DIRECT)
    }
    // The reverse direction works over the same connection.
    const back = waitForEvent<MessageEventDetail>(a, 'message')
    await b.sendMessage(a.peerId, text('pong'), Priority.HIGH)
    expect(str((await back).payload)).toBe('pong')
  })

  it('rejects bad arguments with typed errors', async () => {
    const [a] = await connectedPair()
    await expect(a.sendMessage('not-a-peer', text('x'), Priority.LOW)).rejects.toMatchObject({ code: 'ERR_INVALID_PEER_ID' })
    await expect(a.sendMessage(a.peerId, text('x'), Priority.LOW)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(a.sendMessage(peerIdFromPrivateKey(await generateKeyPair('Ed25519')), text('x'), 7 as Priority)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })

  it('queues a message for an offline peer and delivers it once that peer starts', async () => {
    const a = await handlers.started()
    const b = await handlers.create({ bootstrap: [addressOf(a)] })
    const result = await a.sendMessage(b.peerId, text('waiting for you'), Priority.HIGH)
    expect(result.route).toBe(Route.ROUTE_QUEUED)
    expect(a.status().outboxDepth).toBe(1)
    const got = waitForEvent<MessageEventDetail>(b, 'message', undefined, 20_000)
    await b.start()
    const msg = await got
    expect(str(msg.payload)).toBe('waiting for you')
    expect(msg.origin).toBe(a.peerId.toString())
  })

  it('keeps queued messages in the outbox across a sender restart and delivers them', async () => {
    const senderDir = await dirs.make()
    const receiverDir = await dirs.make()
    const first = await handlers.started({ dataDir: senderDir })
    // The receiver's identity exists (its data dir) but it is offline while the message is sent.
    const offline = await handlers.create({ dataDir: receiverDir })
    const receiverId = offline.peerId
    await offline.stop()
    expect((await first.sendMessage(receiverId, text('survives a restart'), Priority.MEDIUM)).route).toBe(Route.ROUTE_QUEUED)
    await first.stop()

    const second = await handlers.started({ dataDir: senderDir })
    expect(second.peerId.equals(first.peerId)).toBe(true)
    expect(second.status().outboxDepth).toBe(1)
    const receiver = await handlers.create({ dataDir: receiverDir, bootstrap: [addressOf(second)] })
    expect(receiver.peerId.equals(receiverId)).toBe(true)
    const got = waitForEvent<MessageEventDetail>(receiver, 'message', undefined, 20_000)
    await receiver.start()
    const msg = await got
    expect(str(msg.payload)).toBe('survives a restart')
    expect(msg.origin).toBe(first.peerId.toString())
  })

  it('fires message:expired for a short ttl to a peer that never comes', async () => {
    const a = await handlers.started()
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const expired = waitForEvent<MessageExpiredEventDetail>(a, 'message:expired', (d) => d.peerId === nobody.toString(), 15_000)
    const result = await a.sendMessage(nobody, text('too late'), Priority.LOW, { ttlMs: 200 })
    expect(result.route).toBe(Route.ROUTE_QUEUED)
    const detail = await expired
    expect(detail.nonce).toBe(result.nonce)
    expect(detail.reason).toBe('expired')
  })

  it('broadcasts to every neighbor', async () => {
    const hub = await handlers.started()
    const leaves = await Promise.all([0, 1].map(async () => handlers.create({ bootstrap: [addressOf(hub)] })))
    const connected = leaves.map(async (leaf) =>
      waitForEvent(hub, 'peer:state', (d: { peerId: string; to: PeerState }) => d.peerId === leaf.peerId.toString() && d.to === PeerState.PEER_STATE_CONNECTED),
    )
    await Promise.all(leaves.map(async (l) => l.start()))
    await Promise.all(connected)
    const got = leaves.map(async (leaf) => waitForEvent<MessageEventDetail>(leaf, 'message'))
    const result = await hub.broadcast(text('hello all'), Priority.MEDIUM, { kind: 'neighbors' })
    expect(result.sentTo).toBe(2)
    for (const msg of await Promise.all(got)) expect(str(msg.payload)).toBe('hello all')
  })
})
