// One gRPC server for a node: NodeService and every component's service (scoring, connection
// manager, discovery, router, protocol), grpc.health.v1 and server reflection (v1 and v1alpha, so
// grpcurl and grpc_cli work without .proto files). Middleware, outermost first: bearer auth (when a
// token is set), then the one error mapping (errors.ts).
import { createConnectionManagerService } from '@cpc/connection-manager'
import { createDiscoveryService } from '@cpc/discovery'
import {
  SERVICE_NAMES,
  connectionManagerApi,
  createProtocolService,
  descriptorSet,
  discoveryApi,
  nodeApi,
  protocolApi,
  routerApi,
  scoringApi,
} from '@cpc/protocol'
import { createRouterService } from '@cpc/router'
import { createScoringService } from '@cpc/scoring'
import { createServer, type Server } from 'nice-grpc'
import { HealthDefinition, HealthServiceImpl, HealthState, type HealthState as HealthStateT } from 'nice-grpc-server-health'
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection'
import type { NetworkHandler } from '../network-handler.js'
import { createNodeService } from '../service.js'
import { formatHostPort, isLoopbackHost, parseHostPort } from './address.js'
import { bearerAuthMiddleware } from './auth.js'
import { grpcErrorMiddleware } from './errors.js'
import { NetworkError } from '../errors.js'

/** Time stop() lets in-flight unary calls finish before cancelling what is left (Subscribe streams never end on their own). */
export const GRPC_SHUTDOWN_GRACE_MS = 1000

export interface NodeGrpcServerInit {
  /** host:port (port 0: OS-chosen). Default 127.0.0.1:0. */
  bind?: string
  /** Required when `bind` is not loopback; then every call but health needs `authorization: Bearer <token>`. */
  token?: string
  /** Events buffered per Subscribe stream (NodeService and RouterService). */
  subscribeBuffer?: number
}

/** Fully qualified names of every service the server mounts (reflection lists the cpc ones). */
export const GRPC_SERVICE_NAMES = [...SERVICE_NAMES, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'] as const

/** The grpc.reflection.v1alpha service: same messages as v1 under the older name (older grpcurl/grpc_cli). */
const ServerReflectionV1AlphaService = {
  serverReflectionInfo: { ...ServerReflectionService.serverReflectionInfo, path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo' },
} as unknown as typeof ServerReflectionService

export class NodeGrpcServer {
  readonly health: HealthStateT
  readonly #server: Server
  readonly #bind: string
  #address: string | undefined

  constructor(handler: NetworkHandler, init: NodeGrpcServerInit = {}) {
    this.#bind = init.bind ?? '127.0.0.1:0'
    const bind = parseHostPort(this.#bind)
    if (bind === undefined) throw new NetworkError('ERR_INVALID_CONFIG', `grpc.bind: expected host:port, got '${this.#bind}'`)
    if (!isLoopbackHost(bind.host) && (init.token === undefined || init.token === '')) {
      throw new NetworkError('ERR_INSECURE_BIND', `grpc.bind ${this.#bind} is not loopback: a grpc.token is required`)
    }
    let server = createServer()
    if (init.token !== undefined && init.token !== '') server = server.use(bearerAuthMiddleware(init.token)) as unknown as Server
    server = server.use(grpcErrorMiddleware) as unknown as Server
    this.#server = server

    const parts = handler.parts
    const cfg = handler.config
    const buffer = init.subscribeBuffer === undefined ? {} : { subscribeBuffer: init.subscribeBuffer }
    server.add(nodeApi.NodeServiceDefinition, createNodeService(handler, buffer))
    server.add(scoringApi.ScoringServiceDefinition, createScoringService(parts.scorer))
    server.add(connectionManagerApi.ConnectionManagerServiceDefinition, createConnectionManagerService(parts.connectionManager))
    server.add(discoveryApi.DiscoveryServiceDefinition, createDiscoveryService(parts.discovery))
    server.add(routerApi.RouterServiceDefinition, createRouterService(parts.router, buffer))
    server.add(protocolApi.ProtocolServiceDefinition, createProtocolService(stripUndefined(cfg.protocol)))

    this.health = HealthState()
    server.add(HealthDefinition, HealthServiceImpl(this.health))
    const reflection = ServerReflection(descriptorSet(), SERVICE_NAMES)
    server.add(ServerReflectionService, reflection)
    server.add(ServerReflectionV1AlphaService, reflection)
  }

  /** The bound host:port once listening (the real port when bind asked for 0). */
  get address(): string | undefined {
    return this.#address
  }

  async listen(): Promise<string> {
    if (this.#address !== undefined) return this.#address
    const { host } = parseHostPort(this.#bind)!
    const port = await this.#server.listen(this.#bind)
    this.#address = formatHostPort(host, port)
    this.#setHealth('healthy')
    return this.#address
  }

  /** Health NOT_SERVING, then a graceful shutdown bounded by GRPC_SHUTDOWN_GRACE_MS, then cancel the rest. */
  async stop(): Promise<void> {
    this.#setHealth('unhealthy')
    let timer: ReturnType<typeof setTimeout> | undefined
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), GRPC_SHUTDOWN_GRACE_MS)
    })
    const result = await Promise.race([this.#server.shutdown().then(() => 'done' as const), grace])
    clearTimeout(timer)
    if (result === 'timeout') this.#server.forceShutdown()
    this.#address = undefined
  }

  #setHealth(status: 'healthy' | 'unhealthy'): void {
    this.health.setStatus(status)
    for (const name of SERVICE_NAMES) this.health.setStatus(status, name)
  }
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never
}
