// Unit tests with an injected clock and fake timers (no sleeps): announcement rate limiting and
// group filtering in PeerExchange, the group directory, the periodic exchange and its backoff, the
// announcer's coalescing, announcements on group and address changes, and dial outcomes reported to
// the scorer when discovery dials through libp2p.dial.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from '@jest/globals'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { CpcMessage, Discovery as DiscoveryPayload, MessageSigner, MessageType, NonceGenerator, PeerInfo, FrameDecoder } from '@cpc/protocol'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { Registry } from 'prom-client'
import {
  Announcer,
  Discovery,
  GroupDirectory,
  PeerExchange,
  PeerExchangeRateLimitedError,
  PeerExchangeTimeoutError,
  PeriodicExchange,
  createDiscoveryMetrics,
  type ChannelMessageDetail,
  type DiscoveryChannel,
  type DiscoveryDht,
  type DiscoveryError,
  type DiscoveryLibp2p,
  type DiscoveryPenaltyKind,
  type DiscoveryScorer,
  type DiscoveryTimers,
} from '../src/index.js'
import { Dialer } from '../src/dialer.js'
import { connectBootstrap } from '../src/bootstrap.js'
import { peerIdFromBytes } from '../src/peer-exchange/records.js'

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

/** A clock and timers the test advances by hand. */
class FakeTime implements DiscoveryTimers {
  now = 1_000_000
  private next = 1
  readonly pending = new Map<number, { at: number; fn: () => void }>()
  clock = (): number => this.now
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++
    this.pending.set(id, { at: this.now + ms, fn })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number)
  }
  /** Advances the clock and runs every timer that came due, in order. */
  advance(ms: number): void {
    this.now += ms
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= this.now).sort((a, b) => a[1].at - b[1].at)[0]
      if (due === undefined) return
      this.pending.delete(due[0])
      due[1].fn()
    }
  }
}

class RecordingScorer implements DiscoveryScorer {
  readonly scores = new Map<string, number>()
  readonly penalties: Array<{ peer: string; kind: DiscoveryPenaltyKind }> = []
  readonly dials: Array<{ peer: string; ok: boolean }> = []
  composite(peer: string): number {
    return this.scores.get(peer) ?? 0.5
  }
  penalize(peer: string, kind: DiscoveryPenaltyKind): void {
    this.penalties.push({ peer, kind })
  }
  dialSucceeded(peer: string): void {
    this.dials.push({ peer, ok: true })
  }
  dialFailed(peer: string): void {
    this.dials.push({ peer, ok: false })
  }
}

interface Identity {
  key: PrivateKey
  peerId: PeerId
  signer: MessageSigner
}

async function identity(): Promise<Identity> {
  const key = await generateKeyPair('Ed25519')
  return { key, peerId: peerIdFromPrivateKey(key), signer: new MessageSigner(key) }
}

/** A channel that records what is sent and lets the test inject received messages. */
class FakeChannel implements DiscoveryChannel {
  readonly sent: Array<{ peer: PeerId; payload: DiscoveryPayload }> = []
  private readonly handlers = new Set<(detail: ChannelMessageDetail) => void>()
  send(peer: PeerId, frames: Uint8Array | Uint8Array[]): unknown {
    const frame = Array.isArray(frames) ? frames[0] : frames
    const message = new FrameDecoder().push(frame)[0]
    this.sent.push({ peer, payload: DiscoveryPayload.decode(message.payload) })
    return Promise.resolve()
  }
  addMessageHandler(_type: MessageType, handler: (detail: ChannelMessageDetail) => void): void {
    this.handlers.add(handler)
  }
  removeMessageHandler(_type: MessageType, handler: (detail: ChannelMessageDetail) => void): void {
    this.handlers.delete(handler)
  }
  deliver(peer: PeerId, message: CpcMessage): void {
    for (const h of this.handlers) h({ peer, message, bytes: 0, limited: false })
  }
}

function fakeLibp2p(self: PeerId, opts: { peers?: () => PeerId[]; addrs?: () => Multiaddr[]; dial?: (p: PeerId) => Promise<unknown>; dht?: DiscoveryDht } = {}) {
  const store = new Map<string, { id: PeerId; addresses: Array<{ multiaddr: Multiaddr; isCertified: boolean }>; peerRecordEnvelope?: Uint8Array }>()
  const listeners = new Set<(evt: CustomEvent<unknown>) => void>()
  const libp2p: DiscoveryLibp2p & { store: typeof store; emitSelfUpdate(): void } = {
    peerId: self,
    store,
    peerStore: {
      get: async (id: PeerId) => {
        const p = store.get(id.toString())
        if (p === undefined) throw Object.assign(new Error('not found'), { name: 'NotFoundError' })
        return p
      },
      has: async (id: PeerId) => store.has(id.toString()),
      merge: async () => ({}),
      consumePeerRecord: async () => true,
    } as unknown as DiscoveryLibp2p['peerStore'],
    dial: async (p) => opts.dial?.(p as PeerId),
    getPeers: () => opts.peers?.() ?? [],
    getMultiaddrs: () => opts.addrs?.() ?? [],
    services: opts.dht === undefined ? {} : { dht: opts.dht },
    addEventListener: (_t, l) => listeners.add(l),
    removeEventListener: (_t, l) => listeners.delete(l),
    emitSelfUpdate: () => {
      for (const l of listeners) l(new CustomEvent('self:peer:update', { detail: {} }))
    },
  }
  return libp2p
}

function signed(from: Identity, payload: DiscoveryPayload, to: PeerId): CpcMessage {
  return from.signer.sign(
    CpcMessage.create({
      nonce: new NonceGenerator().next(),
      messageType: MessageType.DISCOVERY,
      payload: DiscoveryPayload.encode(payload).finish(),
      recipient: to.toMultihash().bytes,
    }),
  )
}

async function announcement(from: Identity, groups: string[]): Promise<DiscoveryPayload> {
  const record = await RecordEnvelope.seal(new PeerRecord({ peerId: from.peerId, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] }), from.key)
  const self = PeerInfo.create({ peerId: from.peerId.toMultihash().bytes, signedRecord: record.marshal(), multiaddrs: [] })
  return { kind: { $case: 'announce', value: { self, groups } } }
}

describe('PeerExchange: incoming announcements', () => {
  it('are rate limited per peer: a flood from one peer is dropped, counted and penalized, and another peer still gets through', async () => {
    const me = await identity()
    const flooder = await identity()
    const honest = await identity()
    const time = new FakeTime()
    const registry = new Registry()
    const metrics = createDiscoveryMetrics(registry)
    const scorer = new RecordingScorer()
    const directory = new GroupDirectory({ maxGroups: 8, maxMembersPerGroup: 8, ttlMs: 60_000 }, time.clock)
    const accepted: string[] = []
    const errors: DiscoveryError[] = []
    const pex = new PeerExchange(
      {
        libp2p: fakeLibp2p(me.peerId),
        channel: new FakeChannel(),
        signer: me.signer,
        scorer,
        metrics,
        clock: time.clock,
        logger: silent,
        groups: directory,
        onPeers: (peers) => accepted.push(...peers.map((p) => p.peerId.toString())),
        onError: (_peer, err) => errors.push(err),
      },
      { rateBurst: 3, rateIntervalMs: 10_000 },
    )
    pex.start()
    const flood = signed(flooder, await announcement(flooder, ['g']), me.peerId)
    const results = await Promise.allSettled(Array.from({ length: 100 }, async () => pex.handle(flooder.peerId, flood)))
    const limited = results.filter((r) => r.status === 'rejected' && (r.reason as DiscoveryError).code === PeerExchangeRateLimitedError.code)
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
    expect(limited).toHaveLength(97)
    expect(accepted.filter((p) => p === flooder.peerId.toString())).toHaveLength(3)
    // The other peer has its own bucket.
    await pex.handle(honest.peerId, signed(honest, await announcement(honest, ['g']), me.peerId))
    expect(accepted).toContain(honest.peerId.toString())
    expect(await registry.getSingleMetricAsString('cpc_discovery_peer_exchange_rate_limited_total')).toMatch(/kind="announce"} 97/)
    // Through the channel path a rejection is penalized and counted by code.
    const channel = new FakeChannel()
    const viaChannel = new PeerExchange(
      { libp2p: fakeLibp2p(me.peerId), channel, signer: me.signer, scorer, metrics, clock: time.clock, logger: silent, onPeers: () => {}, onError: (_p, err) => errors.push(err) },
      { rateBurst: 1, rateIntervalMs: 10_000 },
    )
    viaChannel.start()
    channel.deliver(flooder.peerId, flood)
    channel.deliver(flooder.peerId, flood)
    await waitUntil(() => errors.length >= 1)
    expect(errors.map((e) => e.code)).toEqual([PeerExchangeRateLimitedError.code])
    expect(scorer.penalties).toEqual([{ peer: flooder.peerId.toString(), kind: 'rate-limit' }])
    // A token comes back after the refill interval.
    time.advance(10_000)
    await expect(pex.handle(flooder.peerId, flood)).resolves.toBeUndefined()
    viaChannel.stop()
    pex.stop()
  })

  it("record the sender's groups (its full list) and reject announcing another peer", async () => {
    const me = await identity()
    const a = await identity()
    const b = await identity()
    const time = new FakeTime()
    const directory = new GroupDirectory({ maxGroups: 8, maxMembersPerGroup: 8, ttlMs: 60_000 }, time.clock)
    const pex = new PeerExchange({ libp2p: fakeLibp2p(me.peerId), channel: new FakeChannel(), signer: me.signer, clock: time.clock, logger: silent, groups: directory, onPeers: () => {}, onError: () => {} })
    pex.start()
    await pex.handle(a.peerId, signed(a, await announcement(a, ['g', 'h']), me.peerId))
    expect(directory.members(['g']).map(String)).toEqual([a.peerId.toString()])
    time.advance(1)
    await pex.handle(a.peerId, signed(a, await announcement(a, ['h']), me.peerId))
    expect(directory.members(['g'])).toEqual([])
    expect(directory.members(['h']).map(String)).toEqual([a.peerId.toString()])
    // b signs a message announcing a's record.
    await expect(pex.handle(b.peerId, signed(b, await announcement(a, ['g']), me.peerId))).rejects.toMatchObject({ code: 'ERR_INVALID_PEER_RECORD' })
    await expect(pex.handle(a.peerId, signed(a, await announcement(a, ['']), me.peerId))).rejects.toMatchObject({ code: 'ERR_MALFORMED_DISCOVERY_MESSAGE' })
    // b's own entry carrying a's signed record: rejected, and b's groups are not recorded.
    const forged = await announcement(a, ['forged'])
    if (forged.kind?.$case !== 'announce') throw new Error('expected an announce')
    forged.kind.value.self!.peerId = b.peerId.toMultihash().bytes
    await expect(pex.handle(b.peerId, signed(b, forged, me.peerId))).rejects.toMatchObject({ code: 'ERR_INVALID_PEER_RECORD' })
    expect(directory.members(['forged'])).toEqual([])
    pex.stop()
  })
})

describe('PeerExchange: requests filtered by group', () => {
  it('answers only with known members of the requested groups (connected or not), never the asker, empty when none known', async () => {
    const me = await identity()
    const asker = await identity()
    const [m1, m2, other] = await Promise.all([identity(), identity(), identity()])
    const time = new FakeTime()
    const channel = new FakeChannel()
    const libp2p = fakeLibp2p(me.peerId, { peers: () => [asker.peerId, m1.peerId, other.peerId] })
    for (const p of [m1, m2, other, asker]) {
      libp2p.store.set(p.peerId.toString(), { id: p.peerId, addresses: [{ multiaddr: multiaddr('/ip4/127.0.0.1/tcp/1'), isCertified: false }] })
    }
    const directory = new GroupDirectory({ maxGroups: 8, maxMembersPerGroup: 8, ttlMs: 60_000 }, time.clock)
    directory.add('g', m1.peerId)
    directory.add('g', m2.peerId) // not connected: known from the DHT
    directory.add('g', asker.peerId)
    directory.add('h', other.peerId)
    const pex = new PeerExchange({ libp2p, channel, signer: me.signer, clock: time.clock, logger: silent, groups: directory, onPeers: () => {}, onError: () => {} }, { rateBurst: 10 })
    pex.start()
    const ask = (groups: string[], requestId: bigint) => signed(asker, { kind: { $case: 'request', value: { limit: 8, groups, requestId } } }, me.peerId)
    const answered = (): string[] => {
      const last = channel.sent.at(-1)!.payload.kind
      if (last?.$case !== 'response') throw new Error('no response')
      return last.value.peers.map((p) => peerIdFromBytes(p.peerId).toString()).sort()
    }
    await pex.handle(asker.peerId, ask(['g'], 1n))
    expect(answered()).toEqual([m1, m2].map((p) => p.peerId.toString()).sort())
    await pex.handle(asker.peerId, ask(['g', 'h'], 2n))
    expect(answered()).toEqual([m1, m2, other].map((p) => p.peerId.toString()).sort())
    await pex.handle(asker.peerId, ask(['unknown'], 3n))
    expect(answered()).toEqual([])
    // No filter: the connected peers, as before.
    await pex.handle(asker.peerId, ask([], 4n))
    expect(answered()).toEqual([m1, other].map((p) => p.peerId.toString()).sort())
    // Entries age out with the record TTL.
    time.advance(60_001)
    await pex.handle(asker.peerId, ask(['g'], 5n))
    expect(answered()).toEqual([])
    pex.stop()
  })
})

describe('GroupDirectory', () => {
  it('is bounded in groups and members per group', async () => {
    const time = new FakeTime()
    const d = new GroupDirectory({ maxGroups: 2, maxMembersPerGroup: 2, ttlMs: 1000 }, time.clock)
    const ids = await Promise.all(Array.from({ length: 3 }, async () => (await identity()).peerId))
    for (const id of ids) {
      time.advance(1)
      d.add('g', id)
    }
    expect(d.members(['g']).map(String)).toEqual([ids[2], ids[1]].map(String))
    d.add('h', ids[0])
    d.add('i', ids[0])
    expect(d.size).toBe(2)
    expect(d.members(['g'])).toEqual([])
  })
})

describe('PeriodicExchange', () => {
  it('asks the best-scored connected peer while under target, backs off when nothing is learned, resets on success, and stop() clears its timer', async () => {
    const time = new FakeTime()
    const [a, b, c] = await Promise.all([identity(), identity(), identity()])
    let connected = [a.peerId, b.peerId]
    const scores = new Map([[a.peerId.toString(), 0.9], [b.peerId.toString(), 0.4]])
    const asked: string[] = []
    let learn = 0
    let fail = false
    const registry = new Registry()
    const periodic = new PeriodicExchange(
      {
        connectedPeers: () => connected,
        scoreOf: (p) => scores.get(p.toString()) ?? 0,
        exchange: async (peer) => {
          asked.push(peer.toString())
          if (fail) throw new Error('unreachable')
          return learn
        },
        clock: time.clock,
        timers: time,
        metrics: createDiscoveryMetrics(registry),
        logger: silent,
      },
      { intervalMs: 1000, maxBackoffMs: 4000, targetPeers: 3, peerCooldownMs: 8000 },
    )
    periodic.start()
    expect(time.pending.size).toBe(1)
    // First round: the best-scored peer, which had nothing new: the period doubles.
    time.advance(1000)
    await waitUntil(() => asked.length === 1 && time.pending.size === 1)
    expect(asked).toEqual([a.peerId.toString()])
    expect(periodic.nextDelayMs).toBe(2000)
    // a is cooling down: b is asked next; it fails: 4000 (the cap).
    fail = true
    time.advance(2000)
    await waitUntil(() => asked.length === 2 && time.pending.size === 1)
    expect(asked[1]).toBe(b.peerId.toString())
    expect(periodic.nextDelayMs).toBe(4000)
    // Both cooling down: no peer, still capped.
    time.advance(4000)
    await waitUntil(() => time.pending.size === 1 && periodic.nextDelayMs === 4000)
    expect(asked).toHaveLength(2)
    // Cooldowns over and a new peer learned: back to the base period.
    fail = false
    learn = 2
    time.advance(4000)
    await waitUntil(() => asked.length === 3 && periodic.nextDelayMs === 1000)
    // Enough peers: nobody is asked.
    connected = [a.peerId, b.peerId, c.peerId]
    expect(await periodic.tick()).toBe('enough')
    expect(asked).toHaveLength(3)
    const text = await registry.getSingleMetricAsString('cpc_discovery_periodic_exchanges_total')
    for (const outcome of ['nothing', 'failed', 'no_peer', 'learned', 'enough']) expect(text).toContain(`outcome="${outcome}"`)
    periodic.stop()
    expect(time.pending.size).toBe(0)
    expect(await periodic.tick()).toBe('busy')
  })
})

describe('Announcer', () => {
  it('sends to at most K best-scored peers, at most once per interval, coalescing triggers into one later round', async () => {
    const time = new FakeTime()
    const ids = await Promise.all(Array.from({ length: 5 }, async () => (await identity()).peerId))
    const sent: string[][] = [[]]
    const announcer = new Announcer(
      {
        connectedPeers: () => ids,
        scoreOf: (p) => ids.indexOf(p) / 10,
        send: async (peer) => {
          sent.at(-1)!.push(peer.toString())
        },
        clock: time.clock,
        timers: time,
        logger: silent,
      },
      { maxPeers: 2, minIntervalMs: 30_000 },
    )
    announcer.start()
    expect(await announcer.trigger('group')).toBe(2)
    expect(sent[0]).toEqual([ids[4], ids[3]].map(String))
    sent.push([])
    expect(await announcer.trigger('group')).toBe(0)
    expect(await announcer.trigger('address')).toBe(0)
    expect(announcer.deferred).toBe(true)
    expect(sent[1]).toEqual([])
    time.advance(29_999)
    expect(sent[1]).toEqual([])
    time.advance(1)
    await waitUntil(() => sent[1].length === 2)
    expect(announcer.deferred).toBe(false)
    announcer.stop()
    expect(await announcer.trigger('group')).toBe(0)
    expect(time.pending.size).toBe(0)
  })
})

describe('Discovery announcements and periodic exchange', () => {
  it('announces our signed record and groups to the neighbours on joinGroup and on an address change, rate limited', async () => {
    const me = await identity()
    const [n1, n2] = await Promise.all([identity(), identity()])
    const time = new FakeTime()
    let addrs = [multiaddr('/ip4/127.0.0.1/tcp/1000')]
    const dht = { provide: async function* () {}, cancelReprovide: async () => {} } as unknown as DiscoveryDht
    const libp2p = fakeLibp2p(me.peerId, { peers: () => [n1.peerId, n2.peerId], addrs: () => addrs, dht })
    const channel = new FakeChannel()
    const d = new Discovery({ libp2p, channel, signer: me.signer, privateKey: me.key, clock: time.clock, timers: time }, { announce: { minIntervalMs: 30_000 }, periodicExchange: false })
    await d.start()
    await d.joinGroup('g')
    await waitUntil(() => channel.sent.length === 2)
    const first = channel.sent.map((s) => s.payload.kind)
    expect(channel.sent.map((s) => s.peer.toString()).sort()).toEqual([n1.peerId, n2.peerId].map(String).sort())
    const kind = first[0]
    if (kind?.$case !== 'announce') throw new Error('expected an announce')
    expect(kind.value.groups).toEqual(['g'])
    const envelope = await RecordEnvelope.openAndCertify(kind.value.self!.signedRecord, PeerRecord.DOMAIN)
    expect(PeerRecord.createFromProtobuf(envelope.payload).multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/1000'])
    // An update without an address change sends nothing; a change within the interval waits for it.
    libp2p.emitSelfUpdate()
    addrs = [multiaddr('/ip4/127.0.0.1/tcp/2000')]
    libp2p.emitSelfUpdate()
    await d.joinGroup('h')
    expect(channel.sent).toHaveLength(2)
    time.advance(30_000)
    await waitUntil(() => channel.sent.length === 4)
    const latest = channel.sent[3].payload.kind
    if (latest?.$case !== 'announce') throw new Error('expected an announce')
    expect(latest.value.groups).toEqual(['g', 'h'])
    const env2 = await RecordEnvelope.openAndCertify(latest.value.self!.signedRecord, PeerRecord.DOMAIN)
    expect(PeerRecord.createFromProtobuf(env2.payload).multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/2000'])
    await d.stop()
    expect(time.pending.size).toBe(0)
  })

  it('periodic exchange and announcements can be turned off; stop() clears their timers', async () => {
    const me = await identity()
    const time = new FakeTime()
    const libp2p = fakeLibp2p(me.peerId)
    const on = new Discovery({ libp2p, channel: new FakeChannel(), signer: me.signer, clock: time.clock, timers: time })
    await on.start()
    expect(on.periodicExchange).toBeDefined()
    expect(on.announcements).toBeDefined()
    expect(time.pending.size).toBe(1)
    await on.stop()
    expect(time.pending.size).toBe(0)
    const off = new Discovery({ libp2p, channel: new FakeChannel(), signer: me.signer, clock: time.clock, timers: time }, { periodicExchange: false, announce: false })
    await off.start()
    expect(off.periodicExchange).toBeUndefined()
    expect(off.announcements).toBeUndefined()
    expect(time.pending.size).toBe(0)
    await off.stop()
  })
})

describe('dial outcomes reported to the scorer (no connection manager)', () => {
  it('reports libp2p.dial successes and failures of discovered and bootstrap peers, not dials cut by stop()', async () => {
    const me = await identity()
    const [good, bad] = await Promise.all([identity(), identity()])
    const scorer = new RecordingScorer()
    const libp2p = fakeLibp2p(me.peerId, { dial: async (p) => (p.equals(bad.peerId) ? Promise.reject(new Error('refused')) : undefined) })
    const dialer = new Dialer({ libp2p, scorer, logger: silent }, { maxParallel: 2, maxQueue: 8, timeoutMs: 1000 })
    dialer.start()
    dialer.enqueue(good.peerId, [], 'exchange')
    dialer.enqueue(bad.peerId, [], 'exchange')
    await dialer.idle()
    expect(scorer.dials).toEqual(
      expect.arrayContaining([
        { peer: good.peerId.toString(), ok: true },
        { peer: bad.peerId.toString(), ok: false },
      ]),
    )
    expect(scorer.dials).toHaveLength(2)
    dialer.stop()
    const ok = await connectBootstrap({ libp2p, scorer, logger: silent }, { peerId: good.peerId, multiaddrs: [] }, { signal: new AbortController().signal, timeoutMs: 1000 })
    expect(ok).toBe(true)
    expect(scorer.dials.at(-1)).toEqual({ peer: good.peerId.toString(), ok: true })
    // With a connection manager, discovery leaves the reporting to it.
    const withCm = new RecordingScorer()
    const cmDialer = new Dialer(
      { libp2p, scorer: withCm, connectionManager: { connect: async () => Promise.reject(new Error('x')), protect: () => {} }, logger: silent },
      { maxParallel: 1, maxQueue: 1, timeoutMs: 1000 },
    )
    cmDialer.start()
    cmDialer.enqueue(bad.peerId, [], 'exchange')
    await cmDialer.idle()
    expect(withCm.dials).toEqual([])
    // A dial cut short by stop() is not the peer's fault.
    const hanging = fakeLibp2p(me.peerId, { dial: async () => new Promise(() => {}) })
    const stopped = new RecordingScorer()
    const stopDialer = new Dialer({ libp2p: { ...hanging, dial: async (_p, o) => new Promise((_r, rej) => o?.signal?.addEventListener('abort', () => rej(new Error('aborted')))) }, scorer: stopped, logger: silent }, { maxParallel: 1, maxQueue: 1, timeoutMs: 60_000 })
    stopDialer.start()
    stopDialer.enqueue(bad.peerId, [], 'exchange')
    const idle = stopDialer.idle()
    stopDialer.stop()
    await idle
    expect(stopped.dials).toEqual([])
  })
})

describe('peer-exchange request timing out while its send still waits', () => {
  it('rejects the caller with the timeout and leaves no unhandled rejection (it used to end the process)', () => {
    // In a child process: jest's sandbox does not end the test on an unhandled rejection, Node does.
    const fixture = fileURLToPath(new URL('./fixtures/pex-timeout.mjs', import.meta.url))
    const r = spawnSync(process.execPath, [fixture], { encoding: 'utf8', timeout: 30_000 })
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' })
    expect(r.stdout.trim().split('\n')).toEqual([PeerExchangeTimeoutError.code, 'survived'])
  })
})

/** Lets pending promise callbacks run until `condition` holds (bounded; no timers involved). */
async function waitUntil(condition: () => boolean, rounds = 1000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (condition()) return
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  throw new Error('condition not reached')
}
