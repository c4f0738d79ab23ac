// NAT traversal pieces on 127.0.0.1: a node that listens only through a relay (role 'relay', circuit
// relay v2 server) holds a reservation and reports it in status(); another node reaches it (through
// the relay) and delivers a message over the relayed connection (route RELAY on both sides); and a
// send() that has to reach such a peer itself (no connection yet) is delivered too.
import { afterEach, describe, expect, it } from '@jest/globals'
import { PeerState, Priority, Route } from '@cpc/protocol'
import type { MessageEventDetail } from '../src/events.js'
import { waitForEvent } from './helpers/events.js'
import { Handlers, addressOf } from './helpers/handlers.js'
import { TempDirs } from './helpers/tmp.js'

const handlers = new Handlers()
const dirs = new TempDirs()
afterEach(async () => {
  await handlers.stopAll()
  await dirs.cleanup()
})

describe('relayed nodes', () => {
  it('reserves a slot on a relay, reports it, and receives a message through it', async () => {
    const relay = await handlers.started({ role: 'relay' })
    const relayAddr = addressOf(relay)
    // b has no listener of its own: it is reachable only through its reservation.
    const b = await handlers.create({ listen: [], relay: { listenVia: [relayAddr] } })
    const reserved = waitForEvent(b.libp2p, 'self:peer:update', () => b.multiaddrs.some((a) => a.toString().includes('/p2p-circuit')), 15_000)
    await b.start()
    await reserved
    expect(b.status()).toMatchObject({ relayReservations: 1, reachability: 'private' })
    expect(b.connectionState(relay.peerId)).toBe(PeerState.PEER_STATE_CONNECTED)

    const a = await handlers.started()
    const circuit = b.multiaddrs.find((m) => m.toString().includes('/p2p-circuit'))!
    const reached = waitForEvent(b, 'peer:state', (d: { peerId: string; to: PeerState }) => d.peerId === a.peerId.toString() && d.to === PeerState.PEER_STATE_CONNECTED, 15_000)
    await a.libp2p.dial(circuit)
    await reached
    const got = waitForEvent<MessageEventDetail>(b, 'message', undefined, 10_000)
    const result = await a.sendMessage(b.peerId, new TextEncoder().encode('via relay'), Priority.HIGH)
    expect(result.route).toBe(Route.ROUTE_RELAY)
    const msg = await got
    expect(new TextDecoder().decode(msg.payload)).toBe('via relay')
    expect(msg.route).toBe(Route.ROUTE_RELAY)
  })

  it('delivers a send() that has to reach a relay-only peer itself', async () => {
    const relay = await handlers.started({ role: 'relay' })
    const relayAddr = addressOf(relay)
    const b = await handlers.create({ listen: [], relay: { listenVia: [relayAddr] } })
    const reserved = waitForEvent(b.libp2p, 'self:peer:update', () => b.multiaddrs.some((a) => a.toString().includes('/p2p-circuit')), 15_000)
    await b.start()
    await reserved
    // The full default dial bound (the helper's 1.5 s queues the send when a loaded machine dials slowly).
    const a = await handlers.started({ relay: { listenVia: [relayAddr] }, connections: { dialTimeoutMs: 10_000 } })
    const got = waitForEvent<MessageEventDetail>(b, 'message', undefined, 30_000)
    const result = await a.sendMessage(b.peerId, new TextEncoder().encode('find me'), Priority.HIGH)
    // DIRECT when the peer was reached over a connection DCUtR reversed, RELAY over the circuit.
    expect([Route.ROUTE_DIRECT, Route.ROUTE_RELAY]).toContain(result.route)
    expect(new TextDecoder().decode((await got).payload)).toBe('find me')
  })

  it('gets its reservation back after the relay restarts (js-libp2p #3601)', async () => {
    const relayDir = await dirs.make()
    const relay = await handlers.started({ role: 'relay', dataDir: relayDir })
    const relayAddr = addressOf(relay)
    const port = relayAddr.toString().match(/\/tcp\/(\d+)/)![1]
    const hasCircuit = (h: typeof relay) => h.multiaddrs.some((a) => a.toString().includes('/p2p-circuit'))
    const b = await handlers.create({ listen: [], relay: { listenVia: [relayAddr] } })
    const reserved = waitForEvent(b.libp2p, 'self:peer:update', () => hasCircuit(b), 15_000)
    await b.start()
    await reserved

    // The relay goes away: b loses the reservation and its circuit address.
    // (Its circuit address is already gone when the relay's stop() returns: the goodbye closed the connection.)
    await relay.stop()
    expect(hasCircuit(b)).toBe(false)
    expect(b.status().relayReservations).toBe(0)

    // The same relay (identity from its data dir, same port) comes back: b reserves again by itself.
    const back = waitForEvent(b.libp2p, 'self:peer:update', () => hasCircuit(b), 20_000)
    const again = await handlers.started({ role: 'relay', dataDir: relayDir, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    expect(again.peerId.equals(relay.peerId)).toBe(true)
    await back
    expect(b.status().relayReservations).toBe(1)
  })
})
