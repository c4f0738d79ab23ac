// The node process's gRPC server over real sockets on 127.0.0.1: reflection lists every service,
// health answers SERVING, NodeService and the component services answer, errors map to statuses
// in one middleware, and the bearer token is enforced (required off loopback).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { SERVICE_NAMES, connectionManagerApi, discoveryApi, nodeApi, protocolApi, scoringApi, routerApi, PROTOCOL_ID } from '@cpc/protocol'
import { Metadata, Status, createChannel, createClient, type Channel } from 'nice-grpc'
import { HealthDefinition, HealthCheckResponse_ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js'
import { parseAppConfig } from '../src/app-config.js'
import { NetworkHandler } from '../src/network-handler.js'
import { NodeGrpcServer } from '../src/server/grpc-server.js'
import { NodeProcess } from '../src/server/node-process.js'
import { noopLogger } from '@cpc/observability'
import { fileContainingSymbol, listServices } from './helpers/reflection.js'

const TOKEN = 'test-token-0123456789abcdef'
const quiet = { logger: noopLogger }

function loopback(address: string): string {
  return `127.0.0.1:${address.split(':').at(-1)}`
}

describe('node gRPC server', () => {
  let node: NodeProcess
  let channel: Channel

  beforeAll(async () => {
    node = await NodeProcess.start(parseAppConfig('node', { grpc: { bind: '127.0.0.1:0' }, metrics: { enabled: false } }), quiet)
    channel = createChannel(node.grpc!.address!)
  })
  afterAll(async () => {
    channel?.close()
    await node?.stop()
  })

  it('lists every cpc service through reflection, and can describe each', async () => {
    const names = await listServices(node.grpc!.address!)
    expect(names.sort()).toEqual([...SERVICE_NAMES].sort())
    for (const name of SERVICE_NAMES) expect(await fileContainingSymbol(node.grpc!.address!, name)).toBeGreaterThan(0)
  })

  it('health Check answers SERVING for the server and each service', async () => {
    const health = createClient(HealthDefinition, channel)
    expect((await health.check({ service: '' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING)
    expect((await health.check({ service: 'cpc.node.v1.NodeService' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING)
  })

  it('NodeService, ProtocolService, ScoringService and RouterService answer', async () => {
    const status = await createClient(nodeApi.NodeServiceDefinition, channel).getStatus({})
    expect(status.peerId).toBe(node.handler.peerId.toString())
    expect(status.listenAddrs.length).toBeGreaterThan(0)
    expect((await createClient(protocolApi.ProtocolServiceDefinition, channel).getProtocolInfo({})).protocolId).toBe(PROTOCOL_ID)
    expect((await createClient(scoringApi.ScoringServiceDefinition, channel).listScores({ limit: 0 })).scores).toEqual([])
    expect((await createClient(connectionManagerApi.ConnectionManagerServiceDefinition, channel).listConnections({})).peers).toEqual([])
    expect((await createClient(discoveryApi.DiscoveryServiceDefinition, channel).listKnownPeers({ source: 0 })).peers).toEqual([])
    // RouterService validates before routing: a bad peer id is INVALID_ARGUMENT through the same middleware.
    await expect(createClient(routerApi.RouterServiceDefinition, channel).send({ peerId: 'x', payload: new Uint8Array([1]), priority: 1, messageType: 0, ttlMs: 0 })).rejects.toMatchObject({
      code: Status.INVALID_ARGUMENT,
    })
  })

  it('maps errors of every package to gRPC statuses in one place', async () => {
    const nodeClient = createClient(nodeApi.NodeServiceDefinition, channel)
    await expect(nodeClient.sendMessage({ peerId: 'not-a-peer', payload: new Uint8Array([1]), priority: 1 })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT })
    const scoring = createClient(scoringApi.ScoringServiceDefinition, channel)
    await expect(scoring.getPeerScore({ peerId: '12D3KooWPnDQcSLnaUinkyACQfKcRRiKow34YRVrvtU5ZRjNoKMs' })).rejects.toMatchObject({ code: Status.NOT_FOUND })
    await expect(scoring.getPeerScore({ peerId: '' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT })
  })
})

describe('gRPC bearer auth', () => {
  let handler: NetworkHandler
  let server: NodeGrpcServer
  let channel: Channel

  beforeAll(async () => {
    handler = await NetworkHandler.create({})
    await handler.start()
    // Bound on every interface, but every call below goes to 127.0.0.1: nothing leaves loopback.
    server = new NodeGrpcServer(handler, { bind: '0.0.0.0:0', token: TOKEN })
    channel = createChannel(loopback(await server.listen()))
  })
  afterAll(async () => {
    channel?.close()
    await server?.stop()
    await handler?.stop()
  })

  it('refuses a non-loopback bind without a token, before listening', async () => {
    expect(() => new NodeGrpcServer(handler, { bind: '0.0.0.0:0' })).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_BIND' }))
    expect(() => new NodeGrpcServer(handler, { bind: '[::]:0' })).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_BIND' }))
    expect(() => parseAppConfig('node', { grpc: { bind: '0.0.0.0:50051' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONFIG', field: 'config.grpc.token' }))
    // Loopback binds need no token.
    expect(() => new NodeGrpcServer(handler, { bind: '127.0.0.2:0' })).not.toThrow()
    expect(() => new NodeGrpcServer(handler, { bind: '[::1]:0' })).not.toThrow()
  })

  it('answers UNAUTHENTICATED without the token or with a wrong one, OK with it', async () => {
    const client = createClient(nodeApi.NodeServiceDefinition, channel)
    await expect(client.getStatus({})).rejects.toMatchObject({ code: Status.UNAUTHENTICATED })
    await expect(client.getStatus({}, { metadata: Metadata({ authorization: 'Bearer wrong-token-0123456789' }) })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED })
    await expect(client.getStatus({}, { metadata: Metadata({ authorization: TOKEN }) })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED })
    const status = await client.getStatus({}, { metadata: Metadata({ authorization: `Bearer ${TOKEN}` }) })
    expect(status.peerId).toBe(handler.peerId.toString())
  })

  it('guards reflection and streams too, but leaves health open for probes', async () => {
    const address = loopback(server.address!)
    await expect(listServices(address)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED })
    expect(await listServices(address, TOKEN)).toContain('cpc.node.v1.NodeService')
    const events = createClient(nodeApi.NodeServiceDefinition, channel).subscribe({ kinds: [] })
    await expect(events[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Status.UNAUTHENTICATED })
    const health = createClient(HealthDefinition, channel)
    expect((await health.check({ service: '' })).status).toBe(HealthCheckResponse_ServingStatus.SERVING)
  })
})
