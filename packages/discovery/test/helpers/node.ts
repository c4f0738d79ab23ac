// Real libp2p nodes on 127.0.0.1 for the tests (tcp + noise + yamux + identify + ping + discovery).
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2p } from 'libp2p'
import type { PrivateKey } from '@libp2p/interface'
import { discoveryServices, type DiscoveryServicesInit } from '../../src/index.js'

export async function createTestNode(init: DiscoveryServicesInit & { privateKey?: PrivateKey; withDht?: boolean } = {}) {
  const privateKey = init.privateKey ?? (await generateKeyPair('Ed25519'))
  const services = init.withDht === false ? {} : discoveryServices({ dhtMode: 'server', addressScope: 'private', ...init }).services
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 100 },
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: 4 }),
      ...services,
    },
  })
  return { node, privateKey }
}

/** Polls `condition` until true; throws with `what` after timeoutMs. No fixed sleeps elsewhere. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
