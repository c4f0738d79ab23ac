// Peer exchange between real libp2p nodes on 127.0.0.1, over @cpc/connection-manager's CpcChannel
// (owner of /cpc/1.0.0) with its ConnectionManager dialling the exchanged peers.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Registry } from 'prom-client'
import { CpcMessage, Discovery as DiscoveryPayload, MessageSigner, MessageType, NonceGenerator, encodeFrame } from '@cpc/protocol'
import type { Libp2p, PeerId } from '@libp2p/interface'
import {
  Discovery,
  InvalidDiscoverySignatureError,
  MalformedDiscoveryMessageError,
  OversizedDiscoveryMessageError,
  PeerExchangeRateLimitedError,
  PeerExchangeTimeoutError,
  createDiscoveryMetrics,
  type DiscoveryInit,
  type DiscoveryPenaltyKind,
  type DiscoveryScorer,
  type PeerDiscoveredDetail,
  type ProtocolErrorDetail,
} from '../src/index.js'
import { createTestNode, waitFor } from './helpers/node.js'
import { ConnectionManager, CpcChannel } from '@cpc/connection-manager'

class StubScorer implements DiscoveryScorer {
  readonly scores = new Map<string, number>()
  readonly penalties: Array<{ peer: string; kind: DiscoveryPenaltyKind }> = []
  composite(peer: string): number {
    return this.scores.get(peer) ?? 0.5
  }
  penalize(peer: string, kind: DiscoveryPenaltyKind): void {
    this.penalties.push({ peer, kind })
  }
}

interface Member {
  node: Libp2p
  channel: CpcChannel
  connectionManager: ConnectionManager
  discovery: Discovery
  scorer: StubScorer
  signer: MessageSigner
  errors: ProtocolErrorDetail[]
  discovered: PeerDiscoveredDetail[]
  registry: Registry
}

const N = 5

describe('peer exchange', () => {
  const members: Member[] = []
  let hub: Member
  let asker: Member
  let spokes: Member[]

  async function member(peerExchange: DiscoveryInit['peerExchange'] = {}): Promise<Member> {
    const { node, privateKey } = await createTestNode({ withDht: false })
    const channel = new CpcChannel({ libp2p: node })
    await channel.start()
    const scorer = new StubScorer()
    const signer = new MessageSigner(privateKey)
    const connectionManager = new ConnectionManager({ libp2p: node, channel, signer })
    await connectionManager.start()
    const registry = new Registry()
    const discovery = new Discovery({ libp2p: node, channel, connectionManager, signer, scorer, metrics: createDiscoveryMetrics(registry) }, { peerExchange })
    const m: Member = { node, channel, connectionManager, discovery, scorer, signer, errors: [], discovered: [], registry }
    discovery.addEventListener('protocol:error', (evt) => m.errors.push(evt.detail))
    discovery.addEventListener('peer:discovered', (evt) => m.discovered.push(evt.detail))
    await discovery.start()
    members.push(m)
    return m
  }

  /** Sends one signed DISCOVERY message with a raw payload from `from` to `to`. */
  async function sendRaw(from: Member, to: PeerId, payload: Uint8Array, mutate: (m: CpcMessage) => CpcMessage = (m) => m): Promise<void> {
    const msg = from.signer.sign(CpcMessage.create({ nonce: new NonceGenerator().next(), messageType: MessageType.DISCOVERY, payload }))
    await from.channel.send(to, encodeFrame(mutate(msg)))
  }

  beforeAll(async () => {
    hub = await member({ rateBurst: 50, maxPayloadBytes: 4096 })
    asker = await member()
    spokes = []
    for (let i = 0; i < N; i++) spokes.push(await member())
    const hubAddrs = hub.node.getMultiaddrs()
    for (const s of spokes) await s.connectionManager.connect(hub.node.peerId, { multiaddrs: hubAddrs })
    await asker.connectionManager.connect(hub.node.peerId, { multiaddrs: hubAddrs })
    // identify stores each peer's signed record in the hub's peer store.
    await waitFor(async () => {
      for (const s of spokes) {
        const peer = await hub.node.peerStore.get(s.node.peerId).catch(() => undefined)
        if (peer?.peerRecordEnvelope === undefined) return false
      }
      return true
    }, 'identify to store the spokes’ signed peer records on the hub')
  })

  afterAll(async () => {
    await Promise.all(members.map((m) => m.discovery.stop()))
    await Promise.all(members.map((m) => m.connectionManager.stop()))
    await Promise.all(members.map((m) => m.channel.stop()))
    await Promise.all(members.map((m) => m.node.stop()))
  })

  it('a node with one connection learns N peers from it and connects to them', async () => {
    expect(asker.node.getPeers().map(String)).toEqual([hub.node.peerId.toString()])
    const learned = await asker.discovery.exchangePeers(hub.node.peerId, { limit: N })
    const spokeIds = spokes.map((s) => s.node.peerId.toString()).sort()
    expect(learned.map((p) => p.peerId.toString()).sort()).toEqual(spokeIds)
    expect(learned.every((p) => p.source === 'exchange' && p.multiaddrs.length > 0)).toBe(true)
    expect(asker.discovered.filter((d) => d.source === 'exchange').map((d) => d.peerId.toString()).sort()).toEqual(spokeIds)
    // Dialled through the connection manager: every spoke is Connected in its state machine.
    await waitFor(() => spokeIds.every((id) => asker.connectionManager.connectedPeers().some((p) => p.toString() === id)), 'the asker to connect to every spoke')
    // The addresses came from signed records: the peer store marks them certified.
    const stored = await asker.node.peerStore.get(spokes[0].node.peerId)
    expect(stored.addresses.some((a) => a.isCertified)).toBe(true)
    const text = await asker.registry.metrics()
    expect(text).toMatch(/cpc_discovery_peers_discovered_total\{source="exchange"\} 5/)
    expect(text).toMatch(/cpc_discovery_dials_total\{source="exchange",outcome="success"\} [1-9]/)
  })

  it('answers with the best-scored peers first and never more than asked', async () => {
    spokes.forEach((s, i) => hub.scorer.scores.set(s.node.peerId.toString(), 0.2 + 0.1 * i))
    // The lowest scorer falls under minScore and is never shared.
    hub.scorer.scores.set(spokes[0].node.peerId.toString(), 0.01)
    const learned = await spokes[0].discovery.exchangePeers(hub.node.peerId, { limit: 2 })
    expect(learned.map((p) => p.peerId.toString())).toEqual([spokes[4], spokes[3]].map((s) => s.node.peerId.toString()))
    const all = await spokes[1].discovery.exchangePeers(hub.node.peerId, { limit: 32 })
    expect(all.map((p) => p.peerId.toString())).not.toContain(spokes[0].node.peerId.toString())
  })

  it('malformed, oversized, unsolicited and badly signed DISCOVERY messages get typed errors and penalties, no crash', async () => {
    const before = hub.errors.length
    const sender = spokes[2]
    const id = sender.node.peerId.toString()
    await sendRaw(sender, hub.node.peerId, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]))
    await sendRaw(sender, hub.node.peerId, new Uint8Array(8192))
    const unsolicited = DiscoveryPayload.encode({ kind: { $case: 'response', value: { requestId: 999n, peers: [] } } }).finish()
    await sendRaw(sender, hub.node.peerId, unsolicited)
    const request = DiscoveryPayload.encode({ kind: { $case: 'request', value: { limit: 1, groups: [], requestId: 1n } } }).finish()
    await sendRaw(sender, hub.node.peerId, request, (m) => ({ ...m, signature: m.signature.map((b) => b ^ 1) }))
    await waitFor(() => hub.errors.length >= before + 4, 'four rejections')
    const codes = hub.errors.slice(before).map((e) => e.error.code)
    expect(codes).toEqual([
      MalformedDiscoveryMessageError.code,
      OversizedDiscoveryMessageError.code,
      MalformedDiscoveryMessageError.code,
      InvalidDiscoverySignatureError.code,
    ])
    expect(hub.errors.slice(before).every((e) => e.peer.toString() === id)).toBe(true)
    expect(hub.scorer.penalties.filter((p) => p.peer === id).map((p) => p.kind)).toEqual(['protocol-error', 'protocol-error', 'protocol-error', 'invalid-signature'])
    const text = await hub.registry.metrics()
    expect(text).toMatch(/cpc_discovery_peer_exchange_rejected_total\{code="ERR_OVERSIZED_DISCOVERY_MESSAGE"\} 1/)
    // The hub still answers.
    expect((await sender.discovery.exchangePeers(hub.node.peerId, { limit: 1 })).length).toBe(1)
  })

  it('rate limits answers per peer', async () => {
    const strict = await member({ rateBurst: 1, rateIntervalMs: 60_000 })
    const client = await member({ requestTimeoutMs: 1500 })
    await client.connectionManager.connect(strict.node.peerId, { multiaddrs: strict.node.getMultiaddrs() })
    await strict.connectionManager.connect(hub.node.peerId, { multiaddrs: hub.node.getMultiaddrs() })
    await waitFor(() => strict.node.getPeers().length >= 2, 'strict to have two peers')
    expect((await client.discovery.exchangePeers(strict.node.peerId, { limit: 4 })).length).toBeGreaterThan(0)
    await expect(client.discovery.exchangePeers(strict.node.peerId, { limit: 4 })).rejects.toBeInstanceOf(PeerExchangeTimeoutError)
    expect(strict.errors.map((e) => e.error.code)).toContain(PeerExchangeRateLimitedError.code)
    expect(strict.scorer.penalties).toContainEqual({ peer: client.node.peerId.toString(), kind: 'rate-limit' })
  })
})
