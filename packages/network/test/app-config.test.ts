// Config of the cpc-net processes: precedence flags > env > file > role defaults, JSON and YAML
// files, and errors that name the field and where the bad value came from.
import { describe, expect, it } from '@jest/globals'
import { APP_DEFAULTS, appUsage, loadAppConfig, parseAppConfig } from '../src/app-config.js'
import { isLoopbackHost, parseHostPort } from '../src/server/address.js'
import { ConfigError } from '../src/errors.js'

const RELAY = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWPnDQcSLnaUinkyACQfKcRRiKow34YRVrvtU5ZRjNoKMs'

function files(map: Record<string, string>): (p: string) => Promise<string> {
  return async (p) => {
    if (!(p in map)) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' })
    return map[p]!
  }
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('loadAppConfig', () => {
  it('fills role defaults: loopback gRPC and metrics ports per role, higher connection limits on bootstrap and relay', async () => {
    const node = (await loadAppConfig({ role: 'node', argv: [], env: {} })).config
    expect(node.grpc).toEqual({ enabled: true, bind: '127.0.0.1:50051' })
    expect(node.metrics.bind).toBe('127.0.0.1:9464')
    expect(node.networkConfig.role).toBe('node')
    const boot = (await loadAppConfig({ role: 'bootstrap', argv: [], env: {} })).config
    expect(boot.grpc.bind).toBe(APP_DEFAULTS.bootstrap.grpcBind)
    expect(boot.networkConfig).toMatchObject({ role: 'bootstrap', connections: { maxConnections: 1200 } })
    const relay = (await loadAppConfig({ role: 'relay', argv: [], env: {} })).config
    expect(relay.networkConfig).toMatchObject({ role: 'relay', connections: { maxConnections: 1000 } })
  })

  it('applies flags over env over file over defaults', async () => {
    const readTextFile = files({ '/c.json': JSON.stringify({ name: 'from-file', log: { level: 'warn' }, grpc: { bind: '127.0.0.1:1' }, metrics: { bind: '127.0.0.1:2' }, network: { connections: { high: 90 } } }) })
    const { config } = await loadAppConfig({
      role: 'node',
      argv: ['--config', '/c.json', '--grpc', '127.0.0.1:3', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/tcp/5,/ip4/127.0.0.1/tcp/6', '--set', 'network.connections.low=7'],
      env: { CPC_GRPC_BIND: '127.0.0.1:4', CPC_LOG_LEVEL: 'debug', CPC_METRICS_BIND: '127.0.0.1:8', CPC_BOOTSTRAP: `${RELAY}, ${RELAY}` },
      readTextFile,
    })
    expect(config.name).toBe('from-file')
    expect(config.log.level).toBe('debug')
    expect(config.grpc.bind).toBe('127.0.0.1:3')
    expect(config.metrics.bind).toBe('127.0.0.1:8')
    expect(config.networkConfig).toMatchObject({
      listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/5', '/ip4/127.0.0.1/tcp/6'],
      bootstrap: [RELAY, RELAY],
      connections: { high: 90, low: 7 },
    })
  })

  it('reads CPC_CONFIG and YAML files, and data dir from --data-dir', async () => {
    const readTextFile = files({ '/c.yaml': 'name: yaml-node\ngrpc:\n  bind: "127.0.0.1:0"\nnetwork:\n  groups: [friends]\n' })
    const { config } = await loadAppConfig({ role: 'node', argv: ['--data-dir', '/tmp/x'], env: { CPC_CONFIG: '/c.yaml' }, readTextFile })
    expect(config).toMatchObject({ name: 'yaml-node', dataDir: '/tmp/x', grpc: { bind: '127.0.0.1:0' } })
    expect(config.networkConfig).toMatchObject({ dataDir: '/tmp/x', groups: ['friends'] })
  })

  it('names the field and the source of a bad value: flag, env, file', async () => {
    const flag = await configError(loadAppConfig({ role: 'node', argv: ['--grpc', 'localhost'], env: {} }))
    expect(flag.field).toBe('config.grpc.bind')
    expect(flag.message).toBe('config.grpc.bind: expected host:port (e.g. 127.0.0.1:50051, [::1]:0) (from --grpc)')

    const env = await configError(loadAppConfig({ role: 'relay', argv: [], env: { CPC_RELAY_MAX_RESERVATIONS: 'many' } }))
    expect(env.field).toBe('config.network.relay.server.maxReservations')
    expect(env.message).toContain('(from CPC_RELAY_MAX_RESERVATIONS)')

    const file = await configError(loadAppConfig({ role: 'node', argv: ['--config', '/c.json'], env: {}, readTextFile: files({ '/c.json': '{"network":{"listen":["nope"]},"grpc":{"port":1}}' }) }))
    expect(file.issues.map((i) => i.field).sort()).toEqual(['config.grpc.port'])
    const file2 = await configError(loadAppConfig({ role: 'node', argv: ['--config', '/c.json'], env: {}, readTextFile: files({ '/c.json': '{"network":{"listen":["nope"]}}' }) }))
    expect(file2.message).toBe('config.network.listen[0]: not a multiaddr (from /c.json)')

    const net = await configError(loadAppConfig({ role: 'node', argv: ['--bootstrap', '/ip4/127.0.0.1/tcp/1'], env: {} }))
    expect(net.message).toBe('config.network.bootstrap[0]: must end with /p2p/<peer id> (from --bootstrap)')
  })

  it('rejects unknown flags, unreadable or malformed files, and a role the app is not', async () => {
    expect((await configError(loadAppConfig({ role: 'node', argv: ['--bogus'], env: {} }))).field).toBe('argv')
    // --max-reservations is a relay flag only.
    expect((await configError(loadAppConfig({ role: 'node', argv: ['--max-reservations', '3'], env: {} }))).field).toBe('argv')
    expect((await configError(loadAppConfig({ role: 'node', argv: ['--config', '/missing.json'], env: {}, readTextFile: files({}) }))).message).toContain('cannot read config file /missing.json: ENOENT')
    expect((await configError(loadAppConfig({ role: 'node', argv: ['--config', '/c.json'], env: {}, readTextFile: files({ '/c.json': '{' }) }))).message).toContain('/c.json is not valid JSON')
    expect((await configError(loadAppConfig({ role: 'node', argv: ['--config', '/c.json'], env: {}, readTextFile: files({ '/c.json': '[1]' }) }))).message).toContain('must hold an object')
    expect((await configError(loadAppConfig({ role: 'relay', argv: ['--set', 'network.role="node"'], env: {} }))).field).toBe('config.network.role')
    expect((await configError(loadAppConfig({ role: 'node', argv: [], env: { CPC_MDNS: 'maybe' } }))).field).toBe('config.network.mdns')
  })

  it('requires a gRPC token off loopback, and a long enough one', async () => {
    const e = await configError(loadAppConfig({ role: 'node', argv: ['--grpc', '0.0.0.0:50051'], env: {} }))
    expect(e.field).toBe('config.grpc.token')
    expect(e.message).toContain('required when grpc.bind is not a loopback address (0.0.0.0:50051)')
    expect((await configError(loadAppConfig({ role: 'node', argv: ['--grpc', '0.0.0.0:1'], env: { CPC_GRPC_TOKEN: 'short' } }))).field).toBe('config.grpc.token')
    const ok = await loadAppConfig({ role: 'node', argv: ['--grpc', '0.0.0.0:1'], env: { CPC_GRPC_TOKEN: 'a-long-enough-token-123' } })
    expect(ok.config.grpc.token).toBe('a-long-enough-token-123')
    // Disabled gRPC needs no token.
    expect(parseAppConfig('node', { grpc: { enabled: false, bind: '0.0.0.0:1' } }).grpc.enabled).toBe(false)
    expect((await loadAppConfig({ role: 'node', argv: ['--no-grpc'], env: {} })).config.grpc.enabled).toBe(false)
  })

  it('--help is reported, and the usage lists each flag with its env var', async () => {
    expect((await loadAppConfig({ role: 'relay', argv: ['--help'], env: {} })).help).toBe(true)
    const usage = appUsage('cpc-relay', 'relay')
    expect(usage).toContain('--max-reservations VALUE')
    expect(usage).toContain('CPC_RELAY_MAX_RESERVATIONS')
    expect(appUsage('cpc-node', 'node')).not.toContain('--max-reservations')
  })
})

describe('host:port and loopback', () => {
  it('parses host:port with IPv6 brackets, rejects the rest', () => {
    expect(parseHostPort('127.0.0.1:50051')).toEqual({ host: '127.0.0.1', port: 50051 })
    expect(parseHostPort('[::1]:0')).toEqual({ host: '::1', port: 0 })
    expect(parseHostPort('localhost:9464')).toEqual({ host: 'localhost', port: 9464 })
    for (const bad of ['localhost', ':80', '1.2.3.4:70000', '[nothex]:1', '::1:80', 'a b:1']) expect(parseHostPort(bad)).toBeUndefined()
  })

  it('counts 127.0.0.0/8, ::1 and localhost as loopback; 0.0.0.0, :: and others not', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', '127.255.0.9', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h)).toBe(true)
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '128.0.0.1', '::2']) expect(isLoopbackHost(h)).toBe(false)
  })
})
