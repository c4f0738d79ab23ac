// A bare js-libp2p v3 node (tcp + noise + yamux + identify + ping, optionally kad-dht) on 127.0.0.1:
// the baseline every cpc-net figure is held against. Defaults everywhere except what loopback needs.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { gossipsub, type GossipsubOpts } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'

export const KAD_PROTOCOL = '/cpc/kad/1.0.0'

export interface BareNodeOptions {
  dht?: boolean
  privateKey?: PrivateKey
  /** yamux's per-stream receive window cap (default 16 MiB): how much can be in flight per stream. */
  maxStreamWindow?: number
  /** Adds @libp2p/gossipsub as the `pubsub` service with these options (P5's peer-system baseline). */
  gossipsub?: Partial<GossipsubOpts>
}

export async function createBareNode(opts: BareNodeOptions = {}): Promise<Libp2p> {
  const services: Record<string, unknown> = {
    identify: identify(),
    // Default 1 races kad-dht's own pings (LIBP2P_NOTES.md).
    ping: ping({ maxOutboundStreams: 4 }),
  }
  if (opts.gossipsub) services.pubsub = gossipsub(opts.gossipsub)
  if (opts.dht) services.dht = kadDHT({ protocol: KAD_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper })
  return createLibp2p({
    ...(opts.privateKey ? { privateKey: opts.privateKey } : {}),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(opts.maxStreamWindow === undefined ? {} : { streamOptions: { maxStreamWindowSize: opts.maxStreamWindow } })],
    // The default 5 inbound connections per second per host refuses loopback swarms.
    connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 1000, maxConnections: 1000 },
    services: services as never,
  })
}

/** Writes with backpressure on the 'drain' event (not onDrain(): LIBP2P_NOTES.md). */
export async function send(stream: Stream, buf: Uint8Array): Promise<void> {
  if (stream.send(buf)) return
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      stream.removeEventListener('close', onClose)
      resolve()
    }
    const onClose = () => {
      stream.removeEventListener('drain', onDrain)
      reject(new Error('stream closed while waiting for drain'))
    }
    stream.addEventListener('drain', onDrain, { once: true })
    stream.addEventListener('close', onClose, { once: true })
  })
}

export function toBytes(chunk: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}
