// Builds the node's one libp2p instance from a validated NetworkConfig: TCP + circuit relay v2
// transport, Noise, yamux, identify, ping, kad-dht (+ mDNS when enabled) from @cpc/discovery, AutoNAT
// v2, DCUtR, and the relay server on role 'relay'. Bootstrap peers are not given to libp2p: @cpc/discovery
// dials them through our ConnectionManager (backoff, protection), which @libp2p/bootstrap would bypass.
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { discoveryServices } from '@cpc/discovery'
import { autoNATv2 } from '@libp2p/autonat-v2'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { identify } from '@libp2p/identify'
import { FaultTolerance, type Libp2p, type PrivateKey, type Transport } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import type { LevelDatastore } from 'datastore-level'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import type { Registry } from 'prom-client'
import type { NetworkConfig } from './config.js'
import { DATASTORE_DIR, PING_MAX_OUTBOUND_STREAMS } from './constants.js'
import { punchPortTransport } from './nat/punch-port-tcp.js'

export interface BuiltNode {
  libp2p: Libp2p
  /** Closes the persistent datastore; call after libp2p.stop(). No-op in memory. */
  closeDatastore(): Promise<void>
}

export interface BuildNodeComponents {
  privateKey: PrivateKey
  registry?: Registry
}

/** The listen addresses libp2p gets: the configured ones plus a `/p2p-circuit` per relay to reserve on. */
export function listenAddresses(config: NetworkConfig): string[] {
  return [...config.listen, ...config.relay.listenVia.map((relay) => `${relay}/p2p-circuit`)]
}

/**
 * `tcp()`, or with `nat.punchPort` set the hole-punching wrapper around it: DCUtR's punch dials and
 * dials to the `relay.listenVia` relays leave from the punch port (see src/nat/punch-port-tcp.ts).
 */
function tcpTransport(config: NetworkConfig): (components: Parameters<ReturnType<typeof tcp>>[0] & { peerId: { toString(): string } }) => Transport {
  if (config.nat.punchPort === 0) return tcp()
  return punchPortTransport(tcp(), config.nat.punchPort, config.relay.listenVia.map((relay) => multiaddr(relay)))
}

export function libp2pOptions(config: NetworkConfig, components: BuildNodeComponents): Libp2pOptions<Record<string, unknown>> {
  const relayServer = config.relay.server
  const services: Record<string, unknown> = {
    identify: identify(),
    ping: ping({ maxOutboundStreams: PING_MAX_OUTBOUND_STREAMS }),
    ...discoveryServices({ dhtMode: config.dhtMode, addressScope: config.addressScope, mdns: config.mdns }).services,
    // AutoNAT v2 (client and server, every role). Not v1: js-libp2p 3.3's v1 server "dials back" with
    // openConnection(requester), which returns the connection the request came on, and closes it before
    // answering: every request cost the requester that connection (a node's relay reservation with it)
    // and no verdict ever arrived (lab/README.md). The v2 server dials back on a new connection
    // (`force: true`) and closes only that one.
    autoNAT: autoNATv2(),
    dcutr: dcutr(),
  }
  if (config.role === 'relay') {
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: relayServer.maxReservations,
        reservationTtl: relayServer.reservationTtlMs,
        // libp2p's default limit (128 KiB, 2 min per relayed connection) is too small for cpc traffic;
        // the configured limits apply instead.
        applyDefaultLimit: false,
        defaultDataLimit: BigInt(relayServer.maxBytesPerConnection),
        defaultDurationLimit: relayServer.maxDurationMs,
      },
    })
  }
  return {
    privateKey: components.privateKey,
    addresses: {
      listen: listenAddresses(config),
      announce: config.announce,
      ...(config.nat.announce.length > 0 ? { appendAnnounce: config.nat.announce } : {}),
    },
    transports: [tcpTransport(config), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    // The stream window caps the bytes in flight per stream: the router's priorities decide what
    // goes next only for what is not yet handed to yamux (see DEFAULT_MAX_STREAM_WINDOW_BYTES).
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: config.connections.maxStreamWindowBytes } })],
    services: services as Libp2pOptions['services'],
    connectionManager: {
      maxConnections: config.connections.maxConnections,
      inboundConnectionThreshold: config.connections.inboundConnectionThreshold,
      maxIncomingPendingConnections: config.connections.maxIncomingPendingConnections,
    },
    // A relay that is down at start must not stop the node: its reservation is retried by libp2p.
    transportManager: { faultTolerance: config.relay.listenVia.length > 0 ? FaultTolerance.NO_FATAL : FaultTolerance.FATAL_ALL },
    // libp2p's metrics (on components.registry) are added by buildLibp2p, which loads
    // @cpc/observability only then.
    start: false,
  }
}

/** Creates (not starts) the libp2p node; with a data dir its peer store lives in <dataDir>/datastore. */
export async function buildLibp2p(config: NetworkConfig, components: BuildNodeComponents): Promise<BuiltNode> {
  const options = libp2pOptions(config, components)
  if (components.registry !== undefined) {
    const { libp2pMetrics } = await import('@cpc/observability')
    options.metrics = libp2pMetrics(components.registry)
  }
  let datastore: LevelDatastore | undefined
  if (config.dataDir !== undefined) {
    const location = path.join(config.dataDir, DATASTORE_DIR)
    await mkdir(location, { recursive: true })
    // Loaded only with a data dir: an in-memory node never needs it (idle memory, P6).
    const { LevelDatastore } = await import('datastore-level')
    datastore = new LevelDatastore(location)
    await datastore.open()
    options.datastore = datastore
  }
  try {
    const libp2p = (await createLibp2p(options)) as unknown as Libp2p
    return { libp2p, closeDatastore: async () => datastore?.close() }
  } catch (err) {
    await datastore?.close()
    throw err
  }
}
