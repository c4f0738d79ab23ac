// The libp2p node built from a config: services per role, relay reservations as listen addresses,
// and the peer store persisted in <dataDir>/datastore.
import { afterAll, describe, expect, it } from '@jest/globals'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { parseConfig } from '../src/config.js'
import { buildLibp2p, libp2pOptions, listenAddresses } from '../src/libp2p-node.js'
import { TempDirs } from './helpers/tmp.js'

const dirs = new TempDirs()
afterAll(async () => dirs.cleanup())

const RELAY = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGRUVh9SScstDSVtngkP2Y8xkovJJWJXAQdKV2xRgDuZE'

describe('libp2p node', () => {
  it('registers the relay server only on role relay, and mDNS only when enabled', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const node = libp2pOptions(parseConfig({}), { privateKey }).services as Record<string, unknown>
    expect(Object.keys(node).sort()).toEqual(['autoNAT', 'dcutr', 'dht', 'identify', 'ping'])
    const relay = libp2pOptions(parseConfig({ role: 'relay', mdns: true }), { privateKey }).services as Record<string, unknown>
    expect(Object.keys(relay).sort()).toEqual(['autoNAT', 'dcutr', 'dht', 'identify', 'mdns', 'ping', 'relay'])
  })

  it('listens via each configured relay with a /p2p-circuit address', () => {
    expect(listenAddresses(parseConfig({ relay: { listenVia: [RELAY] } }))).toEqual(['/ip4/127.0.0.1/tcp/0', `${RELAY}/p2p-circuit`])
  })

  it('keeps the peer store in the data dir across a restart', async () => {
    const dataDir = await dirs.make()
    const config = parseConfig({ dataDir, addressScope: 'private', dhtMode: 'server' })
    const privateKey = await generateKeyPair('Ed25519')
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

    const first = await buildLibp2p(config, { privateKey })
    await first.libp2p.start()
    await first.libp2p.peerStore.merge(other, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4999')] })
    await first.libp2p.stop()
    await first.closeDatastore()

    const second = await buildLibp2p(config, { privateKey })
    await second.libp2p.start()
    try {
      expect(second.libp2p.peerId.equals(first.libp2p.peerId)).toBe(true)
      const peer = await second.libp2p.peerStore.get(other)
      expect(peer.addresses.map((a) => a.multiaddr.toString())).toContain('/ip4/127.0.0.1/tcp/4999')
    } finally {
      await second.libp2p.stop()
      await second.closeDatastore()
    }
  })
})
