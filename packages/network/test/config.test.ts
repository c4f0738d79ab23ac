// NetworkConfig validation: defaults, role-derived settings, and errors naming the bad field.
import { describe, expect, it } from '@jest/globals'
import { parseConfig } from '../src/config.js'
import { ConfigError } from '../src/errors.js'

const PEER = '12D3KooWGRUVh9SScstDSVtngkP2Y8xkovJJWJXAQdKV2xRgDuZE'

function configError(input: unknown): ConfigError {
  try {
    parseConfig(input)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('parseConfig', () => {
  it('fills in defaults for an empty config', () => {
    const c = parseConfig({})
    expect(c.dataDir).toBeUndefined()
    expect(c.listen).toEqual(['/ip4/127.0.0.1/tcp/0'])
    expect(c.role).toBe('node')
    expect(c.dhtMode).toBe('auto')
    expect(c.addressScope).toBe('public')
    expect(c.mdns).toBe(false)
    expect(c.relay.listenVia).toEqual([])
    expect(c.relay.server.maxReservations).toBeGreaterThan(0)
    expect(c.connections.low).toBeLessThanOrEqual(c.connections.high)
    expect(c.router.defaultTtlMs).toBeGreaterThan(0)
    expect(c.groups).toEqual([])
    expect(parseConfig(undefined)).toEqual(c)
  })

  it('derives DHT server mode from the bootstrap and relay roles unless set', () => {
    expect(parseConfig({ role: 'bootstrap' }).dhtMode).toBe('server')
    expect(parseConfig({ role: 'relay' }).dhtMode).toBe('server')
    expect(parseConfig({ role: 'relay', dhtMode: 'client' }).dhtMode).toBe('client')
    expect(parseConfig({ role: 'node', dhtMode: 'server' }).dhtMode).toBe('server')
  })

  it('accepts a full config', () => {
    const c = parseConfig({
      dataDir: '/tmp/x',
      listen: ['/ip4/0.0.0.0/tcp/4001'],
      announce: ['/ip4/203.0.113.7/tcp/4001'],
      bootstrap: [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`],
      role: 'relay',
      addressScope: 'private',
      relay: { listenVia: [`/ip4/10.0.0.2/tcp/4001/p2p/${PEER}`], server: { maxReservations: 3, maxBytesPerConnection: 1024, maxDurationMs: 1000 } },
      connections: { low: 5, high: 10, backoff: { baseMs: 100 } },
      router: { defaultTtlMs: 5000, broadcastTtl: 4, outbox: { maxEntries: 10 } },
      protocol: { maxFrameBytes: 65536, chunkBytes: 16384 },
      groups: ['players'],
      scoring: { retentionMs: 1000 },
    })
    expect(c.relay.server).toMatchObject({ maxReservations: 3, maxBytesPerConnection: 1024, maxDurationMs: 1000 })
    expect(c.relay.server.reservationTtlMs).toBeGreaterThan(0)
    expect(c.router.outbox.maxEntries).toBe(10)
  })

  it('names a listen address that is not a multiaddr', () => {
    const err = configError({ listen: ['/ip4/127.0.0.1/tcp/0', 'localhost:4001'] })
    expect(err.code).toBe('ERR_INVALID_CONFIG')
    expect(err.field).toBe('config.listen[1]')
    expect(err.message).toBe('config.listen[1]: not a multiaddr')
  })

  it('requires /p2p/<id> on bootstrap and relay addresses', () => {
    expect(configError({ bootstrap: ['/ip4/10.0.0.1/tcp/4001'] }).message).toBe('config.bootstrap[0]: must end with /p2p/<peer id>')
    expect(configError({ relay: { listenVia: ['nope'] } }).message).toBe('config.relay.listenVia[0]: not a multiaddr')
  })

  it('names an unknown role, a bad enum and a wrong type', () => {
    expect(configError({ role: 'server' }).field).toBe('config.role')
    expect(configError({ addressScope: 'lan' }).field).toBe('config.addressScope')
    expect(configError({ mdns: 'yes' }).field).toBe('config.mdns')
    expect(configError({ listen: '/ip4/127.0.0.1/tcp/0' }).field).toBe('config.listen')
  })

  it('names nested numeric fields and cross-field rules', () => {
    expect(configError({ connections: { high: 0 } }).field).toBe('config.connections.high')
    expect(configError({ connections: { low: 20, high: 10 } }).message).toBe('config.connections.low: low must not exceed high')
    expect(configError({ relay: { server: { maxBytesPerConnection: 1.5 } } }).field).toBe('config.relay.server.maxBytesPerConnection')
    expect(configError({ protocol: { maxFrameBytes: -1 } }).field).toBe('config.protocol.maxFrameBytes')
  })

  it('rejects unknown fields by name (typos do not pass silently)', () => {
    const err = configError({ lisen: ['/ip4/127.0.0.1/tcp/0'], relay: { sever: {} } })
    expect(err.issues.map((i) => i.field).sort()).toEqual(['config.lisen', 'config.relay.sever'])
    expect(err.issues.every((i) => i.message === 'unknown field')).toBe(true)
  })

  it('reports every issue at once', () => {
    const err = configError({ dataDir: '', groups: [''], role: 1 })
    expect(err.issues.map((i) => i.field).sort()).toEqual(['config.dataDir', 'config.groups[0]', 'config.role'])
    expect(err.message.split('; ')).toHaveLength(3)
  })
})

describe('performance knobs (router limits, libp2p pending connections, yamux window)', () => {
  it('defaults and maps them', async () => {
    const { routerInit } = await import('../src/components.js')
    const { libp2pOptions } = await import('../src/libp2p-node.js')
    const { generateKeyPair } = await import('@libp2p/crypto/keys')
    const { MessageType, Priority } = await import('@cpc/protocol')
    const c = parseConfig({})
    expect(c.connections.maxIncomingPendingConnections).toBe(64)
    expect(c.connections.maxStreamWindowBytes).toBe(512 * 1024)
    expect(routerInit(c).rateLimits).toBeUndefined()
    const big = parseConfig({ router: { maxPayloadBytes: 64 * 2 ** 20, rateLimits: { event: { low: { ratePerSec: 1e6, burst: 1e6 } } } } })
    const init = routerInit(big)
    expect(init.maxPayloadBytes).toBe(64 * 2 ** 20)
    expect(init.peerQueueMaxBytes).toBe(80 * 2 ** 20)
    expect(init.rateLimits).toEqual({ [MessageType.EVENT]: { [Priority.LOW]: { ratePerSec: 1e6, burst: 1e6 } } })
    const opts = libp2pOptions(c, { privateKey: await generateKeyPair('Ed25519') })
    expect(opts.connectionManager?.maxIncomingPendingConnections).toBe(64)
  })

  it('refuses a stream window below yamux minimum and unknown rate-limit keys', () => {
    expect(() => parseConfig({ connections: { maxStreamWindowBytes: 1024 } })).toThrow(/maxStreamWindowBytes/)
    expect(() => parseConfig({ router: { rateLimits: { event: { urgent: { ratePerSec: 1, burst: 1 } } } } })).toThrow(/urgent/)
  })
})
