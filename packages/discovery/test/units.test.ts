// Pure pieces: codec bounds, record verification, rate limiter, group keys, known peers, config,
// bootstrap parsing, and the lifecycle of group re-announcement against a fake DHT.
import { describe, expect, it } from '@jest/globals'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { Discovery as DiscoveryPayload, PeerInfo } from '@cpc/protocol'
import type { PeerId } from '@libp2p/interface'
import {
  Discovery,
  InvalidDiscoveryInputError,
  InvalidPeerRecordError,
  MalformedDiscoveryMessageError,
  MissingComponentError,
  DiscoveryNotStartedError,
  OversizedDiscoveryMessageError,
  decodeDiscovery,
  discoveryServices,
  groupKey,
  parseBootstrapList,
  verifyPeerInfo,
  type DiscoveryDht,
  type DiscoveryLibp2p,
  type DiscoveryScorer,
  type PexLimits,
} from '../src/index.js'
import { PeerScorer } from '@cpc/scoring'
import { KnownPeers } from '../src/known-peers.js'
import { RateLimiter } from '../src/peer-exchange/rate-limit.js'
import { waitFor } from './helpers/node.js'

const limits: PexLimits = { maxPeers: 4, maxPayloadBytes: 2048, maxAddrsPerPeer: 2, maxRecordBytes: 1024 }

async function signedInfo(signerKey?: Awaited<ReturnType<typeof generateKeyPair>>) {
  const key = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(key)
  const record = new PeerRecord({ peerId, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] })
  const envelope = await RecordEnvelope.seal(record, signerKey ?? key)
  return { peerId, info: PeerInfo.create({ peerId: peerId.toMultihash().bytes, signedRecord: envelope.marshal(), multiaddrs: [] }) }
}

describe('decodeDiscovery', () => {
  const response = (peers: PeerInfo[]) => DiscoveryPayload.encode({ kind: { $case: 'response', value: { requestId: 1n, peers } } }).finish()
  const entry = (over: Partial<PeerInfo> = {}) => PeerInfo.create({ peerId: new Uint8Array(38).fill(1), ...over })

  it('accepts a well-formed response', () => {
    expect(decodeDiscovery(response([entry()]), limits).kind?.$case).toBe('response')
  })
  it('rejects oversized payloads before decoding', () => {
    expect(() => decodeDiscovery(new Uint8Array(4096), limits)).toThrow(OversizedDiscoveryMessageError)
  })
  it('rejects too many peers, addresses or record bytes', () => {
    expect(() => decodeDiscovery(response(Array.from({ length: 5 }, () => entry())), limits)).toThrow(OversizedDiscoveryMessageError)
    expect(() => decodeDiscovery(response([entry({ multiaddrs: [new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)] })]), limits)).toThrow(
      OversizedDiscoveryMessageError,
    )
    expect(() => decodeDiscovery(response([entry({ signedRecord: new Uint8Array(1500) })]), limits)).toThrow(OversizedDiscoveryMessageError)
  })
  it('rejects garbage, empty kinds and empty peer ids as malformed', () => {
    expect(() => decodeDiscovery(Uint8Array.from([0x0a, 0x05, 0x01]), limits)).toThrow(MalformedDiscoveryMessageError)
    expect(() => decodeDiscovery(new Uint8Array(0), limits)).toThrow(MalformedDiscoveryMessageError)
    expect(() => decodeDiscovery(response([entry({ peerId: new Uint8Array(0) })]), limits)).toThrow(MalformedDiscoveryMessageError)
    try {
      decodeDiscovery(new Uint8Array(0), limits)
    } catch (err) {
      expect((err as MalformedDiscoveryMessageError).code).toBe('ERR_MALFORMED_DISCOVERY_MESSAGE')
    }
  })
})

describe('verifyPeerInfo', () => {
  it('returns the certified addresses of a valid signed record', async () => {
    const { peerId, info } = await signedInfo()
    const v = await verifyPeerInfo(info, false)
    expect(v?.peerId.equals(peerId)).toBe(true)
    expect(v?.multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/4001'])
  })
  it('rejects a record signed by another key', async () => {
    const { info } = await signedInfo(await generateKeyPair('Ed25519'))
    await expect(verifyPeerInfo(info, false)).rejects.toBeInstanceOf(InvalidPeerRecordError)
  })
  it('rejects a valid record attached to another peer id', async () => {
    const a = await signedInfo()
    const b = await signedInfo()
    await expect(verifyPeerInfo({ ...a.info, peerId: b.info.peerId }, false)).rejects.toBeInstanceOf(InvalidPeerRecordError)
  })
  it('rejects a tampered envelope', async () => {
    const { info } = await signedInfo()
    const bad = info.signedRecord.slice()
    bad[bad.length - 1] ^= 1
    await expect(verifyPeerInfo({ ...info, signedRecord: bad }, false)).rejects.toBeInstanceOf(InvalidPeerRecordError)
  })
  it('drops unsigned entries unless allowed', async () => {
    const { info } = await signedInfo()
    const unsigned = { ...info, signedRecord: new Uint8Array(0), multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/1').bytes] }
    expect(await verifyPeerInfo(unsigned, false)).toBeUndefined()
    expect((await verifyPeerInfo(unsigned, true))?.multiaddrs.map(String)).toEqual(['/ip4/127.0.0.1/tcp/1'])
  })
})

describe('RateLimiter', () => {
  it('allows a burst, then one per interval; bounded in peers', () => {
    let now = 0
    const rl = new RateLimiter({ burst: 2, intervalMs: 1000, maxPeers: 2 }, () => now)
    expect([rl.tryTake('a'), rl.tryTake('a'), rl.tryTake('a')]).toEqual([true, true, false])
    now = 1000
    expect([rl.tryTake('a'), rl.tryTake('a')]).toEqual([true, false])
    rl.tryTake('b')
    rl.tryTake('c')
    expect(rl.size).toBe(2)
  })
})

describe('groupKey', () => {
  it('is a CIDv1 raw sha256 of "cpc/group/" + name, stable and distinct', async () => {
    const a = await groupKey('players')
    expect(a.toString()).toBe((await groupKey('players')).toString())
    expect(a.toString()).not.toBe((await groupKey('Players')).toString())
    expect(a.version).toBe(1)
    expect(a.multihash.code).toBe(0x12)
  })
  it('rejects empty and over-long names', async () => {
    await expect(groupKey('')).rejects.toBeInstanceOf(InvalidDiscoveryInputError)
    await expect(groupKey('x'.repeat(200))).rejects.toBeInstanceOf(InvalidDiscoveryInputError)
  })
})

describe('KnownPeers', () => {
  it('keeps the first source, merges addresses and evicts the least recently seen', async () => {
    const ids: PeerId[] = []
    for (let i = 0; i < 3; i++) ids.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
    const k = new KnownPeers(2)
    expect(k.observe(ids[0], [multiaddr('/ip4/127.0.0.1/tcp/1')], 'dht', 1)).toBe(true)
    expect(k.observe(ids[1], [], 'mdns', 2)).toBe(true)
    expect(k.observe(ids[0], [multiaddr('/ip4/127.0.0.1/tcp/2')], 'exchange', 3)).toBe(false)
    expect(k.get(ids[0])?.source).toBe('dht')
    expect(k.get(ids[0])?.multiaddrs).toHaveLength(2)
    k.observe(ids[2], [], 'bootstrap', 4)
    expect(k.has(ids[1])).toBe(false)
    expect(k.list().map((p) => p.peerId.toString())).toEqual([ids[2], ids[0]].map(String))
  })
})

describe('discoveryServices and bootstrap parsing', () => {
  it('includes mdns only when enabled', () => {
    expect(Object.keys(discoveryServices().services)).toEqual(['dht'])
    expect(Object.keys(discoveryServices({ mdns: true }).services).sort()).toEqual(['dht', 'mdns'])
  })
  it('groups bootstrap addresses by peer and rejects ones without /p2p/', async () => {
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const peers = parseBootstrapList([`/ip4/127.0.0.1/tcp/1/p2p/${id}`, `/ip4/127.0.0.1/tcp/2/p2p/${id}`])
    expect(peers).toHaveLength(1)
    expect(peers[0].multiaddrs).toHaveLength(2)
    expect(() => parseBootstrapList(['/ip4/127.0.0.1/tcp/1'])).toThrow(InvalidDiscoveryInputError)
    expect(() => parseBootstrapList(['not a multiaddr'])).toThrow(InvalidDiscoveryInputError)
  })
})

describe('Discovery lifecycle', () => {
  async function fakeLibp2p(dht?: DiscoveryDht): Promise<DiscoveryLibp2p> {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    return {
      peerId,
      peerStore: {} as DiscoveryLibp2p['peerStore'],
      dial: async () => undefined,
      getPeers: () => [],
      getMultiaddrs: () => [],
      services: dht === undefined ? {} : { dht },
    }
  }

  it('re-announces group membership before expiry and stop() leaves no timer running', async () => {
    let provides = 0
    let cancelled = 0
    const dht = {
      provide: async function* () {
        provides++
        yield* []
      },
      cancelReprovide: async () => {
        cancelled++
      },
    } as unknown as DiscoveryDht
    const d = new Discovery({ libp2p: await fakeLibp2p(dht) }, { groupRecordTtlMs: 2000 })
    await expect(d.joinGroup('g')).rejects.toBeInstanceOf(DiscoveryNotStartedError)
    await d.start()
    expect(await d.joinGroup('g')).toEqual(['g'])
    await waitFor(() => provides >= 2, 'a re-announcement', 10_000)
    expect(await d.leaveGroup('g')).toEqual([])
    expect(cancelled).toBe(1)
    await d.joinGroup('h')
    await d.stop()
    const after = provides
    expect(d.groups()).toEqual([])
    // Nothing is left to fire: jest's open-handle check and this counter both stay quiet.
    expect(provides).toBe(after)
  })

  it('needs a DHT for discoverPeers and a channel for peer exchange', async () => {
    const libp2p = await fakeLibp2p()
    const d = new Discovery({ libp2p })
    await d.start()
    await expect(d.discoverPeers('random')).rejects.toBeInstanceOf(MissingComponentError)
    await expect(d.exchangePeers(libp2p.peerId)).rejects.toBeInstanceOf(MissingComponentError)
    await d.stop()
  })
})

describe('@cpc/scoring', () => {
  it('PeerScorer fits DiscoveryScorer: a protocol-error penalty lowers the composite', () => {
    const scorer: DiscoveryScorer = new PeerScorer()
    const before = scorer.composite('peer-a')
    scorer.penalize('peer-a', 'protocol-error')
    expect(scorer.composite('peer-a')).toBeLessThan(before)
  })
})
