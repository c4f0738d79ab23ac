// Real libp2p nodes on 127.0.0.1 for tests: tcp + noise + yamux + identify + ping.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'

export interface TestNode {
  node: Libp2p
  privateKey: PrivateKey
  port: number
}

export async function createNode(options: { privateKey?: PrivateKey; port?: number } = {}): Promise<TestNode> {
  const privateKey = options.privateKey ?? (await generateKeyPair('Ed25519'))
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${options.port ?? 0}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping({ maxOutboundStreams: 4 }) },
    connectionManager: { inboundConnectionThreshold: 1000 },
  })
  const addr = node.getMultiaddrs()[0]
  const port = Number(addr.toString().split('/')[4])
  return { node, privateKey, port }
}

/** Stops every given node (ignoring ones already stopped). */
export async function stopNodes(...nodes: Array<Libp2p | undefined>): Promise<void> {
  await Promise.all(nodes.map(async (n) => (n != null && n.status !== 'stopped' ? n.stop() : undefined)))
}

/** A crash as the other side sees it: every connection reset, no goodbye, then the node is gone. */
export async function crash(node: Libp2p): Promise<void> {
  for (const conn of node.getConnections()) conn.abort(new Error('simulated crash'))
  await node.stop()
}
