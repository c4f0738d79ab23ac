// A node as @cpc/network composes it: a real libp2p node on 127.0.0.1 with CpcChannel,
// ConnectionManager, a real PeerScorer, an Outbox in a data dir, and the Router.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { Registry } from 'prom-client'
import { CpcChannel, ConnectionManager, type ConnectionManagerInit } from '@cpc/connection-manager'
import { MessageSigner, MessageVerifier, NonceGenerator, PeerState } from '@cpc/protocol'
import { waitForEvent } from './events.js'
import { PeerScorer } from '@cpc/scoring'
import { Router } from '../../src/router.js'
import { Outbox } from '../../src/outbox/outbox.js'
import { createRouterMetrics, type RouterMetrics } from '../../src/metrics.js'
import { createLibp2pRelays } from '../../src/relays.js'
import type { RouterGroups, RouterInit } from '../../src/types.js'

/** Delay thresholds far above any stall a loaded test machine produces. */
const RELAXED_SHEDDING = { delayMs: { lowEnter: 60_000, lowExit: 30_000, mediumEnter: 120_000, mediumExit: 60_000 } }

export interface RouterStack {
  node: Libp2p
  peerId: PeerId
  privateKey: PrivateKey
  dataDir: string
  channel: CpcChannel
  cm: ConnectionManager
  scorer: PeerScorer
  outbox: Outbox
  router: Router
  registry: Registry
  metrics: RouterMetrics
  signer: MessageSigner
  /** The router's verifier (spy on it to see what arrived, whatever way the channel dispatches). */
  verifier: MessageVerifier
  nonces: NonceGenerator
  /** Stops router, manager, channel, outbox and node (idempotent). */
  stop(): Promise<void>
}

export interface StackOptions {
  privateKey?: PrivateKey
  /** Reuse a data dir (restart); default a new temp dir. */
  dataDir?: string
  /** Listen addresses; default one TCP port on 127.0.0.1. [] for none. */
  listen?: string[]
  /** Add circuitRelayTransport() (to dial or listen through a relay). */
  relayClient?: boolean
  routerInit?: RouterInit
  cmInit?: ConnectionManagerInit
  groups?: RouterGroups
  relays?: () => Iterable<PeerId>
}

export async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'cpc-router-'))
}

export async function createRouterStack(options: StackOptions = {}): Promise<RouterStack> {
  const privateKey = options.privateKey ?? (await generateKeyPair('Ed25519'))
  const dataDir = options.dataDir ?? (await tempDir())
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: options.relayClient === true ? [tcp(), circuitRelayTransport()] : [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping({ maxOutboundStreams: 4 }) },
    connectionManager: { inboundConnectionThreshold: 1000 },
  })
  const registry = new Registry()
  const metrics = createRouterMetrics(registry)
  const channel = new CpcChannel({ libp2p: node })
  const scorer = new PeerScorer({ clock: Date.now })
  const signer = new MessageSigner(privateKey)
  const cm = new ConnectionManager({ libp2p: node, channel, signer, scorer }, { backoff: { baseMs: 100, capMs: 500, maxAttempts: 3 }, ...options.cmInit })
  const outbox = new Outbox({ metrics }, { location: path.join(dataDir, 'outbox') })
  await outbox.open()
  const nonces = new NonceGenerator()
  const verifier = new MessageVerifier()
  const router = new Router(
    {
      peerId: node.peerId,
      channel,
      connectionManager: cm,
      relays: createLibp2pRelays(node, { relays: options.relays }),
      groups: options.groups,
      signer,
      verifier,
      nonces,
      outbox,
      scorer,
      metrics,
    },
    // Shedding on event-loop delay is relaxed unless a test sets its own: parallel jest workers on two
    // cores stall the loop past the 100 ms default, and these stacks test delivery (shedding has its
    // own tests with an injected delay source and a queue bound).
    { dialTimeoutMs: 5_000, shedding: RELAXED_SHEDDING, ...options.routerInit },
  )
  await channel.start()
  await cm.start()
  await router.start()
  let stopped = false
  return {
    node,
    peerId: node.peerId,
    privateKey,
    dataDir,
    channel,
    cm,
    scorer,
    outbox,
    router,
    registry,
    metrics,
    signer,
    verifier,
    nonces,
    stop: async () => {
      if (stopped) return
      stopped = true
      await router.stop()
      await cm.stop()
      await channel.stop()
      await outbox.close()
      await node.stop()
    },
  }
}

/** A circuit relay v2 server with no default limit (LIBP2P_NOTES.md). */
export async function createRelayServer(): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), relay: circuitRelayServer({ reservations: { applyDefaultLimit: false } }) },
    connectionManager: { inboundConnectionThreshold: 1000 },
  })
}

export async function stopAll(stacks: Array<RouterStack | undefined>): Promise<void> {
  await Promise.all(stacks.map(async (s) => s?.stop()))
}

/** Connects a to b through a's connection manager (so both sides' managers report Connected). */
export async function link(a: RouterStack, b: RouterStack): Promise<void> {
  await a.cm.connect(b.peerId, { multiaddrs: b.node.getMultiaddrs() })
  await connectedOn(b, a.peerId)
}

/** Resolves once `stack`'s connection manager reports `peer` Connected. */
export async function connectedOn(stack: RouterStack, peer: PeerId, timeoutMs = 10_000): Promise<void> {
  // Checked and subscribed in the same tick: no transition can slip in between.
  if (stack.cm.state(peer) === PeerState.PEER_STATE_CONNECTED) return
  await waitForEvent<{ peerId: string; to: PeerState }>(stack.cm, 'peer:state', (d) => d.peerId === peer.toString() && d.to === PeerState.PEER_STATE_CONNECTED, timeoutMs)
}
